import { describe, expect, it } from 'vitest';
import { durationBetween, durationMs, formatDuration, formatTime, fromLocalInput, relativeTime, toLocalInput } from './time';

describe('formatDuration', () => {
  it('writes milliseconds under a second', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(312)).toBe('312 ms');
    expect(formatDuration(999.4)).toBe('999 ms');
  });
  it('writes seconds with one decimal under ten seconds', () => {
    expect(formatDuration(1000)).toBe('1.0 s');
    expect(formatDuration(1400)).toBe('1.4 s');
    expect(formatDuration(9960)).toBe('10 s');
  });
  it('writes whole seconds, minutes, hours and days above', () => {
    expect(formatDuration(12_300)).toBe('12 s');
    expect(formatDuration(59_400)).toBe('59 s');
    expect(formatDuration(60_000)).toBe('1 min');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(3_600_000)).toBe('1 h');
    expect(formatDuration(3_840_000)).toBe('1 h 4 min');
    expect(formatDuration(86_400_000)).toBe('1 day');
    expect(formatDuration(2 * 86_400_000 + 3 * 3_600_000)).toBe('2 days 3 h');
  });
  it('answers "" for nothing or nonsense', () => {
    expect(formatDuration(null)).toBe('');
    expect(formatDuration(undefined)).toBe('');
    expect(formatDuration(-5)).toBe('');
    expect(formatDuration(Number.NaN)).toBe('');
  });
});

describe('durationBetween', () => {
  const a = '2026-12-01T18:16:09.000Z';
  it('measures between two times', () => {
    expect(durationMs(a, '2026-12-01T18:16:09.312Z')).toBe(312);
    expect(durationBetween(a, '2026-12-01T18:16:10.400Z')).toBe('1.4 s');
    expect(durationBetween(a, '2026-12-01T18:18:14.000Z')).toBe('2 min 5 s');
  });
  it('measures up to now when the end is missing', () => {
    const now = Date.parse(a) + 3000;
    expect(durationBetween(a, null, now)).toBe('3.0 s');
  });
  it('answers "" without a start', () => {
    expect(durationBetween(null, a)).toBe('');
    expect(durationMs('not a time', a)).toBeNull();
  });
});

describe('relativeTime', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  const ago = (ms: number) => new Date(now - ms).toISOString();
  it('says how long ago', () => {
    expect(relativeTime(ago(2000), now)).toBe('just now');
    expect(relativeTime(ago(42_000), now)).toBe('42 s ago');
    expect(relativeTime(ago(3 * 60_000 + 20_000), now)).toBe('3 min ago');
    expect(relativeTime(ago(5 * 3_600_000), now)).toBe('5 h ago');
    expect(relativeTime(ago(86_400_000), now)).toBe('1 day ago');
    expect(relativeTime(ago(3 * 86_400_000), now)).toBe('3 days ago');
  });
  it('says when in the future', () => {
    expect(relativeTime(ago(-3 * 60_000), now)).toBe('in 3 min');
  });
  it('falls back to the date for old times', () => {
    const s = relativeTime('2025-01-15T12:00:00Z', now);
    expect(s).toContain('2025');
    expect(s).not.toContain('ago');
  });
  it('answers "" for nothing', () => {
    expect(relativeTime(null, now)).toBe('');
    expect(relativeTime('', now)).toBe('');
  });
});

describe('formatTime', () => {
  it('writes a local date and time', () => {
    const s = formatTime('2026-12-01T18:16:09Z');
    expect(s).toContain('2026');
    expect(s.length).toBeGreaterThan(8);
    expect(formatTime(undefined)).toBe('');
  });
});

describe('datetime-local round trip', () => {
  it('keeps the minute', () => {
    const iso = '2026-12-01T18:16:00.000Z';
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso);
    expect(fromLocalInput('')).toBe('');
    expect(toLocalInput(null)).toBe('');
  });
});
