// The side panel that edits the selected node: a step (name, id,
// connection, input form, settings) or the trigger (workflow name, trigger
// type and its settings). Changes leave every key the user did not touch as
// it was: optional keys are added only when set and removed when cleared.
import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { Connection, Problem, Run, Step, Trigger, TriggerType, Workflow } from '../api/types';
import { useCatalog, type Catalog } from '../catalog';
import { SchemaForm } from '../forms/SchemaForm';
import { fieldsFor, removeAtPath, setAtPath, type FieldModel } from '../forms/schemaForm';
import { caseBranchRenames, connect, disconnect, edgeIdsOf, renameBranch, stepTitle, type PendingCaseBranches } from '../graph/mapping';
import { branchesOf, findStep, problemsByNode, scopeOf, TRIGGER_ID, updateStep } from '../model';
import type { RefContext } from '../refs/choices';
import './inspector.css';

export interface InspectorProps {
  workflow: Workflow;
  selected: string; // a step id or TRIGGER_ID
  onChange: (next: Workflow, mergeKey?: string) => void;
  onRenameStep: (oldId: string, newId: string) => string | null; // returns an error message or null
  problems: Problem[];
  lastRun?: Run | null;
  connections: Connection[];
  onConnect: () => void;
  onTestStep?: (stepId: string) => void;
  /** A "Test step" is in flight: the button waits for it. */
  testingStep?: boolean;
}

type FieldProblem = Problem & { field: string };

export function Inspector(props: InspectorProps) {
  const { workflow, selected, problems } = props;
  const byNode = useMemo(() => problemsByNode(workflow, problems), [workflow, problems]);
  const mine = byNode[selected] ?? [];
  return (
    <div className="inspector" data-testid="inspector">
      {selected === TRIGGER_ID ? (
        <TriggerInspector {...props} nodeProblems={mine} />
      ) : findStep(workflow, selected) ? (
        <StepInspector key={selected} {...props} nodeProblems={mine} />
      ) : (
        <p className="muted">The step “{selected}” is not in this workflow any more.</p>
      )}
    </div>
  );
}

// ------------------------------------------------------------------ shared

function ProblemText({ id, text }: { id: string; text?: string }) {
  if (!text) return null;
  return (
    <div className="problem" id={id} data-testid={`problem-${id}`}>
      {text}
    </div>
  );
}

function TextSetting(props: {
  id: string;
  label: string;
  value: string | undefined;
  onChange(v: string): void;
  placeholder?: string;
  help?: ReactNode;
  problem?: string;
  testId?: string;
  required?: boolean;
  multiline?: boolean;
  onBlur?: () => void;
  onKeyDown?: (e: KeyboardEvent<HTMLInputElement | HTMLTextAreaElement>) => void;
}) {
  const { id, label, value, onChange, placeholder, help, problem, testId, required, multiline, onBlur, onKeyDown } = props;
  const describedBy = [help ? `${id}-help` : '', problem ? `${id}-problem` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    value: value ?? '',
    placeholder,
    'aria-describedby': describedBy,
    'aria-invalid': problem ? true : undefined,
    'aria-required': required || undefined,
    'data-testid': testId,
    onBlur,
    onKeyDown,
  };
  return (
    <div className="field">
      <label className="label" htmlFor={id}>
        {label}
        {required && (
          <span className="required" aria-hidden="true">
            *
          </span>
        )}
      </label>
      {multiline ? <textarea {...common} rows={3} onChange={(e) => onChange(e.target.value)} /> : <input {...common} type="text" onChange={(e) => onChange(e.target.value)} />}
      {help && (
        <div className="help" id={`${id}-help`}>
          {help}
        </div>
      )}
      <ProblemText id={`${id}-problem`} text={problem} />
    </div>
  );
}

function SelectSetting(props: {
  id: string;
  label: string;
  value: string;
  options: { value: string; label: string }[];
  onChange(v: string): void;
  help?: ReactNode;
  problem?: string;
  testId?: string;
}) {
  const { id, label, value, options, onChange, help, problem, testId } = props;
  const describedBy = [help ? `${id}-help` : '', problem ? `${id}-problem` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label className="label" htmlFor={id}>
        {label}
      </label>
      <select id={id} value={value} aria-describedby={describedBy} aria-invalid={problem ? true : undefined} data-testid={testId} onChange={(e) => onChange(e.target.value)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {help && (
        <div className="help" id={`${id}-help`}>
          {help}
        </div>
      )}
      <ProblemText id={`${id}-problem`} text={problem} />
    </div>
  );
}

const STATUS_TEXT: Record<string, string> = {
  connected: 'connected',
  needs_reauth: 'needs reconnecting',
};

/** The Lever connection of a step or trigger. */
function ConnectionPicker(props: {
  id: string;
  value: string | undefined;
  connections: Connection[];
  onChange(name: string | undefined): void;
  onConnect(): void;
  problem?: string;
}) {
  const { id, value, connections, onChange, onConnect, problem } = props;
  if (connections.length === 0) {
    return (
      <div className="field connection-picker">
        <span className="label">Lever connection</span>
        <div className="alert info">
          No Lever account is connected yet. Connect one to let this step talk to Lever.
          {value && (
            <>
              {' '}
              This step names the connection <code>{value}</code>, which does not exist here.
            </>
          )}
        </div>
        <div>
          <button type="button" className="primary" data-testid="connect-lever" onClick={onConnect}>
            Connect Lever
          </button>
        </div>
        <ProblemText id={`${id}-problem`} text={problem} />
      </div>
    );
  }
  const chosen = connections.find((c) => c.name === value);
  const describedBy = [`${id}-help`, problem ? `${id}-problem` : ''].filter(Boolean).join(' ');
  return (
    <div className="field connection-picker">
      <label className="label" htmlFor={id}>
        Lever connection
        <span className="required" aria-hidden="true">
          *
        </span>
      </label>
      <select
        id={id}
        value={value ?? ''}
        aria-required
        aria-describedby={describedBy}
        aria-invalid={problem ? true : undefined}
        data-testid="inspector-connection"
        onChange={(e) => onChange(e.target.value || undefined)}
      >
        {(!value || !chosen) && <option value={value && !chosen ? value : ''}>{value && !chosen ? `${value} (not found)` : 'Choose a connection…'}</option>}
        {connections.map((c) => (
          <option key={c.name} value={c.name}>
            {c.name}
            {c.account?.name ? ` – ${c.account.name}` : ''} ({STATUS_TEXT[c.status] ?? c.status.replace(/_/g, ' ')})
          </option>
        ))}
      </select>
      <div className="help" id={`${id}-help`}>
        {chosen ? (
          <>
            <span className={`badge ${chosen.status}`}>{STATUS_TEXT[chosen.status] ?? chosen.status}</span> {chosen.environment} · {chosen.auth === 'oauth' ? 'OAuth' : 'API key'}
          </>
        ) : value ? (
          `No connection is called “${value}”: choose one of the list.`
        ) : (
          'The Lever account this step acts with.'
        )}
      </div>
      {chosen && chosen.status !== 'connected' && (
        <div className="alert warn" role="status" data-testid="connection-warning">
          {chosen.status === 'needs_reauth' ? (
            <>The connection “{chosen.name}” needs to be reconnected: Lever no longer accepts its credentials, so this step will fail until it is.</>
          ) : (
            <>The connection “{chosen.name}” is {chosen.status.replace(/_/g, ' ')}.</>
          )}
          {chosen.status_message && <div className="small">{chosen.status_message}</div>}
          {chosen.fix && chosen.fix.length > 0 && (
            <ol className="small">
              {chosen.fix.map((f) => (
                <li key={f}>{f}</li>
              ))}
            </ol>
          )}
          <div>
            <button type="button" onClick={onConnect}>
              Open connections
            </button>
          </div>
        </div>
      )}
      <ProblemText id={`${id}-problem`} text={problem} />
    </div>
  );
}

function TopProblems({ problems }: { problems: Problem[] }) {
  if (problems.length === 0) return null;
  return (
    <div className="alert error" role="alert" data-testid="inspector-problems">
      {problems.length === 1 ? (
        problems[0].message
      ) : (
        <ul>
          {problems.map((p, i) => (
            <li key={i}>{p.message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function allPaths(fields: FieldModel[], out = new Set<string>()): Set<string> {
  for (const f of fields) {
    out.add(f.path);
    if (f.children) allPaths(f.children, out);
  }
  return out;
}

// -------------------------------------------------------------------- step

const SETTING_FIELDS = ['id', 'name', 'connection', 'on_error', 'timeout', 'retry', 'retry.max_attempts', 'retry.backoff', 'retry.initial', 'retry.max'];

function StepInspector(props: InspectorProps & { nodeProblems: FieldProblem[] }) {
  const { workflow, selected, onChange, onRenameStep, lastRun, connections, onConnect, onTestStep, testingStep, nodeProblems } = props;
  const catalog = useCatalog();
  const step = findStep(workflow, selected)!.step;
  const st = catalog.stepType(step.type);
  const prefix = `insp-${step.id}`.replace(/[^\w-]/g, '_');

  const refs = useMemo<RefContext>(() => ({ workflow, stepId: step.id, catalog, lastRun }), [workflow, step.id, catalog, lastRun]);
  const input = useMemo(() => (step.input && typeof step.input === 'object' ? step.input : {}), [step.input]);
  const fieldPaths = useMemo(() => allPaths(fieldsFor(st?.input, input)), [st, input]);

  const inputProblems: Record<string, string> = {};
  const settingProblems: Record<string, string> = {};
  const top: Problem[] = [];
  for (const p of nodeProblems) {
    if (fieldPaths.has(p.field) && !inputProblems[p.field]) inputProblems[p.field] = p.message;
    else if (SETTING_FIELDS.includes(p.field) && !settingProblems[p.field]) settingProblems[p.field] = p.message;
    else top.push(p);
  }

  const update = (fn: (s: Step) => Step, mergeKey?: string) => onChange(updateStep(workflow, step.id, fn), mergeKey);
  /** Sets a key of the step, or removes it when value is undefined; an emptied retry goes too. */
  const setKey = (path: string, value: unknown, typing = false) =>
    update((s) => {
      let next = value === undefined ? removeAtPath(s, path) : setAtPath(s, path, value);
      if (next.retry && typeof next.retry === 'object' && Object.keys(next.retry).length === 0) next = removeAtPath(next, 'retry');
      return next;
    }, typing ? `field:${step.id}:${path}` : undefined);

  // the step id, committed on blur or Enter (Escape puts the id back)
  const [idDraft, setIdDraft] = useState(step.id);
  const [idError, setIdError] = useState<string | null>(null);
  const commitId = () => {
    const next = idDraft.trim();
    if (next === step.id) {
      setIdDraft(step.id);
      return setIdError(null);
    }
    if (!next) return setIdError('A step needs an id: letters, digits and underscores, starting with a letter.');
    setIdError(onRenameStep(step.id, next));
  };
  const idKeyDown = (e: KeyboardEvent<HTMLInputElement | HTMLTextAreaElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      commitId();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      setIdDraft(step.id);
      setIdError(null);
    }
  };

  // a renamed switch case takes its edges along (see caseBranchRenames)
  const pendingCases = useRef<PendingCaseBranches>({});
  const changeInput = (next: Record<string, unknown>, mergeKey?: string) => {
    let wf = updateStep(workflow, step.id, (s) => ({ ...s, input: next }));
    const caseField = st?.case_branches;
    if (caseField) {
      const r = caseBranchRenames(input[caseField], next[caseField], pendingCases.current, st?.branches ?? []);
      pendingCases.current = r.pending;
      for (const [from, to] of r.renames) wf = renameBranch(wf, step.id, from, to);
    }
    onChange(wf, mergeKey);
  };

  const retry = step.retry ?? {};

  return (
    <div className="inspector-step">
      <header className="inspector-head">
        <div className="muted small">{st?.category ?? 'Step'}</div>
        <h2>{st?.title ?? step.type}</h2>
        {st ? <p className="muted small">{st.description}</p> : <div className="alert error">“{step.type}” is not a step type this server knows: choose another type or update the server.</div>}
      </header>
      <TopProblems problems={top} />

      <TextSetting
        id={`${prefix}-name`}
        label="Name"
        value={step.name}
        placeholder={st?.title ?? step.type}
        help="Shown on the canvas and in the run history."
        testId="inspector-name"
        problem={settingProblems.name}
        onChange={(v) => setKey('name', v === '' ? undefined : v, true)}
      />
      <TextSetting
        id={`${prefix}-id`}
        label="Step ID"
        value={idDraft}
        help={
          <>
            How other steps read this one’s output: <code>{`<<steps.${step.id}>>`}</code>. Renaming updates the references to it.
          </>
        }
        testId="inspector-step-id"
        required
        problem={idError ?? settingProblems.id}
        onChange={setIdDraft}
        onBlur={commitId}
        onKeyDown={idKeyDown}
      />

      {st?.needs_connection && (
        <ConnectionPicker
          id={`${prefix}-connection`}
          value={step.connection}
          connections={connections}
          onConnect={onConnect}
          problem={settingProblems.connection}
          onChange={(name) => setKey('connection', name)}
        />
      )}

      <section className="inspector-section" aria-labelledby={`${prefix}-input-h`}>
        <h3 id={`${prefix}-input-h`}>Input</h3>
        {st?.input?.description && <p className="muted small">{st.input.description}</p>}
        {st?.case_branches && (
          <p className="help small">Each case’s name becomes a branch of this step: connect steps to it on the canvas. Cases are tried in order; “default” runs when none is true.</p>
        )}
        <SchemaForm
          schema={st?.input}
          value={input}
          refs={refs}
          idPrefix={prefix}
          problems={inputProblems}
          onChange={(next, key) => changeInput(next, key ? `field:${step.id}:${key}` : undefined)}
        />
      </section>

      <NextSteps workflow={workflow} step={step} catalog={catalog} prefix={prefix} onChange={onChange} />

      <section className="inspector-section" aria-labelledby={`${prefix}-settings-h`}>
        <h3 id={`${prefix}-settings-h`}>Settings</h3>
        <SelectSetting
          id={`${prefix}-on-error`}
          label="When this step fails"
          value={step.on_error ?? 'fail'}
          testId="inspector-on-error"
          problem={settingProblems.on_error}
          options={[
            { value: 'fail', label: 'Fail the run' },
            { value: 'continue', label: 'Continue (the next steps see the error)' },
            ...(step.on_error && step.on_error !== 'fail' && step.on_error !== 'continue' ? [{ value: step.on_error, label: step.on_error }] : []),
          ]}
          onChange={(v) => setKey('on_error', v)}
        />
        <TextSetting
          id={`${prefix}-timeout`}
          label="Timeout"
          value={step.timeout}
          placeholder="e.g. 30s, 5m"
          help="How long one attempt may take (a Go duration such as 30s or 5m). Empty: the server’s default."
          problem={settingProblems.timeout}
          onChange={(v) => setKey('timeout', v.trim() === '' ? undefined : v, true)}
        />
        <fieldset className="subform retry" aria-describedby={`${prefix}-retry-help`}>
          <legend>Retry</legend>
          <div className="help" id={`${prefix}-retry-help`}>
            Attempts again when the step fails for a reason that may pass (a timeout, Lever busy). Empty fields: the defaults.
          </div>
          <div className="retry-grid">
            <TextSetting
              id={`${prefix}-retry-max-attempts`}
              label="Max attempts"
              value={retry.max_attempts === undefined ? '' : String(retry.max_attempts)}
              placeholder="e.g. 3"
              problem={settingProblems['retry.max_attempts']}
              onChange={(v) => {
                const t = v.trim();
                setKey('retry.max_attempts', t === '' ? undefined : /^\d+$/.test(t) ? Number(t) : v, true);
              }}
            />
            <SelectSetting
              id={`${prefix}-retry-backoff`}
              label="Backoff"
              value={retry.backoff ?? ''}
              problem={settingProblems['retry.backoff']}
              options={[
                { value: '', label: 'Default' },
                { value: 'fixed', label: 'Fixed: the same wait each time' },
                { value: 'exponential', label: 'Exponential: doubling waits' },
                ...(retry.backoff && retry.backoff !== 'fixed' && retry.backoff !== 'exponential' ? [{ value: retry.backoff, label: retry.backoff }] : []),
              ]}
              onChange={(v) => setKey('retry.backoff', v || undefined)}
            />
            <TextSetting
              id={`${prefix}-retry-initial`}
              label="First wait"
              value={retry.initial}
              placeholder="e.g. 1s"
              problem={settingProblems['retry.initial']}
              onChange={(v) => setKey('retry.initial', v.trim() === '' ? undefined : v, true)}
            />
            <TextSetting
              id={`${prefix}-retry-max`}
              label="Longest wait"
              value={retry.max}
              placeholder="e.g. 1m"
              problem={settingProblems['retry.max']}
              onChange={(v) => setKey('retry.max', v.trim() === '' ? undefined : v, true)}
            />
          </div>
          <ProblemText id={`${prefix}-retry-problem`} text={settingProblems.retry} />
        </fieldset>
      </section>

      {onTestStep && st?.container ? (
        <p className="muted small">To test a {st.title}, test the steps inside it (they get its first item), or test the whole workflow.</p>
      ) : onTestStep ? (
        <div className="inspector-actions">
          <button type="button" className="primary" data-testid="inspector-test-step" disabled={testingStep} onClick={() => onTestStep(step.id)}>
            {testingStep ? 'Testing…' : 'Test step'}
          </button>
          <span className="muted small">
            Runs this step alone with the last run’s data (or the trigger’s example).
            {st?.needs_connection || st?.category === 'HTTP' ? ' It acts for real: a Lever step changes the connected Lever account.' : ''}
          </span>
        </div>
      ) : null}
    </div>
  );
}

// -------------------------------------------------------------- next steps

/**
 * The steps that run after this one, with the keyboard: its outgoing edges
 * (each removable) and a picker to add one, which connect() checks (same
 * level, no loop, not twice).
 */
function NextSteps({ workflow, step, catalog, prefix, onChange }: { workflow: Workflow; step: Step; catalog: Catalog; prefix: string; onChange: InspectorProps['onChange'] }) {
  const st = catalog.stepType(step.type);
  const loc = findStep(workflow, step.id);
  const scope = scopeOf(workflow, loc?.parent?.id ?? null);
  const graphIds = edgeIdsOf(scope.edges);
  const outgoing = scope.edges.map((e, i) => ({ e, gid: graphIds[i] })).filter(({ e }) => e.from === step.id);
  const branching = (st?.branches?.length ?? 0) > 0 || !!st?.case_branches;
  const branches = branching ? branchesOf(step, st?.branches, st?.case_branches) : [];
  const [branch, setBranch] = useState('');
  const [target, setTarget] = useState('');
  const [error, setError] = useState<string | null>(null);
  const chosenBranch = branching ? (branches.includes(branch) ? branch : (branches[0] ?? '')) : '';
  const titleOf = (id: string) => {
    const s = scope.steps.find((x) => x.id === id);
    return s ? stepTitle(s, catalog.stepType(s.type)) : id;
  };
  const candidates = scope.steps.filter((s) => s.id !== step.id && !connect(workflow, step.id, s.id, chosenBranch || undefined).error);
  const chosenTarget = candidates.some((s) => s.id === target) ? target : '';
  const ids = { list: `${prefix}-next-h`, target: `${prefix}-next-target`, branch: `${prefix}-next-branch`, error: `${prefix}-next-error` };

  const add = () => {
    if (branching && !chosenBranch) return setError('This step has no branch to leave from yet: name a case first.');
    if (!chosenTarget) return setError('Choose the step to run next.');
    const r = connect(workflow, step.id, chosenTarget, chosenBranch || undefined);
    if (r.error) return setError(r.error);
    setError(null);
    setTarget('');
    if (r.wf !== workflow) onChange(r.wf);
  };

  return (
    <section className="inspector-section" aria-labelledby={ids.list} data-testid="next-steps">
      <h3 id={ids.list}>Next steps</h3>
      {outgoing.length === 0 ? (
        <p className="muted small">{loc?.parent ? 'No step runs after this one in the For each.' : 'No step runs after this one.'}</p>
      ) : (
        <ul className="next-steps-list">
          {outgoing.map(({ e, gid }) => {
            const text = `${e.branch ? `${e.branch} → ` : ''}${titleOf(e.to)}`;
            return (
              <li key={gid} className="row">
                <span>
                  {text} <span className="muted small mono">({e.to})</span>
                </span>
                <button
                  type="button"
                  className="small"
                  aria-label={`Remove the edge ${text}`}
                  data-testid={`next-step-remove-${e.to}`}
                  onClick={() => {
                    setError(null);
                    onChange(disconnect(workflow, [gid]));
                  }}
                >
                  Remove
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <fieldset className="subform">
        <legend>Add a next step</legend>
        {branching && (
          <div className="field">
            <label className="label" htmlFor={ids.branch}>
              Branch
            </label>
            <select id={ids.branch} value={chosenBranch} data-testid="next-step-branch" onChange={(e) => (setBranch(e.target.value), setError(null))} disabled={branches.length === 0}>
              {branches.length === 0 && <option value="">No branches yet</option>}
              {branches.map((b) => (
                <option key={b} value={b}>
                  {b}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="field">
          <label className="label" htmlFor={ids.target}>
            Step to run next
          </label>
          <select
            id={ids.target}
            value={chosenTarget}
            data-testid="next-step-target"
            aria-describedby={error ? ids.error : undefined}
            aria-invalid={error ? true : undefined}
            onChange={(e) => (setTarget(e.target.value), setError(null))}
          >
            <option value="">{candidates.length ? 'Choose a step…' : 'No step can follow this one here'}</option>
            {candidates.map((s) => (
              <option key={s.id} value={s.id}>
                {stepTitle(s, catalog.stepType(s.type))} ({s.id})
              </option>
            ))}
          </select>
          {candidates.length === 0 && (
            <div className="help">
              Only steps {loc?.parent ? 'in the same For each' : 'at the top level'} can follow it, once each{branching ? ' per branch' : ''}, and never one that runs before it (workflows cannot loop).
            </div>
          )}
        </div>
        <button type="button" data-testid="next-step-add" onClick={add}>
          Connect
        </button>
        {error && (
          <div className="problem" id={ids.error} role="alert">
            {error}
          </div>
        )}
      </fieldset>
    </section>
  );
}

// ----------------------------------------------------------------- trigger

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DAY_NAMES: Record<string, number> = { SUN: 0, MON: 1, TUE: 2, WED: 3, THU: 4, FRI: 5, SAT: 6, '7': 0 };

function dayIndex(d: string): number | null {
  const u = d.toUpperCase();
  if (u in DAY_NAMES) return DAY_NAMES[u];
  return /^[0-6]$/.test(d) ? Number(d) : null;
}

/** A plain-English reading of simple cron expressions ("every day at 09:00"), else null. */
export function cronHint(cron: string | undefined): string | null {
  const c = (cron ?? '').trim();
  if (!c) return null;
  const desc: Record<string, string> = {
    '@yearly': 'once a year, on 1 January at 00:00',
    '@annually': 'once a year, on 1 January at 00:00',
    '@monthly': 'on the 1st of every month at 00:00',
    '@weekly': 'every Sunday at 00:00',
    '@daily': 'every day at 00:00',
    '@midnight': 'every day at 00:00',
    '@hourly': 'every hour, on the hour',
  };
  if (desc[c]) return desc[c];
  const every = /^@every\s+(\S+)$/.exec(c);
  if (every) return `every ${every[1]}`;
  let f = c.split(/\s+/);
  let sec = '';
  if (f.length === 6) {
    sec = f[0];
    f = f.slice(1);
  }
  if (f.length !== 5) return null;
  const [min, hour, dom, mon, dow] = f;
  const num = (s: string) => /^\d+$/.test(s);
  const pad = (s: string) => s.padStart(2, '0');
  const secText = sec && sec !== '0' ? (num(sec) ? ` and ${sec} seconds` : null) : '';
  if (secText === null) return null;
  if (mon !== '*') return null;
  if (min === '*' && hour === '*' && dom === '*' && dow === '*') return sec && sec !== '0' ? null : 'every minute';
  const stepM = /^\*\/(\d+)$/.exec(min);
  if (stepM && hour === '*' && dom === '*' && dow === '*') return `every ${stepM[1]} minutes`;
  if (num(min) && hour === '*' && dom === '*' && dow === '*') return `every hour at minute ${min}`;
  const stepH = /^\*\/(\d+)$/.exec(hour);
  if (num(min) && stepH && dom === '*' && dow === '*') return `every ${stepH[1]} hours at minute ${min}`;
  if (!num(min) || !num(hour)) return null;
  const at = `at ${pad(hour)}:${pad(min)}${secText}`;
  if (dom === '*' && dow === '*') return `every day ${at}`;
  if (dom === '*') {
    const range = /^(\w+)-(\w+)$/.exec(dow);
    if (range) {
      const a = dayIndex(range[1]);
      const b = dayIndex(range[2]);
      if (a === 1 && b === 5) return `every weekday (Monday to Friday) ${at}`;
      if (a !== null && b !== null) return `every ${DAYS[a]} to ${DAYS[b]} ${at}`;
      return null;
    }
    const list = dow.split(',').map(dayIndex);
    if (list.every((d) => d !== null)) {
      const names = list.map((d) => DAYS[d!]);
      return `every ${names.length > 1 ? names.slice(0, -1).join(', ') + ' and ' + names[names.length - 1] : names[0]} ${at}`;
    }
    return null;
  }
  if (dow === '*' && num(dom)) return `on day ${dom} of every month ${at}`;
  return null;
}

function timeZones(): string[] {
  try {
    const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
    return intl.supportedValuesOf?.('timeZone') ?? [];
  } catch {
    return [];
  }
}

/** Keys of a trigger that belong to some trigger types only. */
const SCHEDULE_KEYS = ['cron', 'timezone', 'overlap', 'catch_up', 'catch_up_max'];

/** The trigger with a new type, keeping the keys the new type still uses, in place. */
export function changeTriggerType(trigger: Trigger, type: string, tt: TriggerType | undefined): Trigger {
  const isSchedule = tt?.delivery === 'schedule' || type === 'schedule';
  const polls = tt?.delivery.includes('poll') ?? false;
  const out: Trigger = 'type' in trigger ? ({} as Trigger) : { type };
  for (const [k, v] of Object.entries(trigger)) {
    if (k === 'type') out.type = type;
    else if (k === 'connection' && !tt?.needs_connection) continue;
    else if (SCHEDULE_KEYS.includes(k) && !isSchedule) continue;
    else if (k === 'poll_interval' && !polls) continue;
    else out[k] = v;
  }
  return out;
}

function TriggerInspector(props: InspectorProps & { nodeProblems: FieldProblem[] }) {
  const { workflow, onChange, connections, onConnect, nodeProblems } = props;
  const catalog = useCatalog();
  const trigger = workflow.trigger ?? { type: '' };
  const tt = catalog.triggerType(trigger.type);
  const prefix = 'insp-trigger';
  const zones = useMemo(timeZones, []);
  const [cronShown, setCronShown] = useState(trigger.cron ?? '');
  useEffect(() => {
    const t = setTimeout(() => setCronShown(trigger.cron ?? ''), 150);
    return () => clearTimeout(t);
  }, [trigger.cron]);

  const fieldFor: Record<string, string> = {
    name: 'name',
    description: 'description',
    'trigger.type': 'type',
    trigger: 'type',
    'trigger.connection': 'connection',
    'trigger.cron': 'cron',
    'trigger.timezone': 'timezone',
    'trigger.overlap': 'overlap',
    'trigger.catch_up': 'catch_up',
    'trigger.catch_up_max': 'catch_up_max',
    'trigger.poll_interval': 'poll_interval',
  };
  const isSchedule = tt?.delivery === 'schedule' || trigger.type === 'schedule';
  const polls = tt?.delivery.includes('poll') ?? false;
  const shown = new Set(['name', 'description', 'type', ...(tt?.needs_connection ? ['connection'] : []), ...(isSchedule ? SCHEDULE_KEYS : []), ...(polls ? ['poll_interval'] : [])]);
  const fp: Record<string, string> = {};
  const top: Problem[] = [];
  for (const p of nodeProblems) {
    const key = fieldFor[p.field];
    if (key && shown.has(key) && !fp[key]) fp[key] = p.message;
    else top.push(p);
  }

  const setWf = (key: string, v: string | undefined, typing = false) =>
    onChange(v === undefined ? removeAtPath(workflow, key) : setAtPath(workflow, key, v), typing ? `field:${TRIGGER_ID}:${key}` : undefined);
  const setTrigger = (key: string, v: unknown, typing = false) =>
    onChange(
      { ...workflow, trigger: v === undefined ? removeAtPath(trigger, key) : setAtPath(trigger, key, v) },
      typing ? `field:${TRIGGER_ID}:trigger.${key}` : undefined,
    );

  const categories = useMemo(() => {
    const m = new Map<string, TriggerType[]>();
    for (const t of catalog.triggerTypes) m.set(t.category, [...(m.get(t.category) ?? []), t]);
    return [...m];
  }, [catalog.triggerTypes]);

  const hint = cronHint(cronShown);
  const cronFields = cronShown.trim().split(/\s+/).filter(Boolean).length;

  return (
    <div className="inspector-trigger">
      <header className="inspector-head">
        <div className="muted small">Workflow</div>
        <h2>Trigger and workflow</h2>
      </header>
      <TopProblems problems={top} />
      <TextSetting
        id={`${prefix}-name`}
        label="Workflow name"
        value={workflow.name}
        required
        testId="inspector-name"
        problem={fp.name}
        onChange={(v) => setWf('name', v, true)}
      />
      <TextSetting
        id={`${prefix}-description`}
        label="Description"
        value={workflow.description}
        multiline
        help="What the workflow does, for the people who read it later."
        problem={fp.description}
        onChange={(v) => setWf('description', v === '' ? undefined : v, true)}
      />

      <section className="inspector-section" aria-labelledby={`${prefix}-h`}>
        <h3 id={`${prefix}-h`}>Trigger</h3>
        <div className="field">
          <label className="label" htmlFor={`${prefix}-type`}>
            Starts when
            <span className="required" aria-hidden="true">
              *
            </span>
          </label>
          <select
            id={`${prefix}-type`}
            value={trigger.type}
            aria-required
            aria-describedby={`${prefix}-type-help${fp.type ? ` ${prefix}-type-problem` : ''}`}
            aria-invalid={fp.type ? true : undefined}
            data-testid="inspector-trigger-type"
            onChange={(e) => {
              const next = catalog.triggerType(e.target.value);
              onChange({ ...workflow, trigger: changeTriggerType(trigger, e.target.value, next) });
            }}
          >
            {!tt && <option value={trigger.type}>{trigger.type ? `${trigger.type} (unknown)` : 'Choose a trigger…'}</option>}
            {categories.map(([cat, types]) => (
              <optgroup key={cat} label={cat}>
                {types.map((t) => (
                  <option key={t.type} value={t.type}>
                    {t.title}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
          <div className="help" id={`${prefix}-type-help`}>
            {tt ? tt.description : trigger.type ? `“${trigger.type}” is not a trigger type this server knows: choose one of the list.` : 'What starts a run of this workflow.'}
          </div>
          <ProblemText id={`${prefix}-type-problem`} text={fp.type} />
        </div>

        {tt?.needs_connection && (
          <ConnectionPicker
            id={`${prefix}-connection`}
            value={trigger.connection}
            connections={connections}
            onConnect={onConnect}
            problem={fp.connection}
            onChange={(name) => setTrigger('connection', name)}
          />
        )}

        {isSchedule && (
          <>
            <TextSetting
              id={`${prefix}-cron`}
              label="Cron"
              value={trigger.cron}
              required
              placeholder="0 9 * * MON-FRI"
              testId="inspector-cron"
              help={
                <>
                  {hint ? (
                    <strong data-testid="cron-hint">Runs {hint}.</strong>
                  ) : cronShown.trim() && cronFields !== 5 && cronFields !== 6 && !cronShown.trim().startsWith('@') ? (
                    <span className="warn-text">A cron expression has 5 fields: minute hour day-of-month month day-of-week (a 6th, seconds, may come first).</span>
                  ) : null}{' '}
                  Five fields: minute, hour, day of month, month, day of week; “0 9 * * MON-FRI” is 09:00 on weekdays.
                </>
              }
              problem={fp.cron}
              onChange={(v) => setTrigger('cron', v === '' ? undefined : v, true)}
            />
            <div className="field">
              <label className="label" htmlFor={`${prefix}-timezone`}>
                Time zone
              </label>
              <input
                id={`${prefix}-timezone`}
                type="text"
                list={`${prefix}-zones`}
                value={trigger.timezone ?? ''}
                placeholder="UTC"
                aria-describedby={`${prefix}-timezone-help${fp.timezone ? ` ${prefix}-timezone-problem` : ''}`}
                aria-invalid={fp.timezone ? true : undefined}
                data-testid="inspector-timezone"
                onChange={(e) => setTrigger('timezone', e.target.value === '' ? undefined : e.target.value, true)}
              />
              <datalist id={`${prefix}-zones`}>
                {zones.map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
              <div className="help" id={`${prefix}-timezone-help`}>
                The IANA zone the times are read in, such as Europe/Berlin. Empty: UTC.
              </div>
              <ProblemText id={`${prefix}-timezone-problem`} text={fp.timezone} />
            </div>
            <SelectSetting
              id={`${prefix}-overlap`}
              label="When the previous run is still running"
              value={trigger.overlap ?? ''}
              problem={fp.overlap}
              options={[
                { value: '', label: 'Default (skip)' },
                { value: 'skip', label: 'Skip this time' },
                { value: 'queue', label: 'Queue it: run after the previous one' },
                { value: 'allow', label: 'Run both at once' },
              ]}
              onChange={(v) => setTrigger('overlap', v || undefined)}
            />
            <SelectSetting
              id={`${prefix}-catch-up`}
              label="Times missed while the server was down"
              value={trigger.catch_up ?? ''}
              problem={fp.catch_up}
              options={[
                { value: '', label: 'Default' },
                { value: 'none', label: 'Skip them' },
                { value: 'last', label: 'Run the last one' },
                { value: 'all', label: 'Run them all (up to the maximum)' },
              ]}
              onChange={(v) => setTrigger('catch_up', v || undefined)}
            />
          </>
        )}

        {polls && (
          <TextSetting
            id={`${prefix}-poll-interval`}
            label="Check Lever every"
            value={trigger.poll_interval}
            placeholder="1m"
            help="How often Leverflow asks Lever for changes it does not send as webhooks (a Go duration, at least 1s). Empty: every minute."
            problem={fp.poll_interval}
            onChange={(v) => setTrigger('poll_interval', v.trim() === '' ? undefined : v, true)}
          />
        )}
      </section>
    </div>
  );
}
