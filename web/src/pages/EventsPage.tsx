// The event inbox: everything that arrived from Lever (webhooks, polls)
// and the API, whether a workflow picked it up, and the runs it started.
// An event opens in a dialog with its data; an admin can replay it.
import { useEffect, useMemo, useState } from 'react';
import { api } from '../api/client';
import type { InboxEvent } from '../api/types';
import { useCatalog } from '../catalog';
import { linkProps, navigate, useLocation } from '../router';
import { errorMessage } from '../components/errors';
import { usePagedList } from '../hooks/usePagedList';
import { useUrlFilters } from '../hooks/useUrlFilters';
import { JsonTree } from '../components/JsonTree';
import { Modal } from '../components/Modal';
import { StatusBadge, StatusFilter, statusWord } from '../components/StatusBadge';
import { formatTime, relativeTime } from '../components/time';
import '../components/components.css';

const PAGE = 50;
const SOURCES: [string, string][] = [
  ['lever', 'Lever webhook'],
  ['poll', 'Lever check (polling)'],
  ['api', 'API call'],
];
const STATUSES = ['pending', 'routed', 'unmatched', 'failed'];

function sourceWord(s: string): string {
  return SOURCES.find(([k]) => k === s)?.[1] ?? s;
}

const FILTER_KEYS = ['type', 'source', 'status'] as const;

/**
 * Whether the server can replay an event from this source: it routes
 * Lever webhooks and polls again, but refuses API calls (409), whose runs
 * are retried from the run instead (triggers/router.go).
 */
function replayable(source: string): boolean {
  return source === 'lever' || source === 'poll';
}

export function EventsPage() {
  const catalog = useCatalog();
  const { query } = useLocation();
  const { filters, filtered, setFilter, clear, hrefWith } = useUrlFilters('/events', FILTER_KEYS);
  const openId = query.get('event') ?? '';
  const [typeDraft, setTypeDraft] = useState(filters.type);

  useEffect(() => setTypeDraft(filters.type), [filters.type]);

  // The first page, again whenever the filters change; an answer for old
  // filters never lands.
  const {
    items: events,
    next,
    error,
    loadingMore,
    loadMore,
    refresh,
  } = usePagedList<InboxEvent>(
    ({ limit, after, signal }) =>
      api.listEvents({ ...filters, limit, after }, signal).then((p) => ({ items: p.events, next: p.next })),
    [filters],
    { pageSize: PAGE },
  );

  const open = (id: string) => navigate(hrefWith({ event: id }));
  const close = () => navigate(hrefWith(), true);

  // The Lever event names the catalog knows, as suggestions for the type filter.
  const knownTypes = useMemo(() => {
    const s = new Set<string>();
    for (const t of catalog.triggerTypes) for (const e of t.lever_events ?? []) s.add(e);
    return [...s].sort();
  }, [catalog]);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Event inbox</h1>
        <span className="spacer" />
        <button type="button" onClick={() => void refresh()}>
          Refresh
        </button>
      </div>
      <p className="muted">Everything Lever and the API sent to Leverflow, newest first, and the runs it started.</p>

      <form
        className="filters"
        role="search"
        aria-label="Filter events"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter({ type: typeDraft.trim() });
        }}
      >
        <label className="field">
          <span className="label">Event type</span>
          <input
            list="event-types"
            value={typeDraft}
            placeholder="e.g. candidateStageChange"
            onChange={(e) => setTypeDraft(e.target.value)}
            onBlur={() => typeDraft.trim() !== filters.type && setFilter({ type: typeDraft.trim() })}
            data-testid="events-filter-type"
          />
          <datalist id="event-types">
            {knownTypes.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </label>
        <label className="field">
          <span className="label">Came from</span>
          <select value={filters.source} onChange={(e) => setFilter({ source: e.target.value })} data-testid="events-filter-source">
            <option value="">Anywhere</option>
            {SOURCES.map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <StatusFilter value={filters.status} statuses={STATUSES} onChange={(status) => setFilter({ status })} testId="events-filter-status" />
        <button type="submit" className="sr-only">
          Apply filters
        </button>
        {filtered && (
          <button type="button" onClick={clear}>
            Clear filters
          </button>
        )}
      </form>

      {error && (
        <div className="alert error" role="alert">
          The events could not be loaded: {error}
        </div>
      )}
      {events === null && !error && <p className="muted">Loading…</p>}
      {events !== null && events.length === 0 && (
        <div className="empty">
          {filtered ? 'No events match these filters.' : 'No events yet. They appear here when Lever sends a webhook or a workflow checks Lever for changes.'}
        </div>
      )}
      {events !== null && events.length > 0 && (
        <table className="list" data-testid="events-table">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Connection</th>
              <th scope="col">Received</th>
              <th scope="col">Status</th>
              <th scope="col">Runs started</th>
            </tr>
          </thead>
          <tbody>
            {events.map((ev) => (
              <tr
                key={ev.id}
                className="clickable"
                tabIndex={0}
                data-testid={`event-row-${ev.id}`}
                aria-label={`${ev.type} event, ${statusWord(ev.status)}, received ${relativeTime(ev.received_at)}. Open details`}
                onClick={() => open(ev.id)}
                onKeyDown={(e) => {
                  if ((e.key === 'Enter' || e.key === ' ') && e.target === e.currentTarget) {
                    e.preventDefault();
                    open(ev.id);
                  }
                }}
              >
                <td>
                  {ev.type}
                  <div className="muted small">{sourceWord(ev.source)}</div>
                </td>
                <td>{ev.connection || <span className="muted">—</span>}</td>
                <td title={formatTime(ev.received_at)}>{relativeTime(ev.received_at)}</td>
                <td>
                  <StatusBadge status={ev.status} />
                  {ev.replays > 0 && <span className="muted small"> replayed {ev.replays}×</span>}
                </td>
                <td>{ev.run_ids.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && events && events.length > 0 && (
        <p>
          <button type="button" onClick={() => void loadMore()} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        </p>
      )}

      <EventDialog id={openId} onClose={close} onReplayed={() => void refresh()} />
    </div>
  );
}

type EventDetail = InboxEvent & { new_run_ids?: string[] };

function EventDialog({ id, onClose, onReplayed }: { id: string; onClose: () => void; onReplayed: () => void }) {
  const [ev, setEv] = useState<EventDetail | null>(null);
  const [error, setError] = useState('');
  const [replaying, setReplaying] = useState(false);
  const [replay, setReplay] = useState<{ ok: boolean; text: string; runIds: string[] } | null>(null);

  useEffect(() => {
    setEv(null);
    setError('');
    setReplay(null);
    if (!id) return;
    let cancelled = false;
    api
      .getEvent(id)
      .then((e) => !cancelled && setEv(e))
      .catch((e) => !cancelled && setError(errorMessage(e)));
    return () => {
      cancelled = true;
    };
  }, [id]);

  async function doReplay() {
    setReplaying(true);
    setReplay(null);
    try {
      const d = (await api.replayEvent(id)) as EventDetail;
      setEv(d);
      const fresh = d.new_run_ids ?? [];
      setReplay({
        ok: true,
        runIds: fresh,
        text:
          fresh.length === 0
            ? 'Replayed, but no enabled workflow listens for this event now, so no run started.'
            : `Replayed: ${fresh.length === 1 ? '1 new run' : `${fresh.length} new runs`} started.`,
      });
      onReplayed();
    } catch (e) {
      setReplay({ ok: false, text: `The event could not be replayed: ${errorMessage(e)}`, runIds: [] });
    } finally {
      setReplaying(false);
    }
  }

  return (
    <Modal
      open={!!id}
      wide
      title={ev ? `${ev.type} event` : 'Event'}
      onClose={onClose}
      testId="event-dialog"
      actions={
        <>
          {ev && replayable(ev.source) && (
            <button type="button" className="primary" onClick={() => void doReplay()} disabled={replaying || ev.status === 'pending'} data-testid="replay-event" title="Send this event to the matching workflows again">
              {replaying ? 'Replaying…' : 'Replay'}
            </button>
          )}
          <button type="button" onClick={onClose}>
            Close
          </button>
        </>
      }
    >
      {error && (
        <div className="alert error" role="alert">
          {error}
        </div>
      )}
      {!ev && !error && <p className="muted">Loading…</p>}
      {ev && (
        <>
          {replay && (
            <div className={`alert ${replay.ok ? 'ok' : 'error'}`} role={replay.ok ? 'status' : 'alert'} data-testid="replay-result">
              {replay.text}
              {replay.runIds.length > 0 && (
                <ul>
                  {replay.runIds.map((r) => (
                    <li key={r}>
                      <a {...linkProps(`/runs/${encodeURIComponent(r)}`)}>Run {r}</a>
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
          <dl className="step-facts">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={ev.status} />
            </dd>
            <dt>Came from</dt>
            <dd>
              {sourceWord(ev.source)}
              {ev.connection && <> (connection “{ev.connection}”)</>}
            </dd>
            <dt>Received</dt>
            <dd>
              {formatTime(ev.received_at)} <span className="muted">({relativeTime(ev.received_at)})</span>
            </dd>
            {ev.routed_at && (
              <>
                <dt>Routed</dt>
                <dd>{formatTime(ev.routed_at)}</dd>
              </>
            )}
            {ev.replays > 0 && (
              <>
                <dt>Replayed</dt>
                <dd>{ev.replays === 1 ? 'once' : `${ev.replays} times`}</dd>
              </>
            )}
          </dl>
          {!replayable(ev.source) && (
            <div className="alert info" data-testid="replay-unavailable">
              {ev.source === 'api'
                ? `Runs started over the API are retried from their run, not replayed.${(ev.runs ?? []).length > 0 ? ' Open the run below and retry it there.' : ''}`
                : 'Only events from Lever (webhooks and checks) can be replayed.'}
            </div>
          )}
          {ev.status === 'pending' && replayable(ev.source) && <div className="alert info">This event is waiting to be routed; it can be replayed once it has been.</div>}
          {ev.error && (
            <div className="alert error" role="alert">
              {ev.error}
            </div>
          )}
          <h3>Runs it started</h3>
          {(ev.runs ?? []).length === 0 ? (
            <p className="muted">None.{ev.status === 'unmatched' ? ' No enabled workflow listened for this event when it arrived.' : ''}</p>
          ) : (
            <ul data-testid="event-runs">
              {(ev.runs ?? []).map((r) => (
                <li key={r.id}>
                  <a {...linkProps(`/runs/${encodeURIComponent(r.id)}`)}>
                    {r.workflow_id} (version {r.version})
                  </a>{' '}
                  <StatusBadge status={r.status} /> <span className="muted small">{relativeTime(r.created_at)}</span>
                </li>
              ))}
            </ul>
          )}
          <h3>Data received</h3>
          <JsonTree value={ev.payload ?? null} label="Event data" testId="event-payload" />
        </>
      )}
    </Modal>
  );
}
