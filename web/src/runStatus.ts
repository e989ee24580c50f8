// What a run says about each step of its workflow. A run's `steps` are
// keyed by step run key: the step id at the top level, and inside a fanout
// "<fanout id>[<index>].<step id>" (nested: "a[0].b[1].c"). The canvas
// shows one node per step id, so the item runs of a fanout's body are
// folded onto their step id here.
import type { Run, RunStatus, StepRun, StepStatus } from './api/types';

/** One fanout item on the way to a step run: the fanout's id and the item's index. */
export interface ItemRef {
  fanout: string;
  index: number;
}

/** A parsed step run key. */
export interface StepKey {
  key: string;
  /** The step's id (the last part of the key). */
  stepId: string;
  /** The fanout items the step ran in, outermost first; [] at the top level. */
  items: ItemRef[];
}

const ITEM = /^([^[\].]+)\[(\d+)\]$/;

/** Parses "score[0].points" into {stepId: "points", items: [{fanout: "score", index: 0}]}. */
export function parseStepKey(key: string): StepKey {
  const parts = key.split('.');
  const items: ItemRef[] = [];
  for (const part of parts.slice(0, -1)) {
    const m = ITEM.exec(part);
    if (m) items.push({ fanout: m[1], index: Number(m[2]) });
  }
  return { key, stepId: parts[parts.length - 1], items };
}

/** Orders keys by their item indexes numerically ("a[2]" before "a[10]"). */
export function compareStepKeys(a: string, b: string): number {
  const pa = parseStepKey(a);
  const pb = parseStepKey(b);
  const n = Math.min(pa.items.length, pb.items.length);
  for (let i = 0; i < n; i++) {
    if (pa.items[i].fanout !== pb.items[i].fanout) return pa.items[i].fanout < pb.items[i].fanout ? -1 : 1;
    if (pa.items[i].index !== pb.items[i].index) return pa.items[i].index - pb.items[i].index;
  }
  if (pa.items.length !== pb.items.length) return pa.items.length - pb.items.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The keys of run.steps that belong to stepId: its own key and, for a step
 * in a fanout's body, one per item ("score[0].points", "score[1].points"),
 * in item order.
 */
export function runStepKeys(run: Pick<Run, 'steps'>, stepId: string): string[] {
  return Object.keys(run.steps ?? {})
    .filter((k) => parseStepKey(k).stepId === stepId)
    .sort(compareStepKeys);
}

/** One item of a fanout: its index, the key prefix ("score[1]") and the step runs in it. */
export interface FanoutItem {
  index: number;
  /** "score[1]", or nested "outer[0].score[1]". */
  prefix: string;
  /** Step id -> its run within this item (nested fanouts' items excluded). */
  steps: Record<string, { key: string; run: StepRun }>;
}

/**
 * The items a fanout ran, in order, with the body steps' runs of each. A
 * fanout inside another fanout has items per outer item: they are listed
 * one after the other, each with its own prefix.
 */
export function fanoutItems(run: Pick<Run, 'steps'>, fanoutId: string): FanoutItem[] {
  const byPrefix = new Map<string, FanoutItem>();
  for (const [key, sr] of Object.entries(run.steps ?? {})) {
    const parsed = parseStepKey(key);
    // The innermost item of this fanout on the way to the key, and only
    // when the step sits directly in the body (no deeper fanout item after).
    const last = parsed.items.length - 1;
    if (last < 0 || parsed.items[last].fanout !== fanoutId) continue;
    const parts = key.split('.');
    const prefix = parts.slice(0, -1).join('.');
    let item = byPrefix.get(prefix);
    if (!item) {
      item = { index: parsed.items[last].index, prefix, steps: {} };
      byPrefix.set(prefix, item);
    }
    item.steps[parsed.stepId] = { key, run: sr };
  }
  return [...byPrefix.values()].sort((a, b) => compareStepKeys(a.prefix + '.x', b.prefix + '.x'));
}

/**
 * One status for several runs of a step (a fanout body step's items):
 * failed if any failed; running if any is running (or some are done and
 * others still pending); waiting if any waits; pending if all are pending;
 * cancelled if any was cancelled; succeeded if any succeeded (the others
 * skipped); skipped if all were skipped.
 */
export function aggregateStatus(list: StepStatus[]): StepStatus {
  if (list.length === 0) return 'pending';
  const has = (s: StepStatus) => list.includes(s);
  if (has('failed')) return 'failed';
  if (has('running')) return 'running';
  if (has('waiting')) return 'waiting';
  if (has('pending')) return list.every((s) => s === 'pending') ? 'pending' : 'running';
  if (has('cancelled')) return 'cancelled';
  if (has('succeeded')) return 'succeeded';
  return 'skipped';
}

/** One status for a fanout item: its body steps' runs aggregated (see aggregateStatus). */
export function fanoutItemStatus(item: FanoutItem): StepStatus {
  return aggregateStatus(Object.values(item.steps).map((s) => s.run.status));
}

/**
 * Step id -> the status the canvas shows: a top-level step's own status; a
 * fanout body step's items aggregated (see aggregateStatus); a fanout its
 * own key's status. Steps that did not run are left out.
 */
export function stepStatuses(run: Pick<Run, 'steps'>): Record<string, StepStatus> {
  const all: Record<string, StepStatus[]> = {};
  for (const [key, sr] of Object.entries(run.steps ?? {})) {
    (all[parseStepKey(key).stepId] ??= []).push(sr.status);
  }
  const out: Record<string, StepStatus> = {};
  for (const [id, list] of Object.entries(all)) out[id] = aggregateStatus(list);
  return out;
}

/** Whether a run has ended (it will not change unless retried). */
export function isFinished(status: RunStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

/** Whether a run is still going (queued, running or waiting). */
export function isActive(status: RunStatus): boolean {
  return !isFinished(status);
}

/**
 * The step to show first on a run's page: the failed step that finished
 * first (the innermost one when a fanout failed because of an item), else
 * the step that finished last, else null.
 */
export function defaultStep(run: Pick<Run, 'steps'>): string | null {
  const entries = Object.entries(run.steps ?? {});
  const time = (sr: StepRun) => (sr.finished_at ? Date.parse(sr.finished_at) : Number.POSITIVE_INFINITY);
  const failed = entries
    .filter(([, sr]) => sr.status === 'failed')
    .sort(([ka, a], [kb, b]) => time(a) - time(b) || parseStepKey(kb).items.length - parseStepKey(ka).items.length);
  if (failed.length) return parseStepKey(failed[0][0]).stepId;
  const finished = entries.filter(([, sr]) => sr.finished_at).sort(([, a], [, b]) => time(b) - time(a));
  if (finished.length) return parseStepKey(finished[0][0]).stepId;
  return null;
}
