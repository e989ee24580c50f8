import { describe, expect, it } from 'vitest';
import { initialPaged, pagedReducer, refreshLimit } from './pagedList';
import type { PagedState } from './pagedList';

type Row = { id: string };
const rows = (...ids: string[]): Row[] => ids.map((id) => ({ id }));

function loaded(gen: number, ids: string[], next: string | null = 'c1'): PagedState<Row> {
  return pagedReducer(initialPaged<Row>(gen), { type: 'first', gen, page: { items: rows(...ids), next } });
}

describe('pagedReducer', () => {
  it('starts over on reset', () => {
    const s = pagedReducer(loaded(1, ['a']), { type: 'reset', gen: 2 });
    expect(s).toEqual({ gen: 2, items: null, next: null, error: '', loadingMore: false });
  });

  it('drops a first page for an older generation', () => {
    const s0 = pagedReducer(initialPaged<Row>(1), { type: 'reset', gen: 2 });
    const s = pagedReducer(s0, { type: 'first', gen: 1, page: { items: rows('old'), next: null } });
    expect(s.items).toBeNull();
  });

  it('appends the next page of the same generation, without duplicates', () => {
    let s = pagedReducer(loaded(3, ['a', 'b']), { type: 'loadingMore', gen: 3 });
    expect(s.loadingMore).toBe(true);
    s = pagedReducer(s, { type: 'more', gen: 3, page: { items: rows('b', 'c'), next: null } });
    expect(s.items!.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(s.next).toBeNull();
    expect(s.loadingMore).toBe(false);
  });

  it('does not append a page asked for with older filters', () => {
    const s0 = pagedReducer(pagedReducer(loaded(1, ['a']), { type: 'reset', gen: 2 }), { type: 'first', gen: 2, page: { items: rows('x'), next: null } });
    const s = pagedReducer(s0, { type: 'more', gen: 1, page: { items: rows('b'), next: 'c9' } });
    expect(s.items!.map((r) => r.id)).toEqual(['x']);
    expect(s.next).toBeNull();
  });

  it('replaces the items on a refresh covering them all', () => {
    const s = pagedReducer(loaded(1, ['a', 'b']), { type: 'refreshed', gen: 1, limit: 50, page: { items: rows('n', 'a'), next: null } });
    expect(s.items!.map((r) => r.id)).toEqual(['n', 'a']);
    expect(s.next).toBeNull();
  });

  it('keeps the items beyond the refreshed ones', () => {
    const s = pagedReducer(loaded(1, ['a', 'b', 'c']), { type: 'refreshed', gen: 1, limit: 2, page: { items: rows('n', 'c'), next: 'x' } });
    expect(s.items!.map((r) => r.id)).toEqual(['n', 'c']);
    expect(s.next).toBe('c1'); // the cursor of the last page shown stays
  });

  it('ignores a refresh of an older generation', () => {
    const s0 = loaded(2, ['a']);
    expect(pagedReducer(s0, { type: 'refreshed', gen: 1, limit: 50, page: { items: rows('old'), next: null } })).toBe(s0);
  });

  it('records a failure of the current generation only', () => {
    const s0 = loaded(2, ['a']);
    expect(pagedReducer(s0, { type: 'failed', gen: 1, error: 'boom' })).toBe(s0);
    const s = pagedReducer({ ...s0, loadingMore: true }, { type: 'failed', gen: 2, error: 'boom' });
    expect(s.error).toBe('boom');
    expect(s.loadingMore).toBe(false);
    expect(s.items).toEqual(rows('a'));
  });

  it('updates the items shown', () => {
    const s = pagedReducer(loaded(1, ['a', 'b']), { type: 'update', fn: (l) => l.filter((r) => r.id !== 'a') });
    expect(s.items).toEqual(rows('b'));
    const empty = initialPaged<Row>();
    expect(pagedReducer(empty, { type: 'update', fn: () => rows('z') })).toBe(empty);
  });
});

describe('refreshLimit', () => {
  it('reloads what is shown, at least a page and at most the maximum', () => {
    expect(refreshLimit(0, 50, 200)).toBe(50);
    expect(refreshLimit(120, 50, 200)).toBe(120);
    expect(refreshLimit(500, 50, 200)).toBe(200);
    expect(refreshLimit(10, 100, 50)).toBe(100);
  });
});
