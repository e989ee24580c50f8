// A paged list from the API that starts over when its inputs change:
// the first page on every change, "Load more" appending the next one, and
// refresh reloading what is shown. Each start-over aborts the calls still
// running for the old inputs and bumps a generation, and an answer lands
// only if its generation is still the current one.
import { useCallback, useEffect, useLayoutEffect, useReducer, useRef } from 'react';
import type { DependencyList } from 'react';
import { errorMessage, isAbort } from '../components/errors';
import { initialPaged, pagedReducer, refreshLimit } from './pagedList';
import type { Page, PagedAction, PagedState } from './pagedList';

export type { Page } from './pagedList';

/** Fetches one page: `limit` items after the cursor `after` (none: the first page). */
export type PageFetcher<T> = (args: { limit: number; after?: string; signal: AbortSignal }) => Promise<Page<T>>;

export interface PagedListOptions {
  pageSize: number;
  /** A refresh reloads at most this many items (default 200); any beyond are kept. */
  maxRefresh?: number;
  /** false: load nothing (e.g. the filters are not valid); the list stays empty. */
  enabled?: boolean;
}

export interface PagedList<T> extends PagedState<T> {
  /** Appends the next page (no-op without one or while one is loading). */
  loadMore: () => Promise<void>;
  /** Reloads the items shown so far; quiet: a failure is not shown. */
  refresh: (opts?: { quiet?: boolean }) => Promise<void>;
  /** Changes the items shown, e.g. after an action on one of them. */
  update: (fn: (items: T[]) => T[]) => void;
}

/**
 * fetchPage may change on every render: the latest one is used. deps are
 * the inputs the list depends on (the filters): a change starts over.
 */
export function usePagedList<T extends { id: string }>(fetchPage: PageFetcher<T>, deps: DependencyList, opts: PagedListOptions): PagedList<T> {
  const { pageSize, maxRefresh = 200, enabled = true } = opts;
  const [state, dispatch] = useReducer(pagedReducer as (s: PagedState<T>, a: PagedAction<T>) => PagedState<T>, undefined, () => initialPaged<T>());
  const fetchRef = useRef(fetchPage);
  const stateRef = useRef(state);
  useLayoutEffect(() => {
    fetchRef.current = fetchPage;
    stateRef.current = state;
  });
  const genRef = useRef(0);
  const ctlRef = useRef<AbortController | null>(null);
  const moreRef = useRef(false);
  const refreshSeq = useRef(0);

  useEffect(() => {
    const gen = ++genRef.current;
    const ctl = new AbortController();
    ctlRef.current = ctl;
    moreRef.current = false;
    dispatch({ type: 'reset', gen });
    if (enabled) {
      fetchRef.current({ limit: pageSize, signal: ctl.signal }).then(
        (page) => !ctl.signal.aborted && dispatch({ type: 'first', gen, page }),
        (e) => !ctl.signal.aborted && !isAbort(e) && dispatch({ type: 'failed', gen, error: errorMessage(e) }),
      );
    }
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, enabled, pageSize]);

  const loadMore = useCallback(async () => {
    const { next } = stateRef.current;
    const ctl = ctlRef.current;
    if (!next || !ctl || moreRef.current) return;
    const gen = genRef.current;
    moreRef.current = true;
    dispatch({ type: 'loadingMore', gen });
    try {
      const page = await fetchRef.current({ limit: pageSize, after: next, signal: ctl.signal });
      if (!ctl.signal.aborted && gen === genRef.current) dispatch({ type: 'more', gen, page });
    } catch (e) {
      if (!ctl.signal.aborted && !isAbort(e)) dispatch({ type: 'failed', gen, error: errorMessage(e) });
    } finally {
      if (gen === genRef.current) moreRef.current = false;
    }
  }, [pageSize]);

  const refresh = useCallback(
    async ({ quiet = false }: { quiet?: boolean } = {}) => {
      const ctl = ctlRef.current;
      if (!ctl || !enabled) return;
      const gen = genRef.current;
      const seq = ++refreshSeq.current;
      const limit = refreshLimit(stateRef.current.items?.length ?? 0, pageSize, maxRefresh);
      try {
        const page = await fetchRef.current({ limit, signal: ctl.signal });
        // Only the latest refresh of the current generation lands.
        if (!ctl.signal.aborted && gen === genRef.current && seq === refreshSeq.current) dispatch({ type: 'refreshed', gen, page, limit });
      } catch (e) {
        if (!quiet && !ctl.signal.aborted && !isAbort(e)) dispatch({ type: 'failed', gen, error: errorMessage(e) });
      }
    },
    [enabled, pageSize, maxRefresh],
  );

  const update = useCallback((fn: (items: T[]) => T[]) => dispatch({ type: 'update', fn }), []);

  return { ...state, loadMore, refresh, update };
}
