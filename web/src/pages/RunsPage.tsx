// Every run, newest first, filtered by workflow, status, trigger and time.
// The filters live in the URL (?workflow_id=&status=&trigger_type=&since=
// &until=) so a filtered list can be shared. While a listed run is still
// going the list refreshes itself every 3 seconds.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api/client';
import type { RunStatus, RunSummary, WorkflowListItem } from '../api/types';
import { useCatalog } from '../catalog';
import { navigate, useLocation } from '../router';
import { errorMessage, isAbort } from '../components/errors';
import { Modal } from '../components/Modal';
import { StatusBadge, statusWord } from '../components/StatusBadge';
import { durationBetween, formatTime, fromLocalInput, relativeTime, toLocalInput } from '../components/time';
import { isActive } from '../runStatus';
import '../components/components.css';

const STATUSES: RunStatus[] = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'];
const PAGE = 50;
/** POST /runs/retry re-queues at most this many runs when max is left out (engine.DefaultBulkRetry). */
export const BULK_RETRY_MAX = 100;
const REFRESH_MS = 3000;

interface Filters {
  workflow_id: string;
  status: string;
  trigger_type: string;
  since: string;
  until: string;
}

const FILTER_KEYS: (keyof Filters)[] = ['workflow_id', 'status', 'trigger_type', 'since', 'until'];

function filtersOf(q: URLSearchParams): Filters {
  return {
    workflow_id: q.get('workflow_id') ?? '',
    status: q.get('status') ?? '',
    trigger_type: q.get('trigger_type') ?? '',
    since: q.get('since') ?? '',
    until: q.get('until') ?? '',
  };
}

function hrefOf(f: Filters): string {
  const q = new URLSearchParams();
  for (const k of FILTER_KEYS) if (f[k]) q.set(k, f[k]);
  const s = q.toString();
  return '/runs' + (s ? '?' + s : '');
}

/** The first line of an error, for the table. */
function firstLine(s: string): string {
  const line = s.split('\n')[0];
  return line.length > 140 ? line.slice(0, 140) + '…' : line;
}

export function RunsPage() {
  const catalog = useCatalog();
  const { query } = useLocation();
  const qs = query.toString();
  const filters = useMemo(() => filtersOf(new URLSearchParams(qs)), [qs]);
  const [workflows, setWorkflows] = useState<WorkflowListItem[]>([]);
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [loadingMore, setLoadingMore] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [retrying, setRetrying] = useState(false);
  const [retryResult, setRetryResult] = useState<{ ok: boolean; text: string } | null>(null);
  const runsRef = useRef<RunSummary[] | null>(null);
  useEffect(() => {
    runsRef.current = runs;
  }, [runs]);

  useEffect(() => {
    api
      .listWorkflows({ limit: 200 })
      .then((p) => setWorkflows(p.workflows))
      .catch(() => {}); // the names are a nicety; ids show without them
  }, []);

  const apiFilter = useMemo(
    () => ({
      workflow_id: filters.workflow_id || undefined,
      status: filters.status || undefined,
      trigger_type: filters.trigger_type || undefined,
      since: filters.since || undefined,
      until: filters.until || undefined,
    }),
    [filters],
  );

  // The first page, again whenever the filters change.
  useEffect(() => {
    let cancelled = false;
    setRuns(null);
    setError('');
    api
      .listRuns({ ...apiFilter, limit: PAGE })
      .then((p) => {
        if (cancelled) return;
        setRuns(p.runs);
        setNext(p.next);
      })
      .catch((e) => !cancelled && !isAbort(e) && setError(errorMessage(e)));
    return () => {
      cancelled = true;
    };
  }, [apiFilter]);

  /** Reloads the pages shown so far (up to 200 runs), keeping any beyond. */
  const refresh = useCallback(async () => {
    const shown = runsRef.current?.length ?? 0;
    const limit = Math.min(200, Math.max(PAGE, shown));
    const p = await api.listRuns({ ...apiFilter, limit });
    setRuns((old) => {
      if (!old || old.length <= limit) return p.runs;
      const ids = new Set(p.runs.map((r) => r.id));
      return [...p.runs, ...old.slice(limit).filter((r) => !ids.has(r.id))];
    });
    if (shown <= limit) setNext(p.next);
  }, [apiFilter]);

  const anyActive = !!runs?.some((r) => isActive(r.status));
  useEffect(() => {
    if (!anyActive) return;
    const t = window.setInterval(() => {
      if (document.visibilityState === 'hidden') return;
      refresh().catch(() => {}); // a missed refresh is retried in 3 s
    }, REFRESH_MS);
    return () => window.clearInterval(t);
  }, [anyActive, refresh]);

  async function loadMore() {
    if (!next) return;
    setLoadingMore(true);
    try {
      const p = await api.listRuns({ ...apiFilter, limit: PAGE, after: next });
      setRuns((old) => [...(old ?? []), ...p.runs]);
      setNext(p.next);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoadingMore(false);
    }
  }

  function setFilter(patch: Partial<Filters>) {
    setRetryResult(null);
    navigate(hrefOf({ ...filters, ...patch }), true);
  }

  async function bulkRetry() {
    setRetrying(true);
    try {
      const res = await api.retryRuns({
        workflow_id: apiFilter.workflow_id,
        status: filters.status as 'failed' | 'cancelled',
        trigger_type: apiFilter.trigger_type,
        since: apiFilter.since,
        until: apiFilter.until,
        max: BULK_RETRY_MAX,
      });
      setRetryResult({
        ok: true,
        text: res.count === 0 ? 'No runs could be retried.' : res.count === 1 ? '1 run queued again.' : `${res.count} runs queued again.`,
      });
      setConfirming(false);
      // The retried runs are queued now: the list leaves the failed filter.
      await refresh().catch(() => {});
    } catch (e) {
      setRetryResult({ ok: false, text: `The runs could not be retried: ${errorMessage(e)}` });
      setConfirming(false);
    } finally {
      setRetrying(false);
    }
  }

  const names = useMemo(() => new Map(workflows.map((w) => [w.id, w])), [workflows]);
  const canBulkRetry = filters.status === 'failed' || filters.status === 'cancelled';
  const filtered = FILTER_KEYS.some((k) => filters[k]);
  const statusWordLower = filters.status ? statusWord(filters.status).toLowerCase() : '';

  return (
    <div className="page">
      <div className="page-head">
        <h1>Runs</h1>
        <span className="spacer" />
        {canBulkRetry && (
          <button type="button" data-testid="bulk-retry" onClick={() => setConfirming(true)} disabled={!runs || runs.length === 0}>
            Retry {statusWordLower} runs
          </button>
        )}
      </div>

      <form className="filters" role="search" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
        <label className="field">
          <span className="label">Workflow</span>
          <select value={filters.workflow_id} onChange={(e) => setFilter({ workflow_id: e.target.value })} data-testid="runs-filter-workflow">
            <option value="">All workflows</option>
            {filters.workflow_id && !names.has(filters.workflow_id) && <option value={filters.workflow_id}>{filters.workflow_id}</option>}
            {workflows.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name || w.id}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="label">Status</span>
          <select value={filters.status} onChange={(e) => setFilter({ status: e.target.value })} data-testid="runs-filter-status">
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusWord(s)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="label">Started by</span>
          <select value={filters.trigger_type} onChange={(e) => setFilter({ trigger_type: e.target.value })} data-testid="runs-filter-trigger">
            <option value="">Any trigger</option>
            {catalog.triggerTypes.map((t) => (
              <option key={t.type} value={t.type}>
                {t.title}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="label">From</span>
          <input type="datetime-local" value={toLocalInput(filters.since)} onChange={(e) => setFilter({ since: fromLocalInput(e.target.value) })} data-testid="runs-filter-since" />
        </label>
        <label className="field">
          <span className="label">To</span>
          <input type="datetime-local" value={toLocalInput(filters.until)} onChange={(e) => setFilter({ until: fromLocalInput(e.target.value) })} data-testid="runs-filter-until" />
        </label>
        {filtered && (
          <button type="button" onClick={() => navigate('/runs', true)}>
            Clear filters
          </button>
        )}
      </form>

      {retryResult && (
        <div className={`alert ${retryResult.ok ? 'ok' : 'error'}`} role={retryResult.ok ? 'status' : 'alert'} data-testid="bulk-retry-result">
          {retryResult.text}
        </div>
      )}
      {error && (
        <div className="alert error" role="alert">
          The runs could not be loaded: {error}
        </div>
      )}
      {runs === null && !error && <p className="muted">Loading…</p>}
      {runs !== null && runs.length === 0 && (
        <div className="empty">{filtered ? 'No runs match these filters.' : 'No runs yet. Runs appear here when a workflow starts.'}</div>
      )}
      {runs !== null && runs.length > 0 && (
        <table className="list" data-testid="runs-table">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Workflow</th>
              <th scope="col">Started by</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => {
              const wf = names.get(r.workflow_id);
              const ttype = r.trigger_type ?? wf?.trigger.type;
              const href = `/runs/${encodeURIComponent(r.id)}`;
              const open = () => navigate(href);
              return (
                <tr
                  key={r.id}
                  className="clickable"
                  data-testid={`run-row-${r.id}`}
                  tabIndex={0}
                  aria-label={`Run of ${wf?.name ?? r.workflow_id}, ${statusWord(r.status)}, ${relativeTime(r.created_at)}`}
                  onClick={(e) => {
                    if ((e.target as HTMLElement).closest('a')) return;
                    open();
                  }}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' && e.target === e.currentTarget) open();
                  }}
                >
                  <td>
                    <StatusBadge status={r.status} />
                    {r.cancel_requested && isActive(r.status) && <span className="muted small"> cancelling…</span>}
                  </td>
                  <td>
                    {wf?.name ?? r.workflow_id} <span className="muted small">v{r.version}</span>
                  </td>
                  <td>{ttype ? catalog.triggerType(ttype)?.title ?? ttype : <span className="muted">—</span>}</td>
                  <td title={formatTime(r.created_at)}>{relativeTime(r.created_at)}</td>
                  <td>{r.started_at ? durationBetween(r.started_at, r.finished_at) : <span className="muted">{r.wait_reason ? 'waiting' : '—'}</span>}</td>
                  <td className="truncate" title={r.error || undefined}>
                    {r.error ? firstLine(r.error) : r.wait_reason ? <span className="muted">{firstLine(r.wait_reason)}</span> : ''}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {next && runs && runs.length > 0 && (
        <p>
          <button type="button" onClick={() => void loadMore()} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        </p>
      )}
      {anyActive && <p className="muted small" aria-live="off">Runs still in progress: this list refreshes every 3 seconds.</p>}

      <Modal
        open={confirming}
        title={`Retry ${statusWordLower} runs?`}
        onClose={() => setConfirming(false)}
        testId="bulk-retry-dialog"
        actions={
          <>
            <button type="button" onClick={() => setConfirming(false)} disabled={retrying}>
              Keep them
            </button>
            <button type="button" className="primary" onClick={() => void bulkRetry()} disabled={retrying} data-testid="bulk-retry-confirm">
              {retrying ? 'Retrying…' : 'Retry runs'}
            </button>
          </>
        }
      >
        <p>
          {runs?.length ?? 0} {statusWordLower} {runs?.length === 1 ? 'run is' : 'runs are'} listed here
          {next ? ', and more match these filters' : ''}. Every {statusWordLower} run that matches the filters will run again from the step
          that failed, newest first.
        </p>
        <p>
          At most <strong>{BULK_RETRY_MAX}</strong> runs are retried at a time; retry again for the rest.
        </p>
      </Modal>
    </div>
  );
}
