import { describe, expect, it } from 'vitest';
import type { InboxEvent, Run, StepRun, Workflow } from '../api/types';
import { testInputsOf, triggerDataOf, withRealIds } from './testPayload';

const wf: Workflow = {
  name: 'w',
  trigger: { type: 'api' },
  steps: [
    { id: 'opp', type: 'lever.get_opportunity' },
    { id: 'each', type: 'fanout', input: { items: '<<trigger.list>>' }, steps: [
      { id: 'a', type: 'transform' },
      { id: 'b', type: 'transform' },
    ], edges: [{ from: 'a', to: 'b' }] },
  ],
  edges: [{ from: 'opp', to: 'each' }],
};

function sr(status: StepRun['status'], output: unknown, input: unknown = {}): StepRun {
  return { step_id: '', type: '', status, input, output, error: '', attempts: 1, started_at: null, finished_at: null };
}

const run: Run = {
  id: 'r', workflow_id: 'w', version: 1, status: 'succeeded', error: '', created_at: '', started_at: null, finished_at: null,
  trigger: { list: ['x', 'y'] },
  steps: {
    opp: sr('succeeded', { id: 'o1' }),
    each: sr('succeeded', ['A0', 'A1'], { items: ['x', 'y'] }),
    'each[0].a': sr('succeeded', 'A0'),
    'each[1].a': sr('succeeded', 'A1'),
    'each[0].b': sr('failed', null),
  },
};

describe('testInputsOf', () => {
  it('gives a top-level step the last run outputs by step id', () => {
    expect(testInputsOf(wf, 'opp', run)).toEqual({ steps: { opp: { id: 'o1' }, each: ['A0', 'A1'] } });
  });
  it('gives a step inside a For each the first item, index 0 and its siblings in that item', () => {
    expect(testInputsOf(wf, 'b', run)).toEqual({ steps: { opp: { id: 'o1' }, each: ['A0', 'A1'], a: 'A0' }, item: 'x', index: 0 });
  });
  it('works without a last run', () => {
    expect(testInputsOf(wf, 'b', null)).toEqual({ steps: {}, item: undefined, index: 0 });
  });
});

describe('triggerDataOf', () => {
  it('turns a stored Lever delivery into trigger data', () => {
    const ev = { payload: { event: 'candidateStageChange', triggeredAt: 0, data: { opportunityId: 'o1' }, signature: 's', token: 't' } } as unknown as InboxEvent;
    expect(triggerDataOf(ev)).toEqual({ opportunityId: 'o1', event: 'candidateStageChange', triggered_at: '1970-01-01T00:00:00.000Z' });
  });
});

describe('withRealIds', () => {
  const opp = { id: 'o-real', contact: 'c-real', name: 'Ada' };
  it('puts an opportunity and its contact into a candidate event', () => {
    expect(withRealIds({ opportunityId: 'o-fake', candidateId: 'o-fake', contactId: 'c-fake', toStageId: 's' }, opp, null)).toEqual({
      opportunityId: 'o-real', candidateId: 'o-real', contactId: 'c-real', toStageId: 's',
    });
  });
  it('puts the whole object where the example holds one', () => {
    expect(withRealIds({ postingId: 'p-fake', posting: { id: 'p-fake' } }, null, { id: 'p-real', text: 'Engineer' })).toEqual({
      postingId: 'p-real', posting: { id: 'p-real', text: 'Engineer' },
    });
  });
  it('leaves an example without ids alone', () => {
    expect(withRealIds({ name: 'x' }, opp, null)).toEqual({ name: 'x' });
  });
});
