// The home page: every workflow with its trigger, whether it is on, how
// its runs went, and the ways to make a new one (blank or from a file).
import { useRef, useState } from 'react';
import { jsonSyntaxError } from '../components/jsonError';
import { api, ApiError } from '../api/client';
import type { Workflow, WorkflowListItem } from '../api/types';
import { useCatalog } from '../catalog';
import { describeProblems } from '../hooks/problemText';
import type { ShownProblem } from '../hooks/problemText';
import { usePagedList } from '../hooks/usePagedList';
import { linkProps, navigate } from '../router';
import { errorMessage } from '../components/errors';
import { StatusBadge } from '../components/StatusBadge';
import { formatTime, relativeTime } from '../components/time';
import '../components/components.css';

interface Failure {
  message: string;
  problems: ShownProblem[];
}

function failureOf(e: unknown): Failure {
  return { message: errorMessage(e), problems: e instanceof ApiError ? e.problems.map((p) => ({ where: '', field: p.path, message: p.message })) : [] };
}

export function WorkflowsPage() {
  const catalog = useCatalog();
  const [failure, setFailure] = useState<(Failure & { title: string }) | null>(null);
  const [busy, setBusy] = useState<Record<string, boolean>>({});
  const [importing, setImporting] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);

  const {
    items: workflows,
    next,
    error: loadError,
    loadingMore,
    loadMore,
    refresh,
    update,
  } = usePagedList<WorkflowListItem>(
    ({ limit, after, signal }) =>
      api.listWorkflows({ limit, after }, signal).then((p) => ({ items: p.workflows, next: p.next })),
    [],
    { pageSize: 100 },
  );

  async function toggle(wf: WorkflowListItem) {
    const turnOn = !wf.enabled;
    setBusy((b) => ({ ...b, [wf.id]: true }));
    setFailure(null);
    try {
      if (turnOn) await api.enableWorkflow(wf.id);
      else await api.disableWorkflow(wf.id);
      update((list) => list.map((w) => (w.id === wf.id ? { ...w, enabled: turnOn } : w)));
    } catch (e) {
      const title = turnOn ? `“${wf.name}” cannot be turned on yet` : `“${wf.name}” could not be turned off`;
      const f = failureOf(e);
      if (e instanceof ApiError && e.problems.length > 0) {
        // Say which step and field each problem is about, from the workflow itself.
        try {
          const view = await api.getWorkflow(wf.id);
          f.problems = describeProblems(view.workflow, e.problems);
        } catch {
          // the paths are shown as they are
        }
      }
      setFailure({ title, ...f });
    } finally {
      setBusy((b) => ({ ...b, [wf.id]: false }));
    }
  }

  async function importFile(file: File) {
    setFailure(null);
    setImporting(true);
    try {
      const text = await file.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        setFailure({ title: `${file.name} is not a workflow file`, message: `It is not valid JSON: ${jsonSyntaxError(text) || (e instanceof Error ? e.message : String(e))}`, problems: [] });
        return;
      }
      // An exported workflow view ({id, version, workflow: {...}}) imports its workflow.
      let body: Workflow | string = text;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        const o = parsed as Record<string, unknown>;
        if (o.workflow && typeof o.workflow === 'object' && !('steps' in o)) body = o.workflow as Workflow;
      }
      const view = await api.createWorkflow(body);
      navigate(`/workflows/${encodeURIComponent(view.id)}`);
    } catch (e) {
      setFailure({ title: `${file.name} could not be imported`, ...failureOf(e) });
    } finally {
      setImporting(false);
      if (fileRef.current) fileRef.current.value = '';
    }
  }

  return (
    <div className="page">
      <div className="page-head">
        <h1>Workflows</h1>
        <span className="spacer" />
        <label className={'file-button' + (importing ? ' disabled' : '')} data-testid="import-workflow">
          {importing ? 'Importing…' : 'Import JSON'}
          <input
            ref={fileRef}
            type="file"
            accept=".json,application/json"
            className="sr-only"
            disabled={importing}
            onChange={(e) => {
              const f = e.currentTarget.files?.[0];
              if (f) void importFile(f);
            }}
          />
        </label>
        <button type="button" className="primary" data-testid="new-workflow" onClick={() => navigate('/workflows/new')}>
          New workflow
        </button>
      </div>

      {failure && (
        <div className="alert error" role="alert">
          <strong>{failure.title}.</strong> {failure.problems.length === 0 && failure.message}
          {failure.problems.length > 0 && (
            <>
              {' '}Fix these first:
              <ul>
                {failure.problems.map((p, i) => (
                  <li key={i}>
                    {p.where && <strong>{p.where}</strong>}
                    {p.where && p.field && ', field '}
                    {p.field && <code>{p.field}</code>}
                    {(p.where || p.field) && ': '}
                    {p.message}
                  </li>
                ))}
              </ul>
            </>
          )}
          <div>
            <button type="button" className="link" onClick={() => setFailure(null)}>
              Dismiss
            </button>
          </div>
        </div>
      )}
      {loadError && (
        <div className="alert error" role="alert">
          The workflows could not be loaded: {loadError}{' '}
          <button type="button" className="link" onClick={() => void refresh()}>
            Try again
          </button>
        </div>
      )}

      {workflows === null && !loadError && <p className="muted">Loading…</p>}
      {workflows !== null && workflows.length === 0 && (
        <div className="empty">
          <p>
            <strong>No workflows yet.</strong>
          </p>
          <p>Make one with “New workflow”, or import a workflow file someone shared with you.</p>
        </div>
      )}
      {workflows !== null && workflows.length > 0 && (
        <table className="list" data-testid="workflows-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Starts on</th>
              <th scope="col">On</th>
              <th scope="col">Last run</th>
              <th scope="col">Runs</th>
              <th scope="col">Version</th>
            </tr>
          </thead>
          <tbody>
            {workflows.map((wf) => {
              const tt = catalog.triggerType(wf.trigger.type);
              const c = wf.run_counts ?? ({} as WorkflowListItem['run_counts']);
              const active = (c.running ?? 0) + (c.queued ?? 0) + (c.waiting ?? 0);
              const total = Object.values(c).reduce((a, b) => a + (b ?? 0), 0);
              return (
                <tr key={wf.id} data-testid={`workflow-row-${wf.id}`}>
                  <td>
                    <a {...linkProps(`/workflows/${encodeURIComponent(wf.id)}`)}>{wf.name || wf.id}</a>
                  </td>
                  <td>
                    {tt?.title ?? wf.trigger.type}
                    {wf.trigger.connection && <div className="muted small">Lever connection “{wf.trigger.connection}”</div>}
                  </td>
                  <td>
                    <span className="switch-row">
                      <button
                        type="button"
                        role="switch"
                        className="switch"
                        aria-checked={wf.enabled}
                        aria-label={`${wf.name}: ${wf.enabled ? 'on' : 'off'}`}
                        title={wf.enabled ? 'On: it starts when its trigger fires. Click to turn off.' : 'Off: it does not start by itself. Click to turn on.'}
                        disabled={!!busy[wf.id]}
                        onClick={() => void toggle(wf)}
                      />
                      <span className="small muted" aria-hidden="true">{wf.enabled ? 'On' : 'Off'}</span>
                    </span>
                  </td>
                  <td>
                    {wf.last_run ? (
                      <a {...linkProps(`/runs/${encodeURIComponent(wf.last_run.id)}`)} title={formatTime(wf.last_run.created_at)} className="row" style={{ gap: 6, display: 'inline-flex' }}>
                        <StatusBadge status={wf.last_run.status} />
                        <span>{relativeTime(wf.last_run.created_at)}</span>
                      </a>
                    ) : (
                      <span className="muted">Never run</span>
                    )}
                  </td>
                  <td>
                    {total === 0 ? (
                      <span className="muted">None yet</span>
                    ) : (
                      <a className="counts" {...linkProps(`/runs?workflow_id=${encodeURIComponent(wf.id)}`)} title="See this workflow's runs">
                        <span className="ok">{c.succeeded ?? 0} succeeded</span>
                        <span className="bad">{c.failed ?? 0} failed</span>
                        <span className="run">{active} in progress</span>
                      </a>
                    )}
                  </td>
                  <td>v{wf.version}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {next && (
        <p>
          <button type="button" onClick={() => void loadMore()} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        </p>
      )}
    </div>
  );
}
