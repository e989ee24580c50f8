import { describe, expect, it } from 'vitest';
import type { StepRun, StepStatus } from './api/types';
import { aggregateStatus, defaultStep, fanoutItemStatus, fanoutItems, isFinished, parseStepKey, runStepKeys, stepStatuses } from './runStatus';

function sr(status: StepStatus, finished?: string): StepRun {
  return {
    step_id: '', type: 'transform', status, input: null, output: null, error: status === 'failed' ? 'boom' : '',
    attempts: 1, started_at: finished ?? null, finished_at: finished ?? null,
  };
}

const fanoutRun = {
  steps: {
    score: sr('failed', '2026-12-01T18:18:37.827Z'),
    'score[0].points': sr('succeeded', '2026-12-01T18:18:37.826Z'),
    'score[1].points': sr('failed', '2026-12-01T18:18:37.8265Z'),
    'score[10].points': sr('succeeded', '2026-12-01T18:18:37.826Z'),
    'score[2].points': sr('succeeded', '2026-12-01T18:18:37.826Z'),
    fetch: sr('succeeded', '2026-12-01T18:18:37.800Z'),
  },
};

describe('parseStepKey', () => {
  it('reads top-level, item and nested keys', () => {
    expect(parseStepKey('fetch')).toEqual({ key: 'fetch', stepId: 'fetch', items: [] });
    expect(parseStepKey('score[3].points')).toEqual({ key: 'score[3].points', stepId: 'points', items: [{ fanout: 'score', index: 3 }] });
    expect(parseStepKey('a[0].b[12].c').items).toEqual([{ fanout: 'a', index: 0 }, { fanout: 'b', index: 12 }]);
  });
});

describe('runStepKeys', () => {
  it('lists a body step\'s items in numeric order', () => {
    expect(runStepKeys(fanoutRun, 'points')).toEqual(['score[0].points', 'score[1].points', 'score[2].points', 'score[10].points']);
  });
  it('finds the fanout\'s own key and nothing for unknown steps', () => {
    expect(runStepKeys(fanoutRun, 'score')).toEqual(['score']);
    expect(runStepKeys(fanoutRun, 'nope')).toEqual([]);
  });
});

describe('aggregateStatus', () => {
  const cases: [StepStatus[], StepStatus][] = [
    [['succeeded', 'failed', 'running'], 'failed'],
    [['succeeded', 'running'], 'running'],
    [['succeeded', 'waiting'], 'waiting'],
    [['succeeded', 'pending'], 'running'],
    [['pending', 'pending'], 'pending'],
    [['succeeded', 'cancelled'], 'cancelled'],
    [['succeeded', 'skipped'], 'succeeded'],
    [['skipped', 'skipped'], 'skipped'],
    [[], 'pending'],
  ];
  for (const [list, want] of cases) {
    it(`${list.join('+') || 'nothing'} -> ${want}`, () => expect(aggregateStatus(list)).toBe(want));
  }
});

describe('stepStatuses', () => {
  it('folds item runs onto the body step and keeps the fanout\'s own status', () => {
    expect(stepStatuses(fanoutRun)).toEqual({ score: 'failed', points: 'failed', fetch: 'succeeded' });
  });
  it('shows a body step running while items run', () => {
    const run = { steps: { score: sr('running'), 'score[0].points': sr('succeeded', '2026-01-01T00:00:00Z'), 'score[1].points': sr('running') } };
    expect(stepStatuses(run)).toEqual({ score: 'running', points: 'running' });
  });
  it('handles nested fanouts', () => {
    const run = {
      steps: {
        outer: sr('succeeded'),
        'outer[0].inner': sr('succeeded'),
        'outer[1].inner': sr('succeeded'),
        'outer[0].inner[0].leaf': sr('succeeded'),
        'outer[1].inner[0].leaf': sr('skipped'),
      },
    };
    expect(stepStatuses(run)).toEqual({ outer: 'succeeded', inner: 'succeeded', leaf: 'succeeded' });
  });
  it('answers {} for a run without steps', () => {
    expect(stepStatuses({ steps: {} })).toEqual({});
  });
});

describe('fanoutItems', () => {
  it('groups a fanout\'s body runs by item', () => {
    const items = fanoutItems(fanoutRun, 'score');
    expect(items.map((i) => i.index)).toEqual([0, 1, 2, 10]);
    expect(items[1].prefix).toBe('score[1]');
    expect(items[1].steps.points.run.status).toBe('failed');
  });
  it('keeps nested items apart', () => {
    const run = {
      steps: {
        'outer[0].inner': sr('succeeded'),
        'outer[0].inner[0].leaf': sr('succeeded'),
        'outer[1].inner[0].leaf': sr('failed'),
      },
    };
    expect(fanoutItems(run, 'outer').map((i) => Object.keys(i.steps))).toEqual([['inner']]);
    expect(fanoutItems(run, 'inner').map((i) => i.prefix)).toEqual(['outer[0].inner[0]', 'outer[1].inner[0]']);
  });
});

describe('fanoutItemStatus', () => {
  it('aggregates an item\'s body runs as aggregateStatus does', () => {
    const items = fanoutItems(fanoutRun, 'score');
    expect(items.map(fanoutItemStatus)).toEqual(items.map((i) => aggregateStatus(Object.values(i.steps).map((s) => s.run.status))));
    expect(fanoutItemStatus(items[1])).toBe('failed');
  });
  it('shows an item running while some of its steps are done and others pending', () => {
    const run = { steps: { 'score[0].a': sr('succeeded', '2026-01-01T00:00:00Z'), 'score[0].b': sr('pending') } };
    expect(fanoutItemStatus(fanoutItems(run, 'score')[0])).toBe('running');
  });
  it('says cancelled before pending, like the canvas', () => {
    const run = { steps: { 'score[0].a': sr('cancelled'), 'score[0].b': sr('succeeded') } };
    expect(fanoutItemStatus(fanoutItems(run, 'score')[0])).toBe('cancelled');
  });
});

describe('defaultStep', () => {
  it('picks the failed step that finished first', () => {
    expect(defaultStep(fanoutRun)).toBe('points');
  });
  it('else the step that finished last', () => {
    expect(defaultStep({ steps: { a: sr('succeeded', '2026-01-01T00:00:01Z'), b: sr('succeeded', '2026-01-01T00:00:02Z'), c: sr('running') } })).toBe('b');
    expect(defaultStep({ steps: {} })).toBeNull();
  });
});

describe('isFinished', () => {
  it('knows the final statuses', () => {
    expect(isFinished('failed')).toBe(true);
    expect(isFinished('waiting')).toBe(false);
  });
});
