import { describe, expect, it } from 'vitest';
import { filtersHref, readFilters } from './useUrlFilters';

const KEYS = ['type', 'source', 'status'] as const;

describe('URL filters', () => {
  it('reads every key, empty when missing', () => {
    expect(readFilters(new URLSearchParams('source=api&other=1'), KEYS)).toEqual({ type: '', source: 'api', status: '' });
  });

  it('writes the set filters in order, then the extras', () => {
    expect(filtersHref('/events', KEYS, { status: 'failed', type: 'a b' }, { event: 'ev_1' })).toBe('/events?type=a+b&status=failed&event=ev_1');
    expect(filtersHref('/events', KEYS, { type: '' })).toBe('/events');
  });

  it('round-trips', () => {
    const f = { type: 'candidateStageChange', source: 'lever', status: '' };
    const href = filtersHref('/events', KEYS, f);
    expect(readFilters(new URLSearchParams(href.slice(href.indexOf('?'))), KEYS)).toEqual(f);
  });
});
