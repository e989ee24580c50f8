// How soon the run page looks at a run again.
import type { RunStatus } from '../api/types';

export const POLL_ACTIVE_MS = 1000;
export const POLL_WAITING_MS = 15_000;

/**
 * Milliseconds until the next look, or null to stop: every second while
 * queued or running; while waiting every 15 s, or at wake_at when that is
 * sooner (a second after it, at least a second from now).
 */
export function nextPollDelay(run: { status: RunStatus; wake_at?: string | null }, now: number = Date.now()): number | null {
  switch (run.status) {
    case 'queued':
    case 'running':
      return POLL_ACTIVE_MS;
    case 'waiting': {
      const wake = run.wake_at ? Date.parse(run.wake_at) : NaN;
      if (Number.isNaN(wake)) return POLL_WAITING_MS;
      return Math.min(POLL_WAITING_MS, Math.max(POLL_ACTIVE_MS, wake - now + POLL_ACTIVE_MS));
    }
    default:
      return null;
  }
}
