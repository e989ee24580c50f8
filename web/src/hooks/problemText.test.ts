import { describe, expect, it } from 'vitest';
import type { Workflow } from '../api/types';
import { describeProblems } from './problemText';

const wf = {
  name: 'Tag seniors',
  trigger: { type: 'lever.stage_change' },
  steps: [
    { id: 'get_opp', type: 'lever.get_opportunity', name: 'Get opportunity', input: {} },
    { id: 'each', type: 'fanout', steps: [{ id: 'tag', type: 'lever.add_tags', name: 'Add tags', input: {} }] },
  ],
  edges: [{ from: 'get_opp', to: 'each' }],
} as unknown as Workflow;

describe('describeProblems', () => {
  it('names the step and the field instead of the JSON path', () => {
    const out = describeProblems(wf, [
      { path: 'steps[1].steps[0].input.tags', message: 'is required' },
      { path: 'steps[0].input.opportunity', message: 'is not a reference' },
      { path: 'trigger.config.stage', message: 'is unknown' },
      { path: 'edges[0]', message: 'makes a loop' },
      { path: 'name', message: 'is too long' },
    ]);
    expect(out).toEqual([
      { where: 'Trigger', field: 'stage', message: 'is unknown' },
      { where: 'Workflow', field: 'name', message: 'is too long' },
      { where: 'Step “Get opportunity” (get_opp)', field: 'opportunity', message: 'is not a reference' },
      { where: 'A connection into step each', field: '', message: 'makes a loop' },
      { where: 'Step “Add tags” (tag)', field: 'tags', message: 'is required' },
    ]);
  });
});
