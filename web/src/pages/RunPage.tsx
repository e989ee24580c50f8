// One run: its status and error up top, the workflow as it ran (the
// version the run used) with each step coloured by how it went, and the
// selected step's details beside it. While the run is going the page
// follows it: every second while it runs, less often while it waits.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { Run, WorkflowView } from '../api/types';
import { useCatalog } from '../catalog';
import { Canvas } from '../editor/Canvas';
import { allStepIds, findStep, TRIGGER_ID } from '../model';
import { linkProps, navigate } from '../router';
import { defaultStep, isFinished, parseStepKey, stepStatuses } from '../runStatus';
import { errorMessage, isAbort } from '../components/errors';
import { nextPollDelay } from '../hooks/pollDelay';
import { JsonTree } from '../components/JsonTree';
import { StatusBadge } from '../components/StatusBadge';
import { StepRunDetails } from '../components/StepRunDetails';
import { durationBetween, formatTime, relativeTime } from '../components/time';
import '../components/components.css';

/** After a failed look (the server may be restarting). */
const RETRY_MS = 3000;

export function RunPage({ runId }: { runId: string }) {
  const catalog = useCatalog();
  const [run, setRun] = useState<Run | null>(null);
  const [loadError, setLoadError] = useState('');
  const [view, setView] = useState<WorkflowView | null>(null);
  const [workflowError, setWorkflowError] = useState('');
  /** undefined: nothing chosen yet (the default step is shown). */
  const [picked, setPicked] = useState<string | null | undefined>(undefined);
  const [action, setAction] = useState<'' | 'cancel' | 'retry-failed' | 'retry-start'>('');
  const [actionError, setActionError] = useState('');
  const [notice, setNotice] = useState('');
  /** Bumped to load again (after an action) and to restart polling. */
  const [generation, setGeneration] = useState(0);

  // Load the run, then follow it until it finishes: every second while
  // it is queued or running, every 15 s (or at wake_at) while it waits,
  // and not at all while this tab is hidden.
  useEffect(() => {
    const ctl = new AbortController();
    let timer = 0;
    let inFlight = false;
    /** A look came due while the tab was hidden: take it on return. */
    let due = false;
    const schedule = (ms: number) => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => void tick(), ms);
    };
    const tick = async (first = false) => {
      timer = 0;
      if (ctl.signal.aborted) return;
      if (!first && document.visibilityState === 'hidden') {
        due = true;
        return;
      }
      inFlight = true;
      try {
        const r = await api.getRun(runId, ctl.signal);
        if (ctl.signal.aborted) return;
        setRun(r);
        setLoadError('');
        const delay = nextPollDelay(r);
        if (delay !== null) schedule(delay);
      } catch (e) {
        if (isAbort(e) || ctl.signal.aborted) return;
        if (e instanceof ApiError && e.status === 404) {
          setLoadError(`There is no run ${runId}. It may have been deleted, or the link is wrong.`);
          return;
        }
        setLoadError(errorMessage(e));
        schedule(RETRY_MS); // the server may be restarting: keep trying
      } finally {
        inFlight = false;
      }
    };
    const onVisibility = () => {
      if (document.visibilityState !== 'visible' || !due || inFlight) return;
      due = false;
      window.clearTimeout(timer);
      void tick();
    };
    document.addEventListener('visibilitychange', onVisibility);
    void tick(true);
    return () => {
      ctl.abort();
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [runId, generation]);

  // The workflow version the run used (a retry on the latest version changes it).
  const wfId = run?.workflow_id;
  const version = run?.version;
  useEffect(() => {
    if (!wfId || version === undefined) return;
    let cancelled = false;
    api
      .getWorkflow(wfId, version)
      .then((v) => {
        if (cancelled) return;
        setView(v);
        setWorkflowError('');
      })
      .catch((e) => {
        if (cancelled) return;
        setWorkflowError(
          e instanceof ApiError && e.status === 404
            ? `Workflow “${wfId}” version ${version} no longer exists, so its diagram cannot be shown. The steps that ran are listed below.`
            : `The workflow could not be loaded: ${errorMessage(e)}`,
        );
      });
    return () => {
      cancelled = true;
    };
  }, [wfId, version]);

  const statuses = useMemo(() => (run ? stepStatuses(run) : {}), [run]);
  const fallback = useMemo(() => (run ? defaultStep(run) : null), [run]);
  const selected = picked === undefined ? fallback : picked;

  const act = useCallback(
    async (kind: 'cancel' | 'retry-failed' | 'retry-start') => {
      setAction(kind);
      setActionError('');
      setNotice('');
      try {
        if (kind === 'cancel') {
          await api.cancelRun(runId);
          setNotice('Cancelling: the run stops after the step it is running now.');
        } else {
          const r = await api.retryRun(runId, kind === 'retry-failed' ? 'failed' : 'start');
          if (r.id && r.id !== runId) {
            navigate(`/runs/${encodeURIComponent(r.id)}`);
            return;
          }
          setNotice(kind === 'retry-failed' ? 'The run is queued again and continues from the step that failed.' : 'The run is queued again and starts over from the first step.');
          setPicked(undefined);
        }
        setGeneration((g) => g + 1);
      } catch (e) {
        setActionError(errorMessage(e));
      } finally {
        setAction('');
      }
    },
    [runId],
  );

  if (loadError && !run) {
    return (
      <div className="page">
        <h1>Run</h1>
        <div className="alert error" role="alert">
          {loadError}
        </div>
        <a {...linkProps('/runs')}>Back to all runs</a>
      </div>
    );
  }
  if (!run) return <div className="page muted">Loading the run…</div>;

  const finished = isFinished(run.status);
  const retryable = run.status === 'failed' || run.status === 'cancelled';
  const triggerType = run.trigger_type ?? view?.workflow.trigger.type;
  const wfName = view?.name || run.workflow_id;
  const stepIds = view ? allStepIds(view.workflow) : [...new Set(Object.keys(run.steps).map((k) => parseStepKey(k).stepId))];
  const stepName = (id: string) => {
    const s = view ? findStep(view.workflow, id)?.step.name : undefined;
    return s ? `${s} (${id})` : id;
  };

  return (
    <div className="page run-page">
      <p className="small">
        <a {...linkProps('/runs')}>← All runs</a>
      </p>
      <div className="page-head">
        <h1>
          Run of <a {...linkProps(`/workflows/${encodeURIComponent(run.workflow_id)}`)}>{wfName}</a>
        </h1>
        <StatusBadge status={run.status} testId="run-status" />
        <span className="spacer" />
        {!finished && (
          <button type="button" className="danger" onClick={() => void act('cancel')} disabled={!!action || run.cancel_requested} data-testid="cancel-run">
            {run.cancel_requested ? 'Cancelling…' : action === 'cancel' ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
        {retryable && (
          <>
            <button type="button" className="primary" onClick={() => void act('retry-failed')} disabled={!!action} data-testid="retry-failed">
              {action === 'retry-failed' ? 'Retrying…' : run.status === 'cancelled' ? 'Retry from where it stopped' : 'Retry from failed step'}
            </button>
            <button type="button" onClick={() => void act('retry-start')} disabled={!!action} data-testid="retry-start">
              {action === 'retry-start' ? 'Retrying…' : 'Retry from start'}
            </button>
          </>
        )}
      </div>
      <p className="muted">
        Version {run.version}
        {triggerType && <> · started by {catalog.triggerType(triggerType)?.title ?? triggerType}</>}
        {' · '}
        <span title={formatTime(run.created_at)}>created {relativeTime(run.created_at)}</span>
        {run.started_at && (
          <>
            {' · '}
            {finished ? 'took ' : 'running for '}
            {durationBetween(run.started_at, run.finished_at)}
          </>
        )}
        {run.event_id && (
          <>
            {' · '}
            <a {...linkProps(`/events?event=${encodeURIComponent(run.event_id)}`)}>the event that started it</a>
          </>
        )}
      </p>

      {notice && (
        <div className="alert info" role="status">
          {notice}
        </div>
      )}
      {actionError && (
        <div className="alert error" role="alert">
          {actionError}
        </div>
      )}
      {loadError && (
        <div className="alert warn" role="status">
          The latest state could not be loaded: {loadError}
        </div>
      )}
      {run.error && (
        <div className="alert error" role="alert" data-testid="run-error">
          <strong>{run.status === 'cancelled' ? 'Cancelled' : 'Failed'}:</strong> <span style={{ whiteSpace: 'pre-wrap' }}>{run.error}</span>
        </div>
      )}
      {run.wait_reason && !finished && (
        <div className="alert info" data-testid="run-wait-reason">
          {run.wait_reason}
        </div>
      )}
      {run.status === 'waiting' && run.wake_at && (
        <div className="alert info">
          Paused until {formatTime(run.wake_at)} ({relativeTime(run.wake_at)}).
        </div>
      )}

      <div className="run-layout">
        <div>
          {view ? (
            <div className="run-canvas">
              <Canvas
                workflow={view.workflow}
                onChange={() => {}}
                selected={selected}
                onSelect={(id: string | null) => setPicked(id)}
                statuses={statuses}
                readOnly
              />
            </div>
          ) : workflowError ? (
            <div className="alert warn">{workflowError}</div>
          ) : (
            <p className="muted">Loading the workflow…</p>
          )}
          <nav aria-label="Steps of this run">
            <div className="step-list">
              <button type="button" aria-pressed={selected === TRIGGER_ID} onClick={() => setPicked(TRIGGER_ID)}>
                Trigger
              </button>
              {stepIds.map((id) => (
                <button type="button" key={id} aria-pressed={selected === id} onClick={() => setPicked(id)} data-testid={`run-step-${id}`}>
                  {stepName(id)} {statuses[id] ? (
                    <StatusBadge status={statuses[id]} />
                  ) : finished ? (
                    <StatusBadge status="skipped" label="Did not run" />
                  ) : (
                    <StatusBadge status="pending" label="Not yet" />
                  )}
                </button>
              ))}
            </div>
          </nav>
        </div>
        <aside className="run-side" aria-label="Details">
          {selected && selected !== TRIGGER_ID ? (
            <StepRunDetails key={selected} run={run} stepId={selected} title={stepName(selected)} />
          ) : (
            !selected && <p className="muted">Select a step to see what it received and returned.</p>
          )}
          <section aria-label="Trigger data" data-testid="run-trigger">
            <h3>What started the run</h3>
            {run.trigger === undefined || run.trigger === null ? (
              <p className="muted small">No trigger data.</p>
            ) : (
              <JsonTree value={run.trigger} label="Trigger data" testId="run-trigger-data" />
            )}
          </section>
        </aside>
      </div>
    </div>
  );
}
