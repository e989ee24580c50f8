// Filters kept in the URL query (?status=failed&...), so a filtered list
// can be shared and reloaded. The pure helpers read and write them; the
// hook gives a page its filters and a way to change them.
import { useMemo } from 'react';
import { navigate, useLocation } from '../router';

export type Filters<K extends string> = Record<K, string>;

/** The filters keys in q ("" for those missing). */
export function readFilters<K extends string>(q: URLSearchParams, keys: readonly K[]): Filters<K> {
  const out = {} as Filters<K>;
  for (const k of keys) out[k] = q.get(k) ?? '';
  return out;
}

/**
 * path with the non-empty filters (in keys' order) and then any extra
 * parameters (e.g. the event shown in a dialog) as its query.
 */
export function filtersHref<K extends string>(path: string, keys: readonly K[], f: Partial<Filters<K>>, extra: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const k of keys) {
    const v = f[k];
    if (v) q.set(k, v);
  }
  for (const [k, v] of Object.entries(extra)) if (v) q.set(k, v);
  const s = q.toString();
  return path + (s ? '?' + s : '');
}

export interface UrlFilters<K extends string> {
  filters: Filters<K>;
  /** Whether any filter is set. */
  filtered: boolean;
  /** Changes some filters (replacing the history entry); other parameters are dropped. */
  setFilter: (patch: Partial<Filters<K>>) => void;
  /** Clears every filter. */
  clear: () => void;
  /** The URL of these filters plus extra parameters. */
  hrefWith: (extra?: Record<string, string | undefined>) => string;
}

export function useUrlFilters<K extends string>(path: string, keys: readonly K[]): UrlFilters<K> {
  const { query } = useLocation();
  // A key of the values only, so the filters object stays the same while they do.
  const key = keys.map((k) => query.get(k) ?? '').join('\u0000');
  const filters = useMemo(() => {
    const values = key.split('\u0000');
    const out = {} as Filters<K>;
    keys.forEach((k, i) => (out[k] = values[i] ?? ''));
    return out;
    // keys is a constant of the page
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return {
    filters,
    filtered: keys.some((k) => filters[k]),
    setFilter: (patch) => navigate(filtersHref(path, keys, { ...filters, ...patch }), true),
    clear: () => navigate(path, true),
    hrefWith: (extra) => filtersHref(path, keys, filters, extra),
  };
}
