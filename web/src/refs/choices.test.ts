import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Run, StepType, TriggerType, Workflow } from '../api/types';
import { makeCatalog } from '../catalog';
import {
  checkTemplate,
  describeRef,
  filterChoices,
  insertReference,
  openReference,
  parseTemplate,
  referenceChoices,
  wholeRef,
  type RefContext,
} from './choices';

const here = dirname(fileURLToPath(import.meta.url));
const read = <T,>(p: string) => JSON.parse(readFileSync(join(here, p), 'utf8')) as T;
const catalog = makeCatalog(
  read<{ step_types: StepType[] }>('../forms/testdata/step-types.json').step_types,
  read<{ trigger_types: TriggerType[] }>('../forms/testdata/trigger-types.json').trigger_types,
);
const tagSenior = read<Workflow>('../../../examples/tag-senior-applicants.json');
const scoreCandidates = read<Workflow>('../../../examples/score-candidates.json');

const ctx = (workflow: Workflow, stepId: string | null, lastRun?: Run | null): RefContext => ({ workflow, stepId, catalog, lastRun });
const exprs = (c: RefContext) => referenceChoices(c).map((x) => x.expr);

const lastRun: Run = {
  id: 'run-1',
  workflow_id: 'tag-senior-applicants',
  version: 1,
  status: 'succeeded',
  error: '',
  trigger: { opportunityId: 'opp-1', toStageId: 'stage-9', extra: { note: 'only in the run' } },
  created_at: '2026-12-01T18:16:09Z',
  started_at: '2026-12-01T18:16:09Z',
  finished_at: '2026-12-01T18:16:10Z',
  steps: {
    opp: {
      step_id: 'opp',
      type: 'lever.get_opportunity',
      status: 'succeeded',
      input: { opportunity_id: 'opp-1' },
      output: { id: 'opp-1', name: 'Avery Chen', headline: 'Senior Engineer', tags: ['a'], customField: 42 },
      error: '',
      attempts: 1,
      started_at: null,
      finished_at: null,
    },
  },
};

describe('referenceChoices', () => {
  it('offers the tag step the upstream opp and the trigger, never itself', () => {
    const e = exprs(ctx(tagSenior, 'tag'));
    expect(e).toContain('steps.opp');
    expect(e).toContain('steps.opp.name');
    expect(e).toContain('steps.opp.headline');
    expect(e).toContain('steps.opp.urls.show');
    expect(e).toContain('steps.opp.phones[0].value');
    expect(e).toContain('steps.senior.result');
    expect(e).toContain('trigger.opportunityId');
    expect(e).toContain('trigger.toStageId');
    expect(e).toContain('run.id');
    expect(e).toContain('run.started_at');
    expect(e.some((x) => x.startsWith('steps.tag'))).toBe(false);
    expect(e).not.toContain('item');
    expect(e).not.toContain('index');
  });

  it('offers the first step no steps at all', () => {
    const e = exprs(ctx(tagSenior, 'opp'));
    expect(e.filter((x) => x.startsWith('steps.'))).toEqual([]);
    expect(e).toContain('trigger.opportunityId');
  });

  it('offers a trigger-level field only the trigger, vars and run', () => {
    const e = exprs(ctx(scoreCandidates, null));
    expect(e.some((x) => x.startsWith('steps.'))).toBe(false);
    expect(e).toContain('vars.threshold');
  });

  it('never offers a sibling branch or a downstream step', () => {
    const e = exprs(ctx(scoreCandidates, 'nobody'));
    expect(e).toContain('steps.best');
    expect(e).toContain('steps.strong.result');
    expect(e).toContain('steps.score');
    expect(e.some((x) => x.startsWith('steps.shortlist'))).toBe(false);
    expect(e.some((x) => x.startsWith('steps.nobody'))).toBe(false);
  });

  it('labels and groups', () => {
    const cs = referenceChoices(ctx(tagSenior, 'tag'));
    const name = cs.find((c) => c.expr === 'steps.opp.name')!;
    expect(name.label).toBe('Get Opportunity > name');
    expect(name.group).toBe('Get Opportunity (opp)');
    expect(name.type).toBe('string');
    const show = cs.find((c) => c.expr === 'steps.opp.urls.show')!;
    expect(show.label).toBe('Get Opportunity > urls > show');
    const trig = cs.find((c) => c.expr === 'trigger.opportunityId')!;
    expect(trig.label).toBe('Trigger > opportunityId');
    expect(trig.group).toBe('Trigger');
    expect(trig.description).toMatch(/opportunity id/i);
    expect(cs.find((c) => c.expr === 'vars.threshold')).toBeUndefined();
  });

  it('uses the step name as title when it has one', () => {
    const wf: Workflow = { ...tagSenior, steps: tagSenior.steps.map((s) => (s.id === 'opp' ? { ...s, name: 'Read the candidate' } : s)) };
    expect(referenceChoices(ctx(wf, 'tag')).find((c) => c.expr === 'steps.opp.name')?.label).toBe('Read the candidate > name');
  });

  it('takes samples from the last run, and fields only the run has', () => {
    const cs = referenceChoices(ctx(tagSenior, 'tag', lastRun));
    expect(cs.find((c) => c.expr === 'steps.opp.name')?.sample).toBe('Avery Chen');
    expect(cs.find((c) => c.expr === 'trigger.opportunityId')?.sample).toBe('opp-1');
    const custom = cs.find((c) => c.expr === 'steps.opp.customField');
    expect(custom).toMatchObject({ type: 'integer', sample: 42 });
    expect(cs.find((c) => c.expr === 'trigger.extra.note')?.sample).toBe('only in the run');
    expect(cs.find((c) => c.expr === 'run.id')?.sample).toBe('run-1');
  });

  it('inside a fanout offers item, index, the fanout’s upstream and vars', () => {
    const cs = referenceChoices(ctx(scoreCandidates, 'points'));
    const e = cs.map((c) => c.expr);
    expect(e).toContain('item');
    expect(e).toContain('index');
    expect(e).toContain('vars.threshold');
    expect(e.some((x) => x.startsWith('steps.'))).toBe(false); // the fanout has no upstream steps
    expect(cs.find((c) => c.expr === 'vars.threshold')?.sample).toBe(70);
    expect(cs.find((c) => c.expr === 'item')?.group).toBe('Current item');
  });

  it('offers the item’s fields from the last run’s items', () => {
    const run: Run = {
      ...lastRun,
      workflow_id: 'score-candidates',
      trigger: { candidates: [{ name: 'Ada', years: 8, referred: false }] },
      steps: {},
    };
    const cs = referenceChoices(ctx(scoreCandidates, 'points', run));
    expect(cs.find((c) => c.expr === 'item')?.sample).toEqual({ name: 'Ada', years: 8, referred: false });
    expect(cs.find((c) => c.expr === 'item.years')).toMatchObject({ label: 'Item > years', type: 'integer', sample: 8 });
  });

  it('offers the whole output of a step whose output is any, and its real fields', () => {
    const run: Run = {
      ...lastRun,
      steps: {
        best: { ...lastRun.steps.opp, step_id: 'best', type: 'transform', output: { top: 80 } },
      },
    };
    const cs = referenceChoices(ctx(scoreCandidates, 'strong', run));
    expect(cs.find((c) => c.expr === 'steps.best')).toMatchObject({ label: 'Transform', sample: { top: 80 } });
    expect(cs.find((c) => c.expr === 'steps.best.top')?.sample).toBe(80);
  });

  it('nests array items of outputs as [0]', () => {
    const wf: Workflow = {
      name: 'x',
      trigger: { type: 'schedule' },
      steps: [
        { id: 'list', type: 'lever.get_opportunities', input: {} },
        { id: 'use', type: 'transform', input: { value: 1 } },
      ],
      edges: [{ from: 'list', to: 'use' }],
    };
    const e = exprs(ctx(wf, 'use'));
    expect(e).toContain('steps.list.items');
    expect(e).toContain('steps.list.items[0].name');
    expect(e).toContain('steps.list.items[0].urls.show');
    expect(e).toContain('trigger.triggered_at');
  });
});

describe('filterChoices', () => {
  const cs = referenceChoices(ctx(tagSenior, 'tag'));

  it('puts expression prefixes first', () => {
    const r = filterChoices(cs, 'steps.opp.na');
    expect(r[0].expr).toBe('steps.opp.name');
  });

  it('matches field names case-insensitively, exact names first', () => {
    const r = filterChoices(cs, 'NAME');
    expect(r.length).toBeGreaterThan(0);
    expect(r[0].expr).toBe('steps.opp.name');
    for (const c of r) expect(`${c.expr} ${c.label} ${c.group}`.toLowerCase()).toContain('name');
  });

  it('matches labels', () => {
    const r = filterChoices(cs, 'opportunity > head');
    expect(r.map((c) => c.expr)).toContain('steps.opp.headline');
  });

  it('an empty query keeps everything in order', () => {
    expect(filterChoices(cs, '  ')).toEqual(cs);
  });

  it('no match, no choices', () => {
    expect(filterChoices(cs, 'zzzzqqq')).toEqual([]);
  });
});

describe('parseTemplate', () => {
  it('splits literals and references', () => {
    expect(parseTemplate('Hello <<trigger.name>>!')).toEqual([
      { kind: 'text', text: 'Hello ', start: 0, end: 6 },
      { kind: 'ref', expr: 'trigger.name', raw: 'trigger.name', start: 6, end: 22 },
      { kind: 'text', text: '!', start: 22, end: 23 },
    ]);
  });

  it('keeps \\<< literal', () => {
    expect(parseTemplate('a \\<<b>> c')).toEqual([{ kind: 'text', text: 'a <<b>> c', start: 0, end: 10 }]);
  });

  it('does not end a reference at >> inside a string', () => {
    const segs = parseTemplate('<<"a>>b" + x>>');
    expect(segs).toHaveLength(1);
    expect(segs[0]).toMatchObject({ kind: 'ref', expr: '"a>>b" + x' });
  });

  it('reports an unterminated <<', () => {
    expect(parseTemplate('x <<steps.op')).toEqual([
      { kind: 'text', text: 'x ', start: 0, end: 2 },
      { kind: 'ref', expr: 'steps.op', raw: 'steps.op', start: 2, end: 12, unterminated: true },
    ]);
  });

  it('wholeRef', () => {
    expect(wholeRef('<<steps.opp.tags>>')).toBe('steps.opp.tags');
    expect(wholeRef('x <<a>>')).toBeNull();
  });
});

describe('describeRef', () => {
  const c = ctx(tagSenior, 'tag');
  it.each([
    ['steps.opp.name', 'Get Opportunity > name'],
    ['steps.opp', 'Get Opportunity'],
    ['steps.opp.phones[0].value', 'Get Opportunity > phones[0] > value'],
    ['trigger.opportunityId', 'Trigger > opportunityId'],
    ['item.name', 'Item > name'],
    ['vars.threshold', 'Variables > threshold'],
    [" 'Senior' in steps.opp.headline", "'Senior' in steps.opp.headline"],
    ['steps.zz.id', 'steps.zz.id'],
    ['steps?.opp.name', 'Get Opportunity > name'],
    ['steps?.["opp"]?.phones?.[0].value', 'Get Opportunity > phones[0] > value'],
  ])('%s -> %s', (expr, text) => expect(describeRef(expr, c)).toBe(text));
});

describe('checkTemplate', () => {
  const tag = ctx(tagSenior, 'tag');
  it.each([
    ['<<steps.opp.name>>', []],
    ['Hello <<trigger.opportunityId>> and <<steps.senior.result>>', []],
    ["<<'Senior' in steps.opp.headline>>", []],
    ['<<len(steps.opp.tags) > 0 ? upper(steps.opp.name) : "none">>', []],
    ['<<map(filter(steps.opp.tags, # != "x"), #)>>', []],
    ['<<{name: steps.opp.name, "n": 1}>>', []],
    ['<<steps.opp?.nope ?? "x">>', []],
    ['\\<<not a reference', []],
    ['<<steps.opp.nam>>', ['no field "nam" in steps.opp; did you mean "name"?']],
    ['<<steps.opp.phones[0].valu>>', ['no field "valu" in steps.opp.phones[0]; did you mean "value"?']],
    ['<<steps.opp.xyzzy>>', ['no field "xyzzy" in steps.opp; its fields are applications, archived, confidentiality, contact, createdAt, dataProtection, emails, followers, ...']],
    ['<<steps.zz.id>>', ['steps.zz is not a step of this workflow: use the id of a step connected before this one']],
    ['<<steps.op.id>>', ['steps.op is not a step of this workflow; did you mean steps.opp?']],
    ['<<steps.tag.id>>', ['steps.tag is this step itself: a step can only read the output of steps that run before it']],
    ['<<item.name>>', ['item can only be used inside a For each step (fanout): move this step into one, or read the list directly']],
    ['<<trigerr.x>>', ['"trigerr" in <<trigerr.x>> is not something a reference can read; did you mean "trigger"?']],
    ['<<steps.opp.name', ['"<<steps.opp.name" is not closed: add ">>" after the reference, or write \\<< for a literal "<<"']],
    ['<< >>', ['"<<>>" is empty: write a reference between them, such as <<trigger.opportunityId>>, or remove it']],
    ['<<len(steps.opp.tags>>', ['<<len(steps.opp.tags>>: unbalanced parentheses: an opening parenthesis "(" is not closed; add ")"']],
    ['<<len(steps.opp.tags))>>', ['<<len(steps.opp.tags))>>: ")" has no matching "(": remove it or add the opening "("']],
    ['<<"abc>>', ['<<"abc>>: a quote (") is not closed: add the closing " before ">>"']],
    ['<<vars.nope>>', ['no variable "nope" in vars: add it to the workflow\'s vars']],
    // steps?.x (and steps?.["x"]) read steps the same way
    ['<<steps?.opp.name>>', []],
    ['<<steps?.["opp"]?.name ?? "">>', []],
    ['<<steps?.zz.id>>', ['steps.zz is not a step of this workflow: use the id of a step connected before this one']],
    ['<<steps?.op.id>>', ['steps.op is not a step of this workflow; did you mean steps.opp?']],
    ['<<steps?.["tag"].id>>', ['steps.tag is this step itself: a step can only read the output of steps that run before it']],
  ])('%s', (text, want) => expect(checkTemplate(text, tag)).toEqual(want));

  it('a step that is not upstream', () => {
    expect(checkTemplate('<<steps.tag.id>>', ctx(tagSenior, 'senior'))).toEqual([
      'steps.tag is not upstream of this step: connect it before this step',
    ]);
    expect(checkTemplate('<<steps.shortlist.names>>', ctx(scoreCandidates, 'nobody'))).toEqual([
      'steps.shortlist is not upstream of this step: connect it before this step',
    ]);
  });

  it('fields the last run has are fine', () => {
    expect(checkTemplate('<<steps.opp.customField>>', ctx(tagSenior, 'tag', lastRun))).toEqual([]);
    expect(checkTemplate('<<steps.opp.customField>>', tag)).toHaveLength(1);
  });

  it('fields of outputs that allow any are not checked', () => {
    expect(checkTemplate('<<steps.opp.urls.other>>', tag)).toEqual([]);
    expect(checkTemplate('<<steps.best.anything>>', ctx(scoreCandidates, 'strong'))).toEqual([]);
  });

  it('inside a fanout item, index and vars are fine', () => {
    expect(checkTemplate('<<item.years * 10 + (item.referred ? 20 : 0)>> <<index>> <<vars.threshold>>', ctx(scoreCandidates, 'points'))).toEqual([]);
  });

  it('vars did-you-mean', () => {
    expect(checkTemplate('<<vars.treshold>>', ctx(scoreCandidates, 'best'))).toEqual(['no variable "treshold" in vars; did you mean "threshold"?']);
  });

  it('steps at the trigger level', () => {
    expect(checkTemplate('<<steps.opp.id>>', ctx(tagSenior, null))).toEqual([
      "steps.opp cannot be used here: the trigger's settings are read before any step runs",
    ]);
  });
});

describe('insertReference', () => {
  it('replaces the <<query being typed', () => {
    expect(insertReference('Hi <<steps.op', 13, 'steps.opp.name')).toEqual({ text: 'Hi <<steps.opp.name>>', caret: 21 });
  });

  it('keeps the text after the caret', () => {
    const text = 'Hi <<na and more';
    expect(insertReference(text, 7, 'steps.opp.name')).toEqual({ text: 'Hi <<steps.opp.name>> and more', caret: 21 });
  });

  it('replaces through a >> already closing it', () => {
    expect(insertReference('<<st>>', 4, 'trigger.x')).toEqual({ text: '<<trigger.x>>', caret: 13 });
  });

  it('inserts at the caret when no << is open', () => {
    expect(insertReference('ab', 1, 'run.id')).toEqual({ text: 'a<<run.id>>b', caret: 11 });
    expect(insertReference('<<a>> ', 6, 'run.id')).toEqual({ text: '<<a>> <<run.id>>', caret: 16 });
  });

  it('openReference finds the query', () => {
    expect(openReference('x <<steps.o', 11)).toEqual({ start: 2, query: 'steps.o' });
    expect(openReference('x <<a>> y', 9)).toBeNull();
    expect(openReference('\\<<a', 4)).toBeNull();
  });
});
