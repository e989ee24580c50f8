import { describe, expect, it } from 'vitest';
import { rangeProblem, untilForApi } from './timeRange';
import { nextPollDelay } from './pollDelay';

describe('untilForApi', () => {
  it('adds the minute the picker means', () => {
    expect(untilForApi('2030-01-02T17:00:00.000Z')).toBe('2030-01-02T17:01:00.000Z');
    expect(untilForApi('')).toBe('');
  });
});

describe('rangeProblem', () => {
  it('wants From before To', () => {
    expect(rangeProblem('2030-01-02T17:00:00Z', '2030-01-02T18:00:00Z')).toBe('');
    expect(rangeProblem('2030-01-02T17:00:00Z', '2030-01-02T17:00:00Z')).toBe('‘From’ must be earlier than ‘To’.');
    expect(rangeProblem('2030-01-02T18:00:00Z', '2030-01-02T17:00:00Z')).not.toBe('');
    expect(rangeProblem('', '2030-01-02T17:00:00Z')).toBe('');
  });
});

describe('nextPollDelay', () => {
  const now = Date.parse('2030-01-02T17:00:00Z');
  it('follows an active run every second and stops when it ends', () => {
    expect(nextPollDelay({ status: 'running' }, now)).toBe(1000);
    expect(nextPollDelay({ status: 'queued' }, now)).toBe(1000);
    expect(nextPollDelay({ status: 'succeeded' }, now)).toBeNull();
    expect(nextPollDelay({ status: 'failed' }, now)).toBeNull();
  });
  it('backs off while waiting, waking up for wake_at', () => {
    expect(nextPollDelay({ status: 'waiting' }, now)).toBe(15_000);
    expect(nextPollDelay({ status: 'waiting', wake_at: '2030-01-02T18:00:00Z' }, now)).toBe(15_000);
    expect(nextPollDelay({ status: 'waiting', wake_at: '2030-01-02T17:00:05Z' }, now)).toBe(6000);
    expect(nextPollDelay({ status: 'waiting', wake_at: '2030-01-02T16:00:00Z' }, now)).toBe(1000);
  });
});
