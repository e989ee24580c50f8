// The runs list's time range. The date pickers have minute precision and
// the API's `until` is exclusive, so "To 17:00" means up to the end of
// that minute: the API gets 17:01.

/** until (RFC 3339) plus one minute, for the API; "" stays "". */
export function untilForApi(until: string): string {
  if (!until) return '';
  const t = Date.parse(until);
  return Number.isNaN(t) ? until : new Date(t + 60_000).toISOString();
}

/** A sentence when From is not earlier than To, else "". */
export function rangeProblem(since: string, until: string): string {
  if (!since || !until) return '';
  const a = Date.parse(since);
  const b = Date.parse(until);
  if (Number.isNaN(a) || Number.isNaN(b)) return '';
  return a < b ? '' : '‘From’ must be earlier than ‘To’.';
}
