import { describe, expect, it } from 'vitest';
import type { Step, Workflow } from '../api/types';
import { TRIGGER_ID, findStep, walkSteps } from '../model';
import {
  addStep,
  caseBranchRenames,
  connect,
  copySteps,
  disconnect,
  edgeIdsOf,
  implicitEdgeId,
  keyboardMoves,
  moveStep,
  moveSteps,
  pasteSteps,
  removeSteps,
  renameBranch,
  renameStep,
  rewriteTemplate,
  toGraph,
  type FlowNode,
  type StepNodeData,
} from './mapping';
import { layoutPositions } from './layout';
import { example, exampleFiles, testCatalog } from './testutil';

const catalog = testCatalog();

function countSteps(wf: Workflow): { steps: number; edges: number } {
  let steps = 0;
  let edges = (wf.edges ?? []).length;
  walkSteps(wf, (l) => {
    steps++;
    edges += (l.step.edges ?? []).length;
  });
  return { steps, edges };
}

function node(nodes: FlowNode[], id: string): FlowNode {
  const n = nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id}`);
  return n;
}

function hasPosition(wf: Workflow): boolean {
  let found = false;
  walkSteps(wf, (l) => {
    if (l.step.position) found = true;
  });
  return found || 'position' in wf.trigger;
}

const tiny = (): Workflow => ({
  name: 'tiny',
  trigger: { type: 'api' },
  steps: [
    { id: 'a', type: 'transform', input: { value: 1 } },
    { id: 'b', type: 'transform', input: { value: '<<steps.a>>' } },
    { id: 'c', type: 'transform', input: { value: '<<steps.b.x>>' } },
  ],
  edges: [
    { from: 'a', to: 'b' },
    { from: 'b', to: 'c' },
  ],
});

describe('toGraph on the examples', () => {
  const files = exampleFiles();

  it('finds the examples', () => {
    expect(files.map(([f]) => f)).toEqual(['lever-users-directory.json', 'route-by-stage.json', 'score-candidates.json', 'tag-senior-applicants.json']);
  });

  for (const [file, text] of files) {
    describe(file, () => {
      const wf = JSON.parse(text) as Workflow;
      const { nodes, edges } = toGraph(wf, catalog, { positions: layoutPositions(wf, catalog) });

      it('has one node per step plus the trigger', () => {
        const { steps } = countSteps(wf);
        expect(nodes).toHaveLength(steps + 1);
        expect(nodes.filter((n) => n.type === 'trigger').map((n) => n.id)).toEqual([TRIGGER_ID]);
        expect(new Set(nodes.map((n) => n.id)).size).toBe(nodes.length);
      });

      it('has one edge per workflow edge plus an implicit edge per start step', () => {
        const targets = new Set((wf.edges ?? []).map((e) => e.to));
        const starts = wf.steps.filter((s) => !targets.has(s.id));
        expect(edges).toHaveLength(countSteps(wf).edges + starts.length);
        const implicit = edges.filter((e) => e.data?.implicit);
        expect(implicit.map((e) => e.target).sort()).toEqual(starts.map((s) => s.id).sort());
        expect(implicit.every((e) => e.source === TRIGGER_ID && e.deletable === false)).toBe(true);
        expect(new Set(edges.map((e) => e.id)).size).toBe(edges.length);
        for (const e of edges) {
          expect(nodes.some((n) => n.id === e.source)).toBe(true);
          expect(nodes.some((n) => n.id === e.target)).toBe(true);
        }
      });

      it('parents fanout bodies and puts parents before children', () => {
        walkSteps(wf, (loc) => {
          const n = node(nodes, loc.step.id);
          if (loc.parent) {
            expect(n.parentId).toBe(loc.parent.id);
            expect(n.extent).toBe('parent');
            expect(nodes.findIndex((x) => x.id === loc.parent!.id)).toBeLessThan(nodes.indexOf(n));
          } else expect(n.parentId).toBeUndefined();
          expect(n.type).toBe(loc.step.type === 'fanout' ? 'group' : 'step');
          expect(n.domAttributes).toMatchObject({ 'data-testid': `node-${loc.step.id}` });
        });
      });

      it('round trips without a change or new positions', () => {
        const before = JSON.stringify(wf);
        toGraph(wf, catalog);
        expect(JSON.stringify(wf)).toBe(before);
        expect(JSON.stringify(wf)).toBe(JSON.stringify(JSON.parse(text)));
        expect(hasPosition(wf)).toBe(false);
      });
    });
  }

  it('parents the fanout body of score-candidates inside its group', () => {
    const wf = example('score-candidates.json');
    const { nodes } = toGraph(wf, catalog);
    const group = node(nodes, 'score');
    const child = node(nodes, 'points');
    expect(group.type).toBe('group');
    expect(child.parentId).toBe('score');
    expect(child.position.x).toBeGreaterThanOrEqual(0);
    expect(child.position.y).toBeGreaterThan(0);
    expect(child.position.x + 220).toBeLessThanOrEqual(group.width!);
    expect(child.position.y + 64).toBeLessThanOrEqual(group.height!);
  });

  it('gives a condition true/false handles and a switch its cases plus default', () => {
    const sc = toGraph(example('score-candidates.json'), catalog);
    const strong = node(sc.nodes, 'strong').data as StepNodeData;
    expect(strong.branches).toEqual(['true', 'false']);
    expect(strong.hasNext).toBe(false);
    expect(sc.edges.find((e) => e.target === 'shortlist')?.sourceHandle).toBe('true');
    expect(sc.edges.find((e) => e.target === 'nobody')?.sourceHandle).toBe('false');

    const rs = toGraph(example('route-by-stage.json'), catalog);
    const route = node(rs.nodes, 'route').data as StepNodeData;
    expect(route.branches).toEqual(['offer', 'onsite', 'default']);
    expect(route.hasNext).toBe(false);
    expect(rs.edges.find((e) => e.target === 'cool_down')?.sourceHandle).toBe('onsite');
    expect(rs.edges.find((e) => e.target === 'note')?.sourceHandle).toBe('default');
    expect(rs.edges.find((e) => e.target === 'answer' && e.source === 'note')?.sourceHandle).toBe('next');
    const plain = node(rs.nodes, 'note').data as StepNodeData;
    expect(plain.branches).toEqual([]);
    expect(plain.hasNext).toBe(true);
  });

  it('carries titles, statuses and problems', () => {
    const wf = example('tag-senior-applicants.json');
    const { nodes } = toGraph(wf, catalog, { statuses: { opp: 'succeeded', tag: 'failed' }, problems: { senior: ['input.if: bad'], [TRIGGER_ID]: ['x'] } });
    const opp = node(nodes, 'opp');
    expect(opp.data.title).toBe('Get Opportunity');
    expect(opp.ariaLabel).toBe('Get Opportunity step');
    expect(opp.data.status).toBe('succeeded');
    expect(node(nodes, 'tag').data.status).toBe('failed');
    expect(node(nodes, 'senior').data.problems).toEqual(['input.if: bad']);
    expect(node(nodes, TRIGGER_ID).data.problems).toEqual(['x']);
    expect(node(nodes, TRIGGER_ID).data.title).toBe('Candidate Stage Changed');
    expect((node(nodes, 'opp').data as StepNodeData).category).toBe('Lever');
    const named = toGraph({ ...wf, steps: wf.steps.map((s) => (s.id === 'opp' ? { ...s, name: 'Read it' } : s)) }, catalog);
    expect(node(named.nodes, 'opp').data.title).toBe('Read it');
  });

  it('uses stored positions first, then the given ones, and puts the trigger above the start steps', () => {
    const wf = tiny();
    wf.steps[0].position = { x: 500, y: 300 };
    const { nodes } = toGraph(wf, catalog, { positions: { b: { x: 7, y: 8 } } });
    expect(node(nodes, 'a').position).toEqual({ x: 500, y: 300 });
    expect(node(nodes, 'b').position).toEqual({ x: 7, y: 8 });
    const trigger = node(nodes, TRIGGER_ID).position;
    expect(trigger.x).toBe(500);
    expect(trigger.y).toBeLessThan(8);
  });

  it('draws edges whose branch the step does not offer on a handle of their own', () => {
    const wf = example('score-candidates.json');
    wf.edges = [...(wf.edges ?? []), { from: 'strong', to: 'best', branch: 'maybe' }];
    const { nodes, edges } = toGraph(wf, catalog);
    const strong = node(nodes, 'strong').data as StepNodeData;
    expect(strong.branches).toEqual(['true', 'false', 'maybe']);
    expect(strong.unknownBranches).toEqual(['maybe']);
    expect(edges.find((e) => e.source === 'strong' && e.target === 'best')?.sourceHandle).toBe('maybe');
  });
});

describe('edits', () => {
  it('moveStep writes only that node position, rounded', () => {
    const wf = example('route-by-stage.json');
    const before = JSON.parse(JSON.stringify(wf)) as Workflow;
    const moved = moveStep(wf, 'note', { x: 10.4, y: 20.6 });
    expect(JSON.stringify(wf)).toBe(JSON.stringify(before));
    const expected = JSON.parse(JSON.stringify(before)) as Workflow;
    expected.steps.find((s) => s.id === 'note')!.position = { x: 10, y: 21 };
    expect(JSON.stringify(moved)).toBe(JSON.stringify(expected));
    // untouched steps are the same objects
    expect(moved.steps[0]).toBe(wf.steps[0]);
    expect(moveStep(moved, 'note', { x: 10, y: 21 })).toBe(moved);
    expect(moveStep(wf, TRIGGER_ID, { x: 1, y: 1 })).toBe(wf);
  });

  it('moveStep reaches into fanout bodies', () => {
    const wf = example('score-candidates.json');
    const moved = moveStep(wf, 'points', { x: 30, y: 60 });
    expect(findStep(moved, 'points')?.step.position).toEqual({ x: 30, y: 60 });
    expect(findStep(moved, 'score')?.step.position).toBeUndefined();
    expect(Object.keys(findStep(moved, 'score')!.step)).toEqual(Object.keys(findStep(wf, 'score')!.step));
  });

  it('addStep adds a Lever step with a unique id and the default connection', () => {
    const wf = example('tag-senior-applicants.json');
    const r1 = addStep(wf, catalog, 'lever.get_opportunity', { x: 1.2, y: 2.7 }, null, 'local');
    expect(r1.id).toBe('get_opportunity');
    expect(r1.wf.steps.at(-1)).toEqual({ id: 'get_opportunity', type: 'lever.get_opportunity', connection: 'local', input: {}, position: { x: 1, y: 3 } });
    const r2 = addStep(r1.wf, catalog, 'lever.get_opportunity', null);
    expect(r2.id).toBe('get_opportunity_2');
    expect(r2.wf.steps.at(-1)).toEqual({ id: 'get_opportunity_2', type: 'lever.get_opportunity', input: {} });
    expect(wf.steps).toHaveLength(3);
  });

  it('addStep prefills a condition and gives a fanout an empty body', () => {
    const wf = tiny();
    const c = addStep(wf, catalog, 'condition', { x: 0, y: 0 });
    expect(findStep(c.wf, c.id)?.step.input).toEqual({ if: '' });
    const f = addStep(wf, catalog, 'fanout', { x: 0, y: 0 });
    expect(findStep(f.wf, f.id)?.step).toMatchObject({ type: 'fanout', input: {}, steps: [], edges: [] });
    const t = addStep(wf, catalog, 'transform', { x: 0, y: 0 });
    expect(t.id).toBe('transform');
    const h = addStep(wf, catalog, 'http.request');
    expect(h.id).toBe('request');
  });

  it('addStep adds inside a fanout when given its id', () => {
    const wf = example('score-candidates.json');
    const r = addStep(wf, catalog, 'transform', { x: 24, y: 52 }, 'score');
    const loc = findStep(r.wf, r.id);
    expect(loc?.parent?.id).toBe('score');
    expect(r.wf.steps).toHaveLength(wf.steps.length);
    const top = addStep(wf, catalog, 'transform', null, 'best');
    expect(findStep(top.wf, top.id)?.parent).toBeNull();
  });

  it('connect adds an edge and refuses duplicates, self loops, cycles and cross-scope edges', () => {
    const wf = tiny();
    const extra = addStep(wf, catalog, 'transform').wf;
    const ok = connect(extra, 'a', 'transform');
    expect(ok.error).toBeUndefined();
    expect(ok.wf.edges?.at(-1)).toEqual({ from: 'a', to: 'transform' });

    const dup = connect(wf, 'a', 'b');
    expect(dup.wf).toBe(wf);
    expect(dup.error).toMatch(/already connects/);

    const self = connect(wf, 'a', 'a');
    expect(self.error).toMatch(/itself/);

    const cycle = connect(wf, 'c', 'a');
    expect(cycle.wf).toBe(wf);
    expect(cycle.error).toBe('Connecting "c" to "a" would make a cycle (a → b → c → a): workflows cannot loop. Use a For each to repeat steps.');

    const sc = example('score-candidates.json');
    const cross = connect(sc, 'best', 'points');
    expect(cross.error).toMatch(/"best" is at the top level and "points" is inside the For each "score"/);

    expect(connect(wf, 'a', TRIGGER_ID).error).toMatch(/trigger/);
    expect(connect(wf, 'a', 'nope').error).toMatch(/no step "nope"/);
  });

  it('connect writes the branch and allows both branches to one step', () => {
    const sc = example('score-candidates.json');
    const r = connect(sc, 'strong', 'best_2' as string);
    expect(r.error).toMatch(/no step/);
    const wf = addStep(sc, catalog, 'transform').wf;
    const t = connect(wf, 'strong', 'transform', 'true');
    expect(t.wf.edges?.at(-1)).toEqual({ from: 'strong', to: 'transform', branch: 'true' });
    const f = connect(t.wf, 'strong', 'transform', 'false');
    expect(f.error).toBeUndefined();
    expect(connect(f.wf, 'strong', 'transform', 'false').error).toMatch(/already connects "strong" to|on the "false" branch/);
  });

  it('connect from the trigger is a no-op for start steps and explained for others', () => {
    const wf = tiny();
    expect(connect(wf, TRIGGER_ID, 'a')).toEqual({ wf });
    expect(connect(wf, TRIGGER_ID, 'b').error).toMatch(/incoming edges/);
  });

  it('connect inside a fanout body writes the body edges', () => {
    const sc = example('score-candidates.json');
    const added = addStep(sc, catalog, 'transform', { x: 0, y: 0 }, 'score');
    const r = connect(added.wf, 'points', added.id);
    expect(r.error).toBeUndefined();
    expect(findStep(r.wf, 'score')?.step.edges).toEqual([{ from: 'points', to: added.id }]);
    expect(r.wf.edges).toBe(sc.edges);
  });

  it('disconnect removes edges by graph id', () => {
    const wf = tiny();
    const ids = edgeIdsOf(wf.edges!);
    expect(ids).toEqual(['a->b:', 'b->c:']);
    const r = disconnect(wf, [ids[0], implicitEdgeId('a')]);
    expect(r.edges).toEqual([{ from: 'b', to: 'c' }]);
    expect(disconnect(wf, ['nope'])).toBe(wf);
    const rs = example('route-by-stage.json');
    const r2 = disconnect(rs, ['route->note:default']);
    expect(r2.edges).toHaveLength(rs.edges!.length - 1);
    expect(r2.edges!.some((e) => e.to === 'note')).toBe(false);
  });

  it('removeSteps removes the steps and their edges, and a fanout with its body', () => {
    const wf = tiny();
    const r = removeSteps(wf, ['b', TRIGGER_ID]);
    expect(r.steps.map((s) => s.id)).toEqual(['a', 'c']);
    expect(r.edges).toEqual([]);
    const sc = example('score-candidates.json');
    const r2 = removeSteps(sc, ['score']);
    expect(findStep(r2, 'points')).toBeNull();
    expect(r2.edges?.some((e) => e.from === 'score')).toBe(false);
    const r3 = removeSteps(sc, ['points']);
    expect(findStep(r3, 'score')?.step.steps).toEqual([]);
    expect(r3.steps[1]).toBe(sc.steps[1]);
    expect(removeSteps(sc, ['nope'])).toBe(sc);
  });

  it('renameStep rewrites the id, the edges and the references', () => {
    const wf = example('tag-senior-applicants.json');
    const r = renameStep(wf, 'opp', 'opportunity');
    expect(r.error).toBeUndefined();
    const text = JSON.stringify(r.wf);
    expect(text).not.toMatch(/steps\.opp\b/);
    expect(findStep(r.wf, 'opportunity')?.step.input).toEqual({ opportunity_id: '<<trigger.opportunityId>>' });
    expect(findStep(r.wf, 'senior')?.step.input).toEqual({ if: "<<'Senior' in steps.opportunity.headline>>" });
    expect(findStep(r.wf, 'tag')?.step.input).toEqual({ opportunity_id: '<<steps.opportunity.id>>', tags: ['senior'] });
    expect(r.wf.edges?.[0]).toEqual({ from: 'opportunity', to: 'senior' });
    // key order kept
    expect(Object.keys(r.wf.steps[2])).toEqual(Object.keys(wf.steps[2]));
    expect(Object.keys(r.wf)).toEqual(Object.keys(wf));
  });

  it('renameStep rewrites references into and out of fanouts', () => {
    const wf = example('lever-users-directory.json');
    const r = renameStep(wf, 'settings', 'config');
    expect(r.error).toBeUndefined();
    const post = findStep(r.wf, 'post')!.step.input as { url: string };
    expect(post.url).toBe('<<steps.config.destination_url>>');
    expect(r.wf.edges?.[0]).toEqual({ from: 'config', to: 'batches' });
    const r2 = renameStep(wf, 'post', 'deliver');
    expect(findStep(r2.wf, 'deliver')?.parent?.id).toBe('send');
  });

  it('renameStep refuses bad and taken ids', () => {
    const wf = tiny();
    expect(renameStep(wf, 'a', 'Bad-Id').error).toMatch(/is not a valid step id/);
    expect(renameStep(wf, 'a', '1abc').error).toMatch(/is not a valid step id/);
    expect(renameStep(wf, 'a', 'x'.repeat(64)).error).toMatch(/is not a valid step id/);
    expect(renameStep(wf, 'a', 'b').error).toMatch(/already a step "b"/);
    expect(renameStep(wf, 'zz', 'b2').error).toMatch(/no step "zz"/);
    expect(renameStep(wf, 'a', 'a')).toEqual({ wf });
  });

  it('copySteps and pasteSteps give new ids, keep inner edges and rewrite references', () => {
    const wf = tiny();
    wf.steps[0].position = { x: 0, y: 0 };
    const data = copySteps(wf, ['b', 'c'], { b: { x: 100, y: 200 } });
    expect(data.steps.map((s) => s.id)).toEqual(['b', 'c']);
    expect(data.edges).toEqual([{ from: 'b', to: 'c' }]);
    const r = pasteSteps(wf, data, { x: 40, y: 40 });
    expect(r.ids).toEqual(['b_2', 'c_2']);
    const b2 = findStep(r.wf, 'b_2')!.step;
    const c2 = findStep(r.wf, 'c_2')!.step;
    expect(b2.position).toEqual({ x: 140, y: 240 });
    expect(c2.position).toBeUndefined();
    // a reference to a step that was not copied stays
    expect(b2.input).toEqual({ value: '<<steps.a>>' });
    expect(c2.input).toEqual({ value: '<<steps.b_2.x>>' });
    expect(r.wf.edges?.slice(-1)).toEqual([{ from: 'b_2', to: 'c_2' }]);
    // the original is untouched
    expect(findStep(r.wf, 'c')!.step.input).toEqual({ value: '<<steps.b.x>>' });
    const again = pasteSteps(r.wf, data, { x: 80, y: 80 });
    expect(again.ids).toEqual(['b_3', 'c_3']);
  });

  it('copies a fanout with its body and pastes it with renamed inner ids', () => {
    const wf = example('score-candidates.json');
    const data = copySteps(wf, ['score', 'points', TRIGGER_ID]);
    expect(data.steps.map((s) => s.id)).toEqual(['score']);
    const r = pasteSteps(wf, data, { x: 40, y: 40 });
    expect(r.ids).toEqual(['score_2']);
    const pasted = findStep(r.wf, 'score_2')!.step;
    expect(pasted.steps?.map((s: Step) => s.id)).toEqual(['points_2']);
    const ids = new Set<string>();
    walkSteps(r.wf, (l) => {
      expect(ids.has(l.step.id)).toBe(false);
      ids.add(l.step.id);
    });
  });

  it('pastes into a fanout body', () => {
    const wf = example('score-candidates.json');
    const data = copySteps(wf, ['best']);
    const r = pasteSteps(wf, data, { x: 40, y: 40 }, 'score');
    expect(findStep(r.wf, r.ids[0])?.parent?.id).toBe('score');
    expect(r.wf.edges).toBe(wf.edges);
  });

  it('pastes into another workflow keeping free ids', () => {
    const data = copySteps(example('score-candidates.json'), ['best']);
    const r = pasteSteps(tiny(), data, { x: 0, y: 0 });
    expect(r.ids).toEqual(['best']);
  });
});

describe('references', () => {
  const m = new Map([['opp', 'o2']]);
  it('rewrites only whole step ids outside string literals', () => {
    expect(rewriteTemplate('<<steps.opp.name>>', m)).toBe('<<steps.o2.name>>');
    expect(rewriteTemplate("<<'Senior' in steps.opp.headline>>", m)).toBe("<<'Senior' in steps.o2.headline>>");
    expect(rewriteTemplate('<<steps.opp[0]>> and <<steps.opp>>', m)).toBe('<<steps.o2[0]>> and <<steps.o2>>');
    expect(rewriteTemplate("<<steps['opp'].id>>", m)).toBe("<<steps['o2'].id>>");
    expect(rewriteTemplate('<<steps.opportunity.id>>', m)).toBe('<<steps.opportunity.id>>');
    expect(rewriteTemplate('<<mysteps.opp>>', m)).toBe('<<mysteps.opp>>');
    expect(rewriteTemplate("<<'steps.opp'>>", m)).toBe("<<'steps.opp'>>");
    expect(rewriteTemplate('steps.opp outside a reference', m)).toBe('steps.opp outside a reference');
    expect(rewriteTemplate('\\<<steps.opp>>', m)).toBe('\\<<steps.opp>>');
    expect(rewriteTemplate('<<len(steps.opp)>>', m)).toBe('<<len(steps.o2)>>');
  });

  it('rewrites optional chains on steps (steps?.old, steps?.["old"])', () => {
    expect(rewriteTemplate('<<steps?.opp.name>>', m)).toBe('<<steps?.o2.name>>');
    expect(rewriteTemplate('<<steps?.opp?.name ?? "">>', m)).toBe('<<steps?.o2?.name ?? "">>');
    expect(rewriteTemplate('<<steps?.["opp"].id>>', m)).toBe('<<steps?.["o2"].id>>');
    expect(rewriteTemplate("<<steps?.['opp']>>", m)).toBe("<<steps?.['o2']>>");
    expect(rewriteTemplate('<<steps?.opportunity.id>>', m)).toBe('<<steps?.opportunity.id>>');
    expect(rewriteTemplate('<<x?.steps?.opp>>', m)).toBe('<<x?.steps?.opp>>');
    expect(rewriteTemplate("<<'steps?.opp'>>", m)).toBe("<<'steps?.opp'>>");
  });

  it('renameStep follows steps?.old references', () => {
    const wf = example('tag-senior-applicants.json');
    const withOptional = updateInput(wf, 'tag', { note: '<<steps?.opp?.name ?? "">> <<steps?.["opp"].id>>' });
    const r = renameStep(withOptional, 'opp', 'opportunity');
    expect(findStep(r.wf, 'tag')?.step.input?.note).toBe('<<steps?.opportunity?.name ?? "">> <<steps?.["opportunity"].id>>');
  });
});

function updateInput(wf: Workflow, id: string, extra: Record<string, unknown>): Workflow {
  return {
    ...wf,
    steps: (wf.steps ?? []).map((st) => (st.id === id ? { ...st, input: { ...(st.input ?? {}), ...extra } } : st)),
  };
}

describe('renameBranch', () => {
  const wf = example('route-by-stage.json');
  it('moves the step\'s edges on the old branch to the new one', () => {
    const next = renameBranch(wf, 'route', 'onsite', 'interview');
    expect(next.edges).toContainEqual({ from: 'route', to: 'cool_down', branch: 'interview' });
    expect(next.edges?.some((e) => e.branch === 'onsite')).toBe(false);
    expect(next.edges?.length).toBe(wf.edges?.length);
    expect(next.steps).toBe(wf.steps);
  });
  it('changes nothing for another step, an unused branch or an empty name', () => {
    expect(renameBranch(wf, 'note', 'onsite', 'x')).toBe(wf);
    expect(renameBranch(wf, 'route', 'nope', 'x')).toBe(wf);
    expect(renameBranch(wf, 'route', 'onsite', '')).toBe(wf);
    expect(renameBranch(wf, 'missing', 'onsite', 'x')).toBe(wf);
  });
  it('works inside a fanout body', () => {
    const inner: Workflow = {
      ...tiny(),
      steps: [{ id: 'each', type: 'fanout', input: {}, steps: [{ id: 'sw', type: 'switch' }, { id: 'b', type: 'transform' }], edges: [{ from: 'sw', to: 'b', branch: 'x' }] }],
    };
    const next = renameBranch(inner, 'sw', 'x', 'y');
    expect(findStep(next, 'each')?.step.edges).toEqual([{ from: 'sw', to: 'b', branch: 'y' }]);
  });
});

describe('caseBranchRenames', () => {
  const cases = (...names: string[]) => names.map((name) => ({ name, when: true }));
  it('a renamed case takes its edges along', () => {
    expect(caseBranchRenames(cases('offer', 'onsite'), cases('offer', 'onsit')).renames).toEqual([['onsite', 'onsit']]);
  });
  it('nothing when names stay or cases are added or removed', () => {
    expect(caseBranchRenames(cases('a', 'b'), cases('a', 'b')).renames).toEqual([]);
    expect(caseBranchRenames(cases('a'), cases('a', 'b')).renames).toEqual([]);
    expect(caseBranchRenames(cases('a', 'b'), cases('b')).renames).toEqual([]);
    expect(caseBranchRenames(undefined, cases('a')).renames).toEqual([]);
  });
  it('an emptied name keeps the edges until it is typed again', () => {
    const first = caseBranchRenames(cases('a', 'x'), cases('a', ''));
    expect(first).toEqual({ renames: [], pending: { 1: 'x' } });
    const second = caseBranchRenames(cases('a', ''), cases('a', 'y'), first.pending);
    expect(second).toEqual({ renames: [['x', 'y']], pending: {} });
  });
  it('a name clashing for now with another case or a static branch waits', () => {
    const first = caseBranchRenames(cases('a', 'ab'), cases('a', 'a'));
    expect(first).toEqual({ renames: [], pending: { 1: 'ab' } });
    expect(caseBranchRenames(cases('a', 'a'), cases('a', 'ac'), first.pending).renames).toEqual([['ab', 'ac']]);
    const dflt = caseBranchRenames(cases('defaul'), cases('default'), {}, ['default']);
    expect(dflt).toEqual({ renames: [], pending: { 0: 'defaul' } });
  });
  it('applied with renameBranch, edges follow the typing', () => {
    let wf = example('route-by-stage.json');
    const route = findStep(wf, 'route')!.step;
    let before = route.input?.cases as { name: string }[];
    let pending = {};
    for (const name of ['onsit', 'onsi', '', 'i', 'interview']) {
      const after = before.map((c) => (c.name === before[1].name ? { ...c, name } : c));
      const r = caseBranchRenames(before, after, pending);
      pending = r.pending;
      for (const [a, b] of r.renames) wf = renameBranch(wf, 'route', a, b);
      before = after;
    }
    expect(wf.edges).toContainEqual({ from: 'route', to: 'cool_down', branch: 'interview' });
  });
});

describe('keyboardMoves', () => {
  const pos = (id: string, x: number, y: number, dragging?: boolean) => ({ id, type: 'position' as const, position: { x, y }, dragging });
  it('returns the final positions of an arrow-key move', () => {
    const drag = { current: false };
    expect(keyboardMoves([pos('a', 5, 0, false), pos('b', 10, 5, false)], drag)).toEqual({ a: { x: 5, y: 0 }, b: { x: 10, y: 5 } });
  });
  it('ignores a mouse drag: its moves, and its final changes (the drag stop saves)', () => {
    const drag = { current: false };
    expect(keyboardMoves([pos('a', 1, 1, true)], drag)).toBeNull();
    expect(drag.current).toBe(true);
    expect(keyboardMoves([pos('a', 2, 2, false)], drag)).toBeNull();
    expect(drag.current).toBe(false);
    expect(keyboardMoves([pos('a', 7, 2, false)], drag)).toEqual({ a: { x: 7, y: 2 } });
  });
  it('ignores other changes and the trigger', () => {
    const drag = { current: false };
    expect(keyboardMoves([{ id: 'a', type: 'select', selected: true }, { id: 'a', type: 'position' }, pos(TRIGGER_ID, 0, 0, false)], drag)).toBeNull();
  });
  it('feeds moveSteps', () => {
    const wf = tiny();
    const id = wf.steps![0].id;
    const moves = keyboardMoves([pos(id, 40.4, 85, false)], { current: false })!;
    expect(findStep(moveSteps(wf, moves), id)?.step.position).toEqual({ x: 40, y: 85 });
  });
});
