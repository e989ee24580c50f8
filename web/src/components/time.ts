// Times and durations in plain English: "312 ms", "1.4 s", "2 min 5 s",
// "3 min ago". Every function takes the server's RFC 3339 strings and
// answers "" for a missing or unreadable time, so callers can print the
// result as it is.

type Instant = string | null | undefined;

function parse(iso: Instant): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A duration: "312 ms", "1.4 s", "12 s", "2 min 5 s", "1 h 4 min", "2 days 3 h". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) {
    const s = Math.round(ms / 100) / 10;
    // 9.96 s rounds to 10: say "10 s", not "10.0 s".
    return s < 10 ? `${s.toFixed(1)} s` : '10 s';
  }
  const totalS = Math.round(ms / 1000);
  if (totalS < 60) return `${totalS} s`;
  const totalMin = Math.floor(totalS / 60);
  if (totalMin < 60) {
    const s = totalS % 60;
    return s ? `${totalMin} min ${s} s` : `${totalMin} min`;
  }
  const totalH = Math.floor(totalMin / 60);
  if (totalH < 24) {
    const m = totalMin % 60;
    return m ? `${totalH} h ${m} min` : `${totalH} h`;
  }
  const days = Math.floor(totalH / 24);
  const h = totalH % 24;
  return h ? `${plural(days, 'day')} ${h} h` : plural(days, 'day');
}

/** Milliseconds from a to b (b missing: now); null when a is missing. */
export function durationMs(a: Instant, b?: Instant, now: number = Date.now()): number | null {
  const from = parse(a);
  if (from === null) return null;
  const to = b ? parse(b) : now;
  if (to === null) return null;
  return Math.max(0, to - from);
}

/**
 * The time from a to b as formatDuration writes it; with b missing (a step
 * still running) the time so far. "" when a is missing.
 */
export function durationBetween(a: Instant, b?: Instant, now: number = Date.now()): string {
  return formatDuration(durationMs(a, b, now));
}

/** "just now", "42 s ago", "3 min ago", "5 h ago", "2 days ago", "in 3 min"; older than 30 days: the date. */
export function relativeTime(iso: Instant, now: number = Date.now()): string {
  const t = parse(iso);
  if (t === null) return '';
  const diff = now - t;
  const future = diff < 0;
  const abs = Math.abs(diff);
  const say = (text: string) => (future ? `in ${text}` : `${text} ago`);
  if (abs < 10_000) return future ? 'in a few seconds' : 'just now';
  if (abs < 60_000) return say(`${Math.floor(abs / 1000)} s`);
  if (abs < 3_600_000) return say(`${Math.floor(abs / 60_000)} min`);
  if (abs < 86_400_000) return say(`${Math.floor(abs / 3_600_000)} h`);
  const days = Math.floor(abs / 86_400_000);
  if (days <= 30) return say(plural(days, 'day'));
  return formatDate(iso);
}

/** The local date and time: "Dec 1, 2026, 6:16:09 PM" (in the browser's language). */
export function formatTime(iso: Instant): string {
  const t = parse(iso);
  if (t === null) return '';
  return new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** The local date only: "Dec 1, 2026". */
export function formatDate(iso: Instant): string {
  const t = parse(iso);
  if (t === null) return '';
  return new Date(t).toLocaleDateString(undefined, { dateStyle: 'medium' });
}

/** An RFC 3339 time as a datetime-local input's value ("2026-12-01T18:16"), local time. */
export function toLocalInput(iso: Instant): string {
  const t = parse(iso);
  if (t === null) return '';
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A datetime-local input's value (local time) as an RFC 3339 UTC time; "" when empty or unreadable. */
export function fromLocalInput(value: string): string {
  if (!value) return '';
  const t = new Date(value).getTime(); // "YYYY-MM-DDTHH:mm" without a zone is local time
  return Number.isNaN(t) ? '' : new Date(t).toISOString();
}
