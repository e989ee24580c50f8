// A coloured status word: <StatusBadge status="failed" /> renders
// <span class="badge failed">Failed</span>. The colours come from
// styles.css (.badge.<status>).

/** The word shown for each status the API sends (runs, steps, connections, events). */
const WORDS: Record<string, string> = {
  queued: 'Queued',
  running: 'Running',
  waiting: 'Waiting',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  pending: 'Pending',
  skipped: 'Skipped',
  connected: 'Connected',
  needs_reauth: 'Needs reconnecting',
  enabled: 'On',
  disabled: 'Off',
  routed: 'Routed',
  unmatched: 'No matching workflow',
  error: 'Error',
};

/** A longer explanation, shown as the badge's tooltip. */
const HINTS: Record<string, string> = {
  queued: 'Waiting for its turn to start',
  running: 'Running now',
  waiting: 'Paused until a set time or for its turn',
  succeeded: 'Finished without errors',
  failed: 'Stopped with an error',
  cancelled: 'Stopped by a person',
  pending: 'Not started yet',
  skipped: 'Not run: the workflow took another branch',
  connected: 'Working',
  needs_reauth: 'Lever no longer accepts this connection: reconnect it',
  routed: 'Delivered to the matching workflows',
  unmatched: 'No enabled workflow listens for this event',
};

/** The readable word for a status: "needs_reauth" -> "Needs reconnecting". */
export function statusWord(status: string): string {
  if (WORDS[status]) return WORDS[status];
  const s = status.replace(/[_-]+/g, ' ').trim();
  return s ? s[0].toUpperCase() + s.slice(1) : 'Unknown';
}

export function StatusBadge({ status, testId, label, className }: { status: string; testId?: string; label?: string; className?: string }) {
  // Only safe class names: a status is a word from the server.
  const cls = status.replace(/[^a-z0-9_-]/gi, '');
  return (
    <span className={`badge ${cls}${className ? ` ${className}` : ''}`} data-testid={testId} data-status={status} title={HINTS[status]}>
      {label ?? statusWord(status)}
    </span>
  );
}

/** The "Status" filter of a list: any status, or one of statuses. */
export function StatusFilter({ value, statuses, onChange, testId }: {
  value: string;
  statuses: readonly string[];
  onChange: (status: string) => void;
  testId: string;
}) {
  return (
    <label className="field">
      <span className="label">Status</span>
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        <option value="">Any status</option>
        {statuses.map((s) => (
          <option key={s} value={s}>
            {statusWord(s)}
          </option>
        ))}
      </select>
    </label>
  );
}
