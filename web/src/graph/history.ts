// Undo/redo. History<T> is an immutable value (every method returns a new
// one); useUndoable wraps it in React state for the editor.
//
// Merging: push(next, key) replaces the present instead of adding an entry
// when the previous push had the same key, so the moves of one node
// ("move:<id>") or the keystrokes in one field collapse into one undo step.
// Undo, redo, reset and a push without a key end the run of merges.
import { useCallback, useMemo, useState } from 'react';

export const HISTORY_LIMIT = 100;

export class History<T> {
  readonly past: readonly T[];
  readonly present: T;
  readonly future: readonly T[];
  /** The key of the last push, while pushes with the same key merge. */
  readonly mergeKey: string | null;
  readonly limit: number;

  private constructor(past: readonly T[], present: T, future: readonly T[], mergeKey: string | null, limit: number) {
    this.past = past;
    this.present = present;
    this.future = future;
    this.mergeKey = mergeKey;
    this.limit = limit;
  }

  /** A history holding only initial; at most limit undo steps are kept. */
  static of<T>(initial: T, limit: number = HISTORY_LIMIT): History<T> {
    return new History<T>([], initial, [], null, Math.max(1, Math.floor(limit)));
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  /**
   * Makes next the present. With a mergeKey equal to the last push's, it
   * replaces the present (one undo step for the run). Pushing the present
   * itself changes nothing. Clears the redo list.
   */
  push(next: T, mergeKey?: string | null): History<T> {
    if (Object.is(next, this.present)) return this;
    const key = mergeKey ?? null;
    if (key !== null && key === this.mergeKey) return new History(this.past, next, [], key, this.limit);
    const past = [...this.past, this.present];
    if (past.length > this.limit) past.splice(0, past.length - this.limit);
    return new History(past, next, [], key, this.limit);
  }

  undo(): History<T> {
    if (!this.canUndo) return this;
    const past = this.past.slice(0, -1);
    return new History(past, this.past[this.past.length - 1], [this.present, ...this.future], null, this.limit);
  }

  redo(): History<T> {
    if (!this.canRedo) return this;
    const [next, ...future] = this.future;
    return new History([...this.past, this.present], next, future, null, this.limit);
  }

  /** Starts over from value, with nothing to undo or redo. */
  reset(value: T): History<T> {
    return History.of(value, this.limit);
  }

  /** Ends the current run of merges: the next push adds an entry whatever its key. */
  seal(): History<T> {
    return this.mergeKey === null ? this : new History(this.past, this.present, this.future, null, this.limit);
  }
}

export interface Undoable<T> {
  value: T;
  /** Sets the value as a new undo step (merged with the last when mergeKey repeats). */
  set: (next: T | ((prev: T) => T), mergeKey?: string) => void;
  undo: () => void;
  redo: () => void;
  canUndo: boolean;
  canRedo: boolean;
  /** Replaces the value and forgets the history (after loading or saving). */
  reset: (value: T) => void;
}

/**
 * State with undo/redo. `set` also takes an updater (prev => next); T
 * itself must therefore not be a function.
 */
export function useUndoable<T>(initial: T | (() => T), limit: number = HISTORY_LIMIT): Undoable<T> {
  const [history, setHistory] = useState(() => History.of<T>(typeof initial === 'function' ? (initial as () => T)() : initial, limit));
  const set = useCallback((next: T | ((prev: T) => T), mergeKey?: string) => {
    setHistory((h) => h.push(typeof next === 'function' ? (next as (prev: T) => T)(h.present) : next, mergeKey));
  }, []);
  const undo = useCallback(() => setHistory((h) => h.undo()), []);
  const redo = useCallback(() => setHistory((h) => h.redo()), []);
  const reset = useCallback((value: T) => setHistory((h) => h.reset(value)), []);
  return useMemo(
    () => ({ value: history.present, set, undo, redo, canUndo: history.canUndo, canRedo: history.canRedo, reset }),
    [history, set, undo, redo, reset],
  );
}
