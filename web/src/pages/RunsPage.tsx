// Every run, newest first, filtered by workflow, status, trigger and time.
// The filters live in the URL (?workflow_id=&status=&trigger_type=&since=
// &until=) so a filtered list can be shared. While a listed run is still
// going the list refreshes itself every 3 seconds.
import { useEffect, useMemo, useState } from 'react';
import { api } from '../api/client';
import type { RunStatus, RunSummary, WorkflowListItem } from '../api/types';
import { useCatalog } from '../catalog';
import { linkProps, navigate } from '../router';
import { errorMessage } from '../components/errors';
import { Modal } from '../components/Modal';
import { StatusBadge, StatusFilter, statusWord } from '../components/StatusBadge';
import { durationBetween, formatTime, fromLocalInput, relativeTime, toLocalInput } from '../components/time';
import { usePagedList } from '../hooks/usePagedList';
import { useUrlFilters } from '../hooks/useUrlFilters';
import { rangeProblem, untilForApi } from '../hooks/timeRange';
import { isActive } from '../runStatus';
import '../components/components.css';

const STATUSES: RunStatus[] = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'];
const PAGE = 50;
/** POST /runs/retry re-queues at most this many runs when max is left out (engine.DefaultBulkRetry). */
export const BULK_RETRY_MAX = 100;
const REFRESH_MS = 3000;

const FILTER_KEYS = ['workflow_id', 'status', 'trigger_type', 'since', 'until'] as const;

/** The first line of an error, for the table. */
function firstLine(s: string): string {
  const line = s.split('\n')[0];
  return line.length > 140 ? line.slice(0, 140) + '…' : line;
}

export function RunsPage() {
  const catalog = useCatalog();
  const { filters, filtered, setFilter: setUrlFilter, clear } = useUrlFilters('/runs', FILTER_KEYS);
  const [workflows, setWorkflows] = useState<WorkflowListItem[]>([]);
  const [confirming, setConfirming] = useState(false);
  const [retrying, setRetrying] = useState(false);
  const [retryResult, setRetryResult] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    api
      .listWorkflows({ limit: 200 })
      .then((p) => setWorkflows(p.workflows))
      .catch(() => {}); // the names are a nicety; ids show without them
  }, []);

  // "To" is a minute (the picker has no seconds) and the API's until is
  // exclusive: send the end of that minute.
  const badRange = rangeProblem(filters.since, filters.until);
  const apiFilter = useMemo(
    () => ({
      workflow_id: filters.workflow_id || undefined,
      status: filters.status || undefined,
      trigger_type: filters.trigger_type || undefined,
      since: filters.since || undefined,
      until: untilForApi(filters.until) || undefined,
    }),
    [filters],
  );

  // The first page, again whenever the filters change; an answer for old
  // filters never lands.
  const list = usePagedList<RunSummary>(
    ({ limit, after, signal }) =>
      api.listRuns({ ...apiFilter, limit, after }, signal).then((p) => ({ items: p.runs, next: p.next })),
    [apiFilter],
    { pageSize: PAGE, enabled: !badRange },
  );
  const { items: runs, next, error, loadingMore, loadMore, refresh } = list;

  const anyActive = !!runs?.some((r) => isActive(r.status));
  useEffect(() => {
    if (!anyActive) return;
    const t = window.setInterval(() => {
      if (document.visibilityState === 'hidden') return;
      void refresh({ quiet: true }); // a missed refresh is retried in 3 s
    }, REFRESH_MS);
    return () => window.clearInterval(t);
  }, [anyActive, refresh]);

  function setFilter(patch: Partial<typeof filters>) {
    setRetryResult(null);
    setUrlFilter(patch);
  }

  async function bulkRetry() {
    if (badRange) return;
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
      await refresh({ quiet: true });
    } catch (e) {
      setRetryResult({ ok: false, text: `The runs could not be retried: ${errorMessage(e)}` });
      setConfirming(false);
    } finally {
      setRetrying(false);
    }
  }

  const names = useMemo(() => new Map(workflows.map((w) => [w.id, w])), [workflows]);
  const canBulkRetry = filters.status === 'failed' || filters.status === 'cancelled';
  const statusWordLower = filters.status ? statusWord(filters.status).toLowerCase() : '';

  return (
    <div className="page">
      <div className="page-head">
        <h1>Runs</h1>
        <span className="spacer" />
        {canBulkRetry && (
          <button type="button" data-testid="bulk-retry" onClick={() => setConfirming(true)} disabled={!runs || runs.length === 0 || !!badRange}>
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
        <StatusFilter value={filters.status} statuses={STATUSES} onChange={(status) => setFilter({ status })} testId="runs-filter-status" />
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
          <button type="button" onClick={() => {
              setRetryResult(null);
              clear();
            }}>
            Clear filters
          </button>
        )}
      </form>

      {retryResult && (
        <div className={`alert ${retryResult.ok ? 'ok' : 'error'}`} role={retryResult.ok ? 'status' : 'alert'} data-testid="bulk-retry-result">
          {retryResult.text}
        </div>
      )}
      {badRange && (
        <div className="alert error" role="alert" data-testid="runs-range-error">
          {badRange}
        </div>
      )}
      {error && (
        <div className="alert error" role="alert">
          The runs could not be loaded: {error}
        </div>
      )}
      {runs === null && !error && !badRange && <p className="muted">Loading…</p>}
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
              return (
                <tr
                  key={r.id}
                  className="clickable"
                  data-testid={`run-row-${r.id}`}
                  onClick={(e) => {
                    // The link in the first cell is for the keyboard (and a new tab); the row is for the mouse.
                    if ((e.target as HTMLElement).closest('a, button')) return;
                    navigate(href);
                  }}
                >
                  <td>
                    <a {...linkProps(href)} className="row-link" aria-label={`Run of ${wf?.name ?? r.workflow_id}, ${statusWord(r.status)}, ${relativeTime(r.created_at)}`}>
                      <StatusBadge status={r.status} />
                    </a>
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
