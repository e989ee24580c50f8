import { describe, expect, it } from 'vitest';
import type { Workflow } from '../api/types';
import { TRIGGER_ID, findStep, walkSteps } from '../model';
import { GROUP_HEADER, NODE_HEIGHT, NODE_WIDTH, applyAutoLayout, autoLayout, groupSizes, layoutGraph, layoutPositions } from './layout';
import { toGraph } from './mapping';
import { example, exampleFiles, testCatalog } from './testutil';

const catalog = testCatalog();

describe('autoLayout', () => {
  for (const [file, text] of exampleFiles()) {
    it(`places every node of ${file}, the trigger on top`, () => {
      const wf = JSON.parse(text) as Workflow;
      const pos = autoLayout(wf, catalog);
      walkSteps(wf, (l) => {
        const p = pos[l.step.id];
        expect(p, l.step.id).toBeDefined();
        expect(Number.isInteger(p.x) && Number.isInteger(p.y)).toBe(true);
        if (!l.parent) expect(p.y).toBeGreaterThan(pos[TRIGGER_ID].y);
      });
      // the workflow is not touched
      expect(JSON.stringify(wf)).toBe(JSON.stringify(JSON.parse(text)));
    });
  }

  it('lays out top to bottom along the edges', () => {
    const wf = example('tag-senior-applicants.json');
    const pos = autoLayout(wf, catalog);
    expect(pos.opp.y).toBeGreaterThan(pos[TRIGGER_ID].y);
    expect(pos.senior.y).toBeGreaterThan(pos.opp.y);
    expect(pos.tag.y).toBeGreaterThan(pos.senior.y);
  });

  it('sizes fanout groups to hold their children, placed relative to the group', () => {
    const wf = example('score-candidates.json');
    const { positions, groupSizes: sizes } = layoutGraph(wf, catalog);
    const size = sizes.score;
    expect(size).toBeDefined();
    const child = positions.points;
    expect(child.y).toBeGreaterThanOrEqual(GROUP_HEADER);
    expect(child.x).toBeGreaterThan(0);
    expect(child.x + NODE_WIDTH).toBeLessThanOrEqual(size.width);
    expect(child.y + NODE_HEIGHT).toBeLessThanOrEqual(size.height);
    expect(groupSizes(wf, catalog)).toEqual(sizes);
    // the step after the fanout is below the whole group
    expect(positions.best.y).toBeGreaterThanOrEqual(positions.score.y + size.height);
  });

  it('places an empty fanout as a minimum-size group', () => {
    const wf: Workflow = { name: 'w', trigger: { type: 'api' }, steps: [{ id: 'each', type: 'fanout', input: {}, steps: [], edges: [] }] };
    expect(groupSizes(wf, catalog).each.width).toBeGreaterThanOrEqual(NODE_WIDTH);
  });

  it('layoutPositions leaves out stored positions', () => {
    const wf = example('tag-senior-applicants.json');
    wf.steps[1].position = { x: 5, y: 5 };
    const pos = layoutPositions(wf, catalog);
    expect(pos.senior).toBeUndefined();
    expect(pos.opp).toBeDefined();
    expect(pos[TRIGGER_ID]).toBeDefined();
  });

  it('applyAutoLayout writes a position on every step and nothing else', () => {
    const wf = example('score-candidates.json');
    const laid = applyAutoLayout(wf, catalog);
    const pos = autoLayout(wf, catalog);
    walkSteps(laid, (l) => expect(l.step.position).toEqual(pos[l.step.id]));
    expect('position' in laid.trigger).toBe(false);
    // removing the positions gives the original back
    const strip = JSON.parse(JSON.stringify(laid, (k, v) => (k === 'position' ? undefined : v))) as Workflow;
    expect(JSON.stringify(strip)).toBe(JSON.stringify(wf));
    expect(applyAutoLayout(laid, catalog)).toBe(laid);
    // and the graph shows the same places as before
    const before = toGraph(wf, catalog).nodes.map((n) => [n.id, n.position]);
    const after = toGraph(laid, catalog).nodes.map((n) => [n.id, n.position]);
    expect(after).toEqual(before);
    expect(findStep(laid, 'points')?.step.position).toEqual(pos.points);
  });
});

describe('layout details', () => {
  it('keeps branch targets in branch order, left to right', () => {
    const pos = autoLayout(example('score-candidates.json'), catalog);
    expect(pos.shortlist.x).toBeLessThan(pos.nobody.x); // true, then false
    const rs = autoLayout(example('route-by-stage.json'), catalog);
    expect(rs.congratulate.x).toBeLessThan(rs.note.x); // offer, then default
  });

  it('grows a group for the stored positions of its body, except for applyAutoLayout', () => {
    const wf = example('score-candidates.json');
    const inner = findStep(wf, 'points')!.step;
    inner.position = { x: 24, y: 400 };
    const sizes = groupSizes(wf, catalog);
    expect(sizes.score.height).toBeGreaterThanOrEqual(400 + NODE_HEIGHT);
    const pos = autoLayout(wf, catalog);
    expect(pos.best.y).toBeGreaterThanOrEqual(pos.score.y + sizes.score.height);
    const laid = applyAutoLayout(wf, catalog);
    expect(findStep(laid, 'points')?.step.position?.y).toBe(GROUP_HEADER);
  });
});
