// The workflow editor: canvas, palette and inspector, test runs and test
// steps, the JSON tab and the version history. The draft workflow is the
// one source of truth; every change goes through the undo history.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { Connection, Problem, Run, Workflow, WorkflowView } from '../api/types';
import { useCatalog } from '../catalog';
import { navigate, setNavigationGuard } from '../router';
import { findStep, problemsByNode, TRIGGER_ID } from '../model';
import { useUndoable } from '../graph/history';
import { addStep, connect, renameStep } from '../graph/mapping';
import { stepStatuses } from '../runStatus';
import { Canvas } from './Canvas';
import { Palette } from './Palette';
import { changeTriggerType, Inspector } from './Inspector';
import { StepRunDetails } from '../components/StepRunDetails';
import { StatusBadge } from '../components/StatusBadge';
import { JsonTree } from '../components/JsonTree';
import { JsonTab } from './JsonTab';
import { VersionsTab } from './VersionsTab';
import { TestRunDialog } from './TestRunDialog';
import { testInputsOf } from './testPayload';
import './editor.css';

const NEW_WORKFLOW: Workflow = { name: 'Untitled workflow', trigger: { type: 'api' }, steps: [], edges: [] };

type Tab = 'canvas' | 'json' | 'versions';
type SidePanel = 'inspector' | 'result';

/** The result of "Test step", shown in the side panel. */
interface StepTest {
  stepId: string;
  status: 'succeeded' | 'failed' | 'waiting' | 'running';
  input?: unknown;
  output?: unknown;
  error?: string;
  durationMs?: number;
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * A notice handed from the page that created a workflow to the page of
 * its id (the route changes from /workflows/new, which mounts a new page).
 */
let handoff: { id: string; text: string; testTrigger?: unknown } | null = null;

function slugOf(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50);
  return /^[a-z0-9]/.test(s) ? s : '';
}

export function EditorPage({ workflowId }: { workflowId: string | null }) {
  const catalog = useCatalog();
  const history = useUndoable<Workflow>(NEW_WORKFLOW);
  const draft = history.value;
  const [saved, setSaved] = useState<WorkflowView | null>(null);
  const [savedJSON, setSavedJSON] = useState(JSON.stringify(NEW_WORKFLOW));
  const [loadError, setLoadError] = useState('');
  const [loading, setLoading] = useState(workflowId !== null);
  // A test run asked for before the first save, started once loaded.
  const pendingTest = useRef<unknown>(undefined);
  const [selected, setSelected] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>('canvas');
  const [panel, setPanel] = useState<SidePanel>('inspector');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error' | 'info'; text: string } | null>(() => {
    if (handoff && handoff.id === workflowId) {
      const { text, testTrigger } = handoff;
      pendingTest.current = testTrigger;
      handoff = null;
      return { kind: 'ok', text };
    }
    return null;
  });
  const [busy, setBusy] = useState('');
  const [connections, setConnections] = useState<Connection[]>([]);
  const [lastRun, setLastRun] = useState<Run | null>(null);
  const [stepTest, setStepTest] = useState<StepTest | null>(null);
  const [testOpen, setTestOpen] = useState(false);
  // The test run being watched: a new run or leaving the page bumps gen,
  // which ends the older polling chain.
  const pollRef = useRef<{ gen: number; timer: number | null }>({ gen: 0, timer: null });

  const dirty = JSON.stringify(draft) !== savedJSON;

  // Leaving with unsaved changes asks first (in the app and when the tab
  // closes or reloads).
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  useEffect(() => {
    const question = () => (dirtyRef.current ? 'This workflow has unsaved changes. Leave and lose them?' : null);
    setNavigationGuard(question);
    const onUnload = (e: BeforeUnloadEvent) => {
      if (dirtyRef.current) e.preventDefault();
    };
    window.addEventListener('beforeunload', onUnload);
    return () => {
      setNavigationGuard(null);
      window.removeEventListener('beforeunload', onUnload);
    };
  }, []);

  // Load the workflow (or start a new one) and the connections.
  useEffect(() => {
    let cancelled = false;
    const loadConnections = () =>
      api.listConnections().then((c) => !cancelled && setConnections(c)).catch(() => {});
    loadConnections();
    window.addEventListener('focus', loadConnections);
    if (workflowId) {
      api
        .getWorkflow(workflowId)
        .then((v) => {
          if (cancelled) return;
          setSaved(v);
          setSavedJSON(JSON.stringify(v.workflow));
          history.reset(v.workflow);
        })
        .catch((e: unknown) => !cancelled && setLoadError(e instanceof Error ? e.message : String(e)))
        .finally(() => !cancelled && setLoading(false));
      api
        .listRuns({ workflow_id: workflowId, limit: 1 })
        .then((p) => (p.runs[0] ? api.getRun(p.runs[0].id) : null))
        .then((r) => !cancelled && r && setLastRun(r))
        .catch(() => {});
    } else {
      history.reset(NEW_WORKFLOW);
      setSelected(TRIGGER_ID);
    }
    return () => {
      cancelled = true;
      window.removeEventListener('focus', loadConnections);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [workflowId]);

  // Validate the draft on the server as it changes, so problems show on
  // their field and node before saving.
  useEffect(() => {
    if (loading) return;
    const ctl = new AbortController();
    const t = window.setTimeout(() => {
      api
        .validateWorkflow(draft)
        .then((r) => !ctl.signal.aborted && setProblems(r.problems ?? []))
        .catch(() => {});
    }, 300);
    return () => {
      ctl.abort();
      window.clearTimeout(t);
    };
  }, [draft, loading]);

  useEffect(() => () => stopPolling(), []);

  function stopPolling() {
    const p = pollRef.current;
    p.gen++;
    if (p.timer !== null) window.clearTimeout(p.timer);
    p.timer = null;
  }

  useEffect(() => {
    if (!loading && saved && pendingTest.current !== undefined) {
      const trigger = pendingTest.current;
      pendingTest.current = undefined;
      void runTest(trigger);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [loading, saved]);

  const onChange = useCallback((next: Workflow, mergeKey?: string) => history.set(next, mergeKey), [history]);

  const nodeProblems = useMemo(() => {
    const out: Record<string, string[]> = {};
    for (const [id, list] of Object.entries(problemsByNode(draft, problems))) {
      out[id] = list.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message));
    }
    return out;
  }, [draft, problems]);

  const defaultConnection = connections.find((c) => c.status === 'connected')?.name ?? connections[0]?.name;

  const statuses = useMemo(() => (lastRun ? stepStatuses(lastRun) : undefined), [lastRun]);

  // ---- saving ----
  const save = useCallback(async (testTrigger?: unknown): Promise<WorkflowView | null> => {
    setBusy('save');
    setNotice(null);
    try {
      let v: WorkflowView;
      if (saved) {
        v = await api.updateWorkflow(saved.id, draft);
      } else {
        const slug = slugOf(draft.name);
        try {
          v = await api.createWorkflow(draft, slug || undefined);
        } catch (e) {
          if (e instanceof ApiError && e.status === 409 && slug) v = await api.createWorkflow(draft);
          else throw e;
        }
      }
      setSaved(v);
      setSavedJSON(JSON.stringify(draft));
      setProblems([]);
      setNotice({ kind: 'ok', text: `Saved version ${v.version}.` });
      if (!workflowId) {
        handoff = { id: v.id, text: `Saved version ${v.version}.`, testTrigger };
        navigate(`/workflows/${encodeURIComponent(v.id)}`, true);
      }
      return v;
    } catch (e) {
      if (e instanceof ApiError && e.problems.length) {
        setProblems(e.problems);
        setNotice({ kind: 'error', text: `Not saved: ${e.problems.length === 1 ? 'there is a problem' : `there are ${e.problems.length} problems`} to fix first (marked in red).` });
      } else setNotice({ kind: 'error', text: `Not saved: ${e instanceof Error ? e.message : String(e)}` });
      return null;
    } finally {
      setBusy('');
    }
  }, [draft, saved, workflowId]);

  // Ctrl/Cmd+S saves.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') {
        e.preventDefault();
        if (!busy && (dirty || !saved)) void save();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [save, busy, dirty, saved]);

  async function toggleEnabled() {
    if (!saved) return;
    setBusy('enable');
    try {
      if (saved.enabled) await api.disableWorkflow(saved.id);
      else await api.enableWorkflow(saved.id);
      setSaved({ ...saved, enabled: !saved.enabled });
      setNotice({ kind: 'ok', text: saved.enabled ? 'Disabled: the trigger no longer starts runs.' : 'Enabled: the trigger now starts runs.' });
    } catch (e) {
      if (e instanceof ApiError && e.problems.length) setProblems(e.problems);
      setNotice({ kind: 'error', text: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy('');
    }
  }

  // ---- test runs ----
  /**
   * Watches a test run until it ends: every 400 ms while it runs, every
   * 3 s while it waits (a delay or a back-off), and on through failed
   * requests (the server may be restarting).
   */
  function watch(runId: string) {
    stopPolling();
    const gen = pollRef.current.gen;
    let failures = 0;
    const tick = () => {
      api
        .getRun(runId)
        .then((r) => {
          if (pollRef.current.gen !== gen) return;
          failures = 0;
          setLastRun(r);
          if (!FINISHED.has(r.status)) {
            pollRef.current.timer = window.setTimeout(tick, r.status === 'waiting' ? 3000 : 400);
            if (r.status === 'waiting') setNotice({ kind: 'info', text: `The test run is waiting${r.wait_reason ? `: ${r.wait_reason}` : ' (a delay or a retry back-off)'}; it goes on by itself.` });
          } else {
            setNotice({ kind: r.status === 'succeeded' ? 'ok' : 'error', text: r.status === 'succeeded' ? 'Test run succeeded: click a step to see its output.' : `Test run ${r.status}: ${r.error}` });
          }
        })
        .catch((e: unknown) => {
          if (pollRef.current.gen !== gen) return;
          failures++;
          if (failures === 3) setNotice({ kind: 'error', text: `Cannot read the test run (still trying): ${e instanceof Error ? e.message : String(e)}` });
          pollRef.current.timer = window.setTimeout(tick, Math.min(5000, 500 * failures));
        });
    };
    tick();
  }

  async function runTest(trigger: unknown) {
    setTestOpen(false);
    if (!saved) {
      // The first save moves to the workflow's own page, which runs it.
      await save(trigger);
      return;
    }
    const v = dirty ? await save() : saved;
    if (!v) return;
    setBusy('test');
    try {
      const run = await api.startRun(v.id, trigger);
      setNotice({ kind: 'info', text: 'Test run started…' });
      setPanel('result');
      watch(run.id);
    } catch (e) {
      setNotice({ kind: 'error', text: `The test run did not start: ${e instanceof Error ? e.message : String(e)}` });
    } finally {
      setBusy('');
    }
  }

  async function testStep(stepId: string) {
    if (stepTest?.status === 'running') return; // one test at a time: steps act for real
    setPanel('result');
    setSelected(stepId);
    setStepTest({ stepId, status: 'running' });
    const tt = catalog.triggerType(draft.trigger.type);
    const { steps: outputs, item, index } = testInputsOf(draft, stepId, lastRun);
    try {
      const res = await api.testStep({ workflow: draft, step_id: stepId, trigger: lastRun?.trigger ?? tt?.example ?? {}, steps: outputs, item, index });
      setStepTest({ stepId, status: res.status, input: res.input, output: res.output, error: res.error, durationMs: res.duration_ms });
      // The step's output becomes a sample for the reference menu.
      if (res.status === 'succeeded') {
        const now = new Date().toISOString();
        const type = findStep(draft, stepId)?.step.type ?? '';
        setLastRun((prev) => {
          const base: Run = prev ?? {
            id: 'test', workflow_id: saved?.id ?? '', version: saved?.version ?? 0, status: 'succeeded', error: '',
            trigger: tt?.example ?? {}, created_at: now, started_at: null, finished_at: null, steps: {},
          };
          return {
            ...base,
            steps: { ...base.steps, [stepId]: { step_id: stepId, type, status: 'succeeded', input: res.input, output: res.output, error: '', attempts: 1, started_at: now, finished_at: now } },
          };
        });
      }
    } catch (e) {
      setStepTest({ stepId, status: 'failed', error: e instanceof ApiError && e.problems.length ? e.problems.map((p) => `${p.path}: ${p.message}`).join('\n') : e instanceof Error ? e.message : String(e) });
    }
  }

  // ---- palette ----
  function onAdd(type: string) {
    // With stored positions, the new step goes below the lowest one; a
    // workflow laid out automatically places it by itself (null).
    const stored = draft.steps.filter((s) => s.position).map((s) => s.position!.y);
    const sel = selected && selected !== TRIGGER_ID ? findStep(draft, selected) : null;
    const parentId = sel?.step.type === 'fanout' ? sel.step.id : (sel?.parent?.id ?? null);
    const pos = stored.length && parentId === null ? { x: sel?.step.position?.x ?? 0, y: Math.max(...stored) + 140 } : null;
    let { wf, id } = addStep(draft, catalog, type, pos, parentId, defaultConnection);
    const selType = sel ? catalog.stepType(sel.step.type) : undefined;
    if (sel && sel.step.type !== 'fanout' && !selType?.branches?.length && !selType?.case_branches) {
      const c = connect(wf, sel.step.id, id);
      if (!c.error) wf = c.wf;
    }
    onChange(wf);
    setSelected(id);
    setPanel('inspector');
  }

  function onSetTrigger(type: string) {
    if (type === draft.trigger.type) {
      setSelected(TRIGGER_ID);
      setPanel('inspector');
      return;
    }
    const tt = catalog.triggerType(type);
    const trigger = changeTriggerType(draft.trigger, type, tt);
    if (tt?.needs_connection && !trigger.connection && defaultConnection) trigger.connection = defaultConnection;
    if (type === 'schedule' && !trigger.cron) trigger.cron = '0 9 * * 1-5';
    onChange({ ...draft, trigger });
    setSelected(TRIGGER_ID);
    setPanel('inspector');
  }

  const onRenameStep = useCallback(
    (oldId: string, newId: string) => {
      const r = renameStep(draft, oldId, newId);
      if (r.error) return r.error;
      onChange(r.wf);
      if (selected === oldId) setSelected(newId);
      return null;
    },
    [draft, onChange, selected],
  );

  if (loadError) {
    return (
      <div className="page">
        <div className="alert error" role="alert">The workflow could not be opened: {loadError}</div>
      </div>
    );
  }
  if (loading) return <div className="page muted">Loading the workflow…</div>;

  const selectedRunStep = selected && selected !== TRIGGER_ID && lastRun && Object.keys(lastRun.steps).some((k) => k === selected || k.startsWith(selected + '[') || k.endsWith('.' + selected));
  const problemCount = problems.length;

  return (
    <div className="editor">
      <header className="editor-header">
        <input
          className="wf-name"
          aria-label="Workflow name"
          data-testid="workflow-name"
          value={draft.name}
          onChange={(e) => onChange({ ...draft, name: e.target.value }, 'name')}
        />
        {saved && <span className="muted small">v{saved.version}{dirty ? ' · unsaved changes' : ''}</span>}
        {!saved && <span className="muted small">not saved yet</span>}
        {saved && (
          <label className="enable-switch">
            <button
              role="switch"
              aria-checked={saved.enabled}
              data-testid="enable-switch"
              className="switch"
              disabled={busy !== '' || dirty}
              title={dirty ? 'Save first' : undefined}
              onClick={toggleEnabled}
            />
            {saved.enabled ? 'Enabled' : 'Disabled'}
          </label>
        )}
        <span className="spacer" />
        <button onClick={history.undo} disabled={!history.canUndo} aria-label="Undo" title="Undo (Ctrl+Z)">↶</button>
        <button onClick={history.redo} disabled={!history.canRedo} aria-label="Redo" title="Redo (Ctrl+Shift+Z)">↷</button>
        {problemCount > 0 && (
          <span className="badge failed" data-testid="problem-count" title={problems.map((p) => `${p.path}: ${p.message}`).join('\n')}>
            {problemCount} problem{problemCount === 1 ? '' : 's'}
          </span>
        )}
        <button data-testid="test-workflow" onClick={() => setTestOpen(true)} disabled={busy !== ''}>▶ Test workflow</button>
        <button className="primary" data-testid="save-workflow" onClick={() => void save()} disabled={busy !== '' || (!dirty && saved !== null)}>
          {busy === 'save' ? 'Saving…' : 'Save'}
        </button>
      </header>
      <div className="tabs editor-tabs" role="tablist" aria-label="Editor views">
        {(['canvas', 'json', 'versions'] as Tab[]).map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} data-testid={`tab-${t}`} onClick={() => setTab(t)} disabled={t === 'versions' && !saved}>
            {t === 'canvas' ? 'Canvas' : t === 'json' ? 'JSON' : 'Versions'}
          </button>
        ))}
        {lastRun && (
          <span className="last-run small">
            Last run: <StatusBadge status={lastRun.status} />{' '}
            {lastRun.id !== 'test' && <a href={`/runs/${lastRun.id}`} onClick={(e) => { e.preventDefault(); navigate(`/runs/${lastRun.id}`); }}>details</a>}
          </span>
        )}
      </div>
      {notice && (
        <div className={`alert ${notice.kind} editor-notice`} role={notice.kind === 'error' ? 'alert' : 'status'} data-testid="editor-notice">
          {notice.text}
          <button className="link" aria-label="Dismiss" onClick={() => setNotice(null)}>×</button>
        </div>
      )}
      {tab === 'canvas' && (
        <div className="editor-body">
          <aside className="editor-palette" aria-label="Steps">
            <Palette onAdd={onAdd} onSetTrigger={onSetTrigger} triggerType={draft.trigger.type} />
          </aside>
          <section className="editor-canvas" aria-label="Workflow canvas">
            <Canvas
              workflow={draft}
              onChange={onChange}
              selected={selected}
              onSelect={(id) => {
                setSelected(id);
                if (id && panel === 'result' && !lastRun && !stepTest) setPanel('inspector');
              }}
              statuses={statuses}
              problems={nodeProblems}
              defaultConnection={defaultConnection}
              onUndo={history.undo}
              onRedo={history.redo}
            />
          </section>
          <aside className="editor-side" aria-label="Details">
            <div className="tabs" role="tablist" aria-label="Side panel">
              <button role="tab" aria-selected={panel === 'inspector'} onClick={() => setPanel('inspector')} data-testid="panel-inspector">Settings</button>
              <button role="tab" aria-selected={panel === 'result'} onClick={() => setPanel('result')} data-testid="panel-result">Output</button>
            </div>
            <div className="side-body">
              {panel === 'inspector' && selected && (selected === TRIGGER_ID || findStep(draft, selected)) ? (
                <Inspector
                  workflow={draft}
                  selected={selected}
                  onChange={onChange}
                  onRenameStep={onRenameStep}
                  problems={problems}
                  lastRun={lastRun}
                  connections={connections}
                  onConnect={() => window.open('/connections?new=1', '_blank', 'noopener')}
                  onTestStep={(id) => void testStep(id)}
                  testingStep={stepTest?.status === 'running'}
                />
              ) : panel === 'inspector' ? (
                <p className="muted">Select the trigger or a step to edit it, or add a step from the list on the left.</p>
              ) : null}
              {panel === 'result' && (
                <div data-testid="result-panel">
                  {stepTest && stepTest.stepId === selected && (
                    <div className="card step-test" data-testid="step-test-result">
                      <h3>
                        Test of {selected}: <StatusBadge status={stepTest.status === 'waiting' ? 'waiting' : stepTest.status} />
                        {stepTest.durationMs !== undefined && <span className="muted small"> {Math.round(stepTest.durationMs)} ms</span>}
                      </h3>
                      {stepTest.error && <div className="alert error">{stepTest.error}</div>}
                      {stepTest.status !== 'running' && (
                        <StepTestTrees input={stepTest.input} output={stepTest.output} />
                      )}
                    </div>
                  )}
                  {lastRun && selectedRunStep && selected ? (
                    <StepRunDetails run={lastRun} stepId={selected} />
                  ) : lastRun ? (
                    <p className="muted">Click a step on the canvas to see what it did in the last run.</p>
                  ) : !stepTest ? (
                    <p className="muted">No test run yet. Use “Test workflow” to run it with sample data, or “Test step” in a step's settings.</p>
                  ) : null}
                </div>
              )}
            </div>
          </aside>
        </div>
      )}
      {tab === 'json' && (
        <JsonTab
          workflow={draft}
          problems={problems}
          fileName={(saved?.id ?? (slugOf(draft.name) || 'workflow')) + '.json'}
          onApply={(wf) => {
            onChange(wf);
            setNotice({ kind: 'info', text: 'JSON applied to the draft; save to make it a new version.' });
          }}
        />
      )}
      {tab === 'versions' && saved && (
        <VersionsTab
          workflowId={saved.id}
          latest={saved.version}
          onRestore={(wf, version) => {
            onChange(wf);
            setTab('canvas');
            setNotice({ kind: 'info', text: `Version ${version} restored into the draft: save to make it the latest version.` });
          }}
        />
      )}
      {testOpen && (
        <TestRunDialog
          triggerType={catalog.triggerType(draft.trigger.type)}
          connection={draft.trigger.connection}
          lastTrigger={lastRun?.id !== 'test' ? lastRun?.trigger : undefined}
          dirty={dirty || !saved}
          onCancel={() => setTestOpen(false)}
          onRun={(trigger) => void runTest(trigger)}
        />
      )}
    </div>
  );
}

function StepTestTrees({ input, output }: { input: unknown; output: unknown }) {
  return (
    <>
      <h4>Input</h4>
      <JsonTree value={input} testId="step-test-input" defaultExpandDepth={2} />
      <h4>Output</h4>
      <JsonTree value={output} testId="step-test-output" defaultExpandDepth={2} />
    </>
  );
}
