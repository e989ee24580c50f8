// The pure part of usePagedList: a reducer over a paged list whose
// answers carry the generation (the filters) they were asked for. An
// answer from an older generation is dropped, so a slow page for the old
// filters never lands in the list for the new ones.

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface PagedState<T> {
  /** Bumped each time the list starts over (new filters). */
  gen: number;
  /** null: the first page has not arrived yet. */
  items: T[] | null;
  next: string | null;
  error: string;
  loadingMore: boolean;
}

export type PagedAction<T> =
  /** Start over: a new generation, nothing loaded. */
  | { type: 'reset'; gen: number }
  | { type: 'first'; gen: number; page: Page<T> }
  | { type: 'loadingMore'; gen: number }
  | { type: 'more'; gen: number; page: Page<T> }
  /** A reload of the first `limit` items: replaces them, keeps any beyond. */
  | { type: 'refreshed'; gen: number; page: Page<T>; limit: number }
  | { type: 'failed'; gen: number; error: string }
  /** A local change (e.g. a workflow turned on) to the items shown. */
  | { type: 'update'; fn: (items: T[]) => T[] };

export function initialPaged<T>(gen = 0): PagedState<T> {
  return { gen, items: null, next: null, error: '', loadingMore: false };
}

export function pagedReducer<T extends { id: string }>(state: PagedState<T>, action: PagedAction<T>): PagedState<T> {
  if (action.type === 'reset') return initialPaged<T>(action.gen);
  if (action.type === 'update') return state.items ? { ...state, items: action.fn(state.items) } : state;
  if (action.gen !== state.gen) return state; // an answer for filters no longer shown
  switch (action.type) {
    case 'first':
      return { ...state, items: action.page.items, next: action.page.next, error: '' };
    case 'loadingMore':
      return { ...state, loadingMore: true };
    case 'more': {
      const old = state.items ?? [];
      const ids = new Set(old.map((x) => x.id));
      return {
        ...state,
        items: [...old, ...action.page.items.filter((x) => !ids.has(x.id))],
        next: action.page.next,
        loadingMore: false,
        error: '',
      };
    }
    case 'refreshed': {
      const old = state.items;
      if (!old || old.length <= action.limit) return { ...state, items: action.page.items, next: action.page.next, error: '' };
      const ids = new Set(action.page.items.map((x) => x.id));
      return { ...state, items: [...action.page.items, ...old.slice(action.limit).filter((x) => !ids.has(x.id))], error: '' };
    }
    case 'failed':
      return { ...state, error: action.error, loadingMore: false };
  }
}

/** How many items a refresh reloads: those shown (at least a page), at most max. */
export function refreshLimit(shown: number, pageSize: number, max: number): number {
  return Math.min(Math.max(max, pageSize), Math.max(pageSize, shown));
}
