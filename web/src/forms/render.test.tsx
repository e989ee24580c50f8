// Server-side render smoke tests of the form, the reference input and the
// inspector over the real catalog and the examples (environment node).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { Connection, StepType, TriggerType, Workflow } from '../api/types';
import { CatalogContext, makeCatalog } from '../catalog';
import { Inspector, changeTriggerType, cronHint } from '../editor/Inspector';
import { TRIGGER_ID, allStepIds, findStep } from '../model';
import { RefInput } from '../refs/RefInput';
import { SchemaForm } from './SchemaForm';

const here = dirname(fileURLToPath(import.meta.url));
const read = <T,>(p: string) => JSON.parse(readFileSync(join(here, p), 'utf8')) as T;
const catalog = makeCatalog(
  read<{ step_types: StepType[] }>('testdata/step-types.json').step_types,
  read<{ trigger_types: TriggerType[] }>('testdata/trigger-types.json').trigger_types,
);
const examples = ['tag-senior-applicants', 'score-candidates', 'route-by-stage', 'lever-users-directory'].map((n) => read<Workflow>(`../../../examples/${n}.json`));
const connections: Connection[] = [
  { name: 'local', user_id: '', environment: 'local', auth: 'api_key', status: 'connected', created_at: '', updated_at: '' },
  { name: 'old', user_id: '', environment: 'production', auth: 'oauth', status: 'needs_reauth', status_message: 'invalid_grant', created_at: '', updated_at: '' },
];

function inspector(wf: Workflow, selected: string, extra: Partial<Parameters<typeof Inspector>[0]> = {}) {
  return renderToStaticMarkup(
    <CatalogContext.Provider value={catalog}>
      <Inspector
        workflow={wf}
        selected={selected}
        onChange={() => {}}
        onRenameStep={() => null}
        problems={[]}
        connections={connections}
        onConnect={() => {}}
        onTestStep={() => {}}
        {...extra}
      />
    </CatalogContext.Provider>,
  );
}

describe('Inspector renders', () => {
  it.each(examples.map((wf) => [wf.name, wf] as const))('every node of %s', (_, wf) => {
    for (const id of [TRIGGER_ID, ...allStepIds(wf)]) {
      const html = inspector(wf, id);
      expect(html).toContain('data-testid="inspector"');
      if (id !== TRIGGER_ID) {
        expect(html).toContain('data-testid="inspector-step-id"');
        expect(html).toContain('data-testid="inspector-on-error"');
        // A For each cannot run alone: it says to test the steps inside it.
        const container = findStep(wf, id)?.step.type === 'fanout';
        if (container) expect(html).toContain('test the steps inside it');
        else expect(html).toContain('data-testid="inspector-test-step"');
      } else expect(html).toContain('data-testid="inspector-trigger-type"');
    }
  });

  it('every step type', () => {
    for (const st of catalog.stepTypes) {
      const wf: Workflow = { name: 'x', trigger: { type: 'api' }, steps: [{ id: 's', type: st.type, input: (st.examples?.[0]?.input as Record<string, unknown>) ?? {} }] };
      const html = inspector(wf, 's');
      expect(html, st.type).toContain(st.title);
      if (st.needs_connection) expect(html, st.type).toContain('data-testid="inspector-connection"');
    }
  });

  it('shows field problems under their field and the rest at the top', () => {
    const wf = examples[0];
    const html = inspector(wf, 'opp', {
      problems: [
        { path: 'steps[0].input.opportunity_id', message: 'steps.zz in "<<steps.zz.id>>" is not a step of this workflow' },
        { path: 'steps[0]', message: 'something about the whole step' },
      ],
    });
    expect(html).toContain('data-testid="problem-input.opportunity_id"');
    expect(html).toMatch(/aria-invalid="true"[^>]*data-testid="field-input.opportunity_id"|data-testid="field-input.opportunity_id"[^>]*aria-invalid="true"/);
    expect(html).toContain('class="alert error"');
    expect(html).toContain('something about the whole step');
  });

  it('offers Connect Lever without connections', () => {
    const html = inspector(examples[0], 'opp', { connections: [] });
    expect(html).toContain('data-testid="connect-lever"');
  });

  it('warns about a connection that needs reconnecting', () => {
    const wf: Workflow = { ...examples[0], steps: examples[0].steps.map((s) => (s.id === 'opp' ? { ...s, connection: 'old' } : s)) };
    expect(inspector(wf, 'opp')).toContain('needs to be reconnected');
  });

  it('schedule trigger shows cron with a hint', () => {
    const wf: Workflow = { name: 'x', trigger: { type: 'schedule', cron: '0 9 * * *' }, steps: [] };
    const html = inspector(wf, TRIGGER_ID);
    expect(html).toContain('data-testid="inspector-cron"');
    expect(html).toContain('overlap');
  });
});

describe('SchemaForm and RefInput render', () => {
  const refs = { workflow: examples[0], stepId: 'tag', catalog };
  it('labels, required markers, switches, selects, lists', () => {
    const html = renderToStaticMarkup(
      <SchemaForm
        schema={catalog.stepType('lever.create_opportunity')!.input}
        value={{ perform_as: '<<trigger.x>>', perform_as_posting_owner: true, origin: 'sourced', tags: ['a'], phones: [{ value: '1' }] }}
        onChange={() => {}}
        refs={refs}
        idPrefix="t"
      />,
    );
    expect(html).toContain('<label class="label" for="t-input_perform_as">Perform as<span class="required" aria-hidden="true">*</span></label>');
    expect(html).toContain('role="switch"');
    expect(html).toContain('aria-checked="true"');
    expect(html).toContain('<select id="t-input_origin"');
    expect(html).toContain('Add item');
    expect(html).toContain('data-testid="field-input.tags[0]"');
    expect(html).toContain('data-testid="field-input.phones[0].value"');
    expect(html).toContain('<legend>');
    expect(html).toContain('data-testid="ref-chip"');
  });

  it('RefInput is a combobox with chips', () => {
    const html = renderToStaticMarkup(<RefInput id="r" value="Hi <<steps.opp.name>>" onChange={() => {}} refs={refs} testId="x" />);
    expect(html).toContain('role="combobox"');
    expect(html).toContain('aria-expanded="false"');
    expect(html).toContain('aria-controls="r-refs"');
    expect(html).toContain('aria-label="Insert reference"');
    expect(html).toContain('>Get Opportunity &gt; name</span>');
    expect(html).toContain('title="steps.opp.name"');
  });
});

describe('Inspector next steps', () => {
  const route = examples[2];
  it('lists a switch\'s outgoing edges with their branch, each removable', () => {
    const html = inspector(route, 'route');
    expect(html).toContain('data-testid="next-steps"');
    expect(html).toContain('offer → ');
    expect(html).toContain('data-testid="next-step-remove-congratulate"');
    expect(html).toContain('data-testid="next-step-remove-cool_down"');
    expect(html).toContain('data-testid="next-step-remove-note"');
    // a branch select with the cases and default, labelled
    expect(html).toMatch(/<label class="label" for="[^"]*-next-branch">Branch<\/label>/);
    expect(html).toMatch(/data-testid="next-step-branch"><option value="offer"[^>]*>offer<\/option><option value="onsite">onsite<\/option><option value="default">default<\/option>/);
    expect(html).toContain('data-testid="next-step-add"');
  });
  it('offers only steps that make no loop', () => {
    const html = inspector(route, 'follow_up');
    const select = /data-testid="next-step-target"[^]*?<\/select>/.exec(html)?.[0] ?? '';
    expect(select).not.toContain('value="route"');
    expect(select).not.toContain('value="cool_down"');
    expect(select).not.toContain('value="follow_up"');
    expect(select).not.toContain('value="answer"'); // already connected
    expect(select).toContain('value="note"');
    expect(html).not.toContain('data-testid="next-step-branch"');
    expect(html).toMatch(/<label class="label" for="[^"]*-next-target">Step to run next<\/label>/);
  });
  it('inside a For each offers its body only', () => {
    const html = inspector(examples[1], 'points');
    expect(html).toContain('data-testid="next-steps"');
    expect(html).toContain('No step can follow this one here');
  });
});

describe('number fields render', () => {
  const refs = { workflow: examples[1], stepId: 'score', catalog };
  const schema = catalog.stepType('fanout')!.input;
  const render = (value: Record<string, unknown>) => renderToStaticMarkup(<SchemaForm schema={schema} value={value} onChange={() => {}} refs={refs} idPrefix="n" />);
  it('a number saved as text keeps the number input, with a warning', () => {
    const html = render({ items: '<<trigger.candidates>>', concurrency: '45' });
    expect(html).toContain('placeholder="a whole number"');
    expect(html).toContain('saved as text');
  });
  it('a number and a reference show as they are', () => {
    expect(render({ items: '<<trigger.candidates>>', concurrency: 5 })).toMatch(/value="5"/);
    expect(render({ items: '<<trigger.candidates>>', concurrency: '<<vars.n>>' })).toContain('value="&lt;&lt;vars.n&gt;&gt;"');
  });
});

describe('trigger helpers', () => {
  it.each([
    ['0 9 * * *', 'every day at 09:00'],
    ['30 8 * * MON-FRI', 'every weekday (Monday to Friday) at 08:30'],
    ['0 0 9 * * 1-5', 'every weekday (Monday to Friday) at 09:00'],
    ['*/15 * * * *', 'every 15 minutes'],
    ['0 * * * *', 'every hour at minute 0'],
    ['0 9 * * 1', 'every Monday at 09:00'],
    ['0 9 1 * *', 'on day 1 of every month at 09:00'],
    ['@daily', 'every day at 00:00'],
    ['0 9 * 1 *', null],
    ['nonsense', null],
  ])('cronHint(%s)', (cron, hint) => expect(cronHint(cron)).toBe(hint));

  it('changeTriggerType keeps compatible keys in order', () => {
    const t = { type: 'lever.candidate_created', connection: 'local', poll_interval: '30s', position: { x: 1, y: 2 } };
    expect(changeTriggerType(t, 'lever.candidate_updated', catalog.triggerType('lever.candidate_updated'))).toEqual({ type: 'lever.candidate_updated', connection: 'local', position: { x: 1, y: 2 } });
    expect(changeTriggerType(t, 'lever.posting_created', catalog.triggerType('lever.posting_created'))).toEqual({ ...t, type: 'lever.posting_created' });
    expect(changeTriggerType({ type: 'schedule', cron: '* * * * *', timezone: 'UTC' }, 'api', catalog.triggerType('api'))).toEqual({ type: 'api' });
  });
});

describe('any-typed fields', () => {
  it('text with references stays text, objects show as JSON', () => {
    const refs = { workflow: examples[1], stepId: 'best', catalog };
    const schema = catalog.stepType('transform')!.input;
    const text = renderToStaticMarkup(<SchemaForm schema={schema} value={{ value: '<<steps.score>>' }} onChange={() => {}} refs={refs} idPrefix="a" />);
    expect(text).toContain('Edit as JSON');
    expect(text).toContain(">&lt;&lt;steps.score&gt;&gt;</textarea>");
    const json = renderToStaticMarkup(<SchemaForm schema={schema} value={{ value: { a: 1 } }} onChange={() => {}} refs={refs} idPrefix="a" />);
    expect(json).toContain('<textarea');
    expect(json).toContain('&quot;a&quot;: 1');
  });
});
