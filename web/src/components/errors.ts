// Turning failures into sentences for people.
import { ApiError } from '../api/client';

/** The message to show for a failed call. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 403) return 'Only an admin can do this. Sign in with an admin token, or ask an admin.';
    return e.message;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Whether e is an aborted fetch (a page left or a poll replaced): not worth showing. */
export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}
