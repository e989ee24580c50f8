// Where a test run's trigger data comes from: the trigger type's example,
// the last real event from the inbox, or what the user typed.
import { api } from '../api/client';
import type { InboxEvent, Run, TriggerType, Workflow } from '../api/types';
import { findStep } from '../model';

export type PayloadSource = 'last_run' | 'example' | 'last_event' | 'custom';

/** The example trigger data of a trigger type ({} when it has none). */
export function examplePayload(tt: TriggerType | undefined): unknown {
  return tt?.example ?? {};
}

interface LeverOpportunity {
  id: string;
  contact?: string;
  name?: string;
}
interface LeverPosting {
  id: string;
  text?: string;
}

/**
 * Puts the ids of real objects into an example: an opportunity's (and its
 * contact's) for candidate events, a posting (the whole object) for posting
 * events. The example's own ids exist in no account, so a test run of a
 * Lever workflow would stop at its first Lever step. Returns the example
 * unchanged when it names no such id.
 */
export function withRealIds(example: unknown, opp: LeverOpportunity | null, posting: LeverPosting | null): unknown {
  if (!example || typeof example !== 'object' || Array.isArray(example)) return example;
  const out: Record<string, unknown> = { ...(example as Record<string, unknown>) };
  if (opp) {
    if ('opportunityId' in out) out.opportunityId = opp.id;
    if ('candidateId' in out) out.candidateId = opp.id; // Lever's candidate id is the opportunity id
    if ('contactId' in out && opp.contact) out.contactId = opp.contact;
    if (out.opportunity && typeof out.opportunity === 'object') out.opportunity = opp;
  }
  if (posting) {
    if ('postingId' in out) out.postingId = posting.id;
    if (out.posting && typeof out.posting === 'object') out.posting = posting;
  }
  return out;
}

/**
 * The trigger type's example with the ids of the first opportunity or
 * posting of the connection's Lever account, and a line saying whose.
 * Falls back to the plain example (with the reason) when the account
 * cannot be read.
 */
export async function exampleFromAccount(tt: TriggerType | undefined, connection: string | undefined): Promise<{ data: unknown; note: string }> {
  const example = examplePayload(tt);
  const ex = (example ?? {}) as Record<string, unknown>;
  const wantsOpp = 'opportunityId' in ex || 'candidateId' in ex;
  const wantsPosting = 'postingId' in ex;
  if (!tt?.needs_connection || !connection || (!wantsOpp && !wantsPosting)) return { data: example, note: '' };
  try {
    const opp = wantsOpp ? (await api.leverGet<{ data: LeverOpportunity[] }>(connection, 'opportunities', { limit: 1 })).data[0] ?? null : null;
    const posting = wantsPosting ? (await api.leverGet<{ data: LeverPosting[] }>(connection, 'postings', { limit: 1 })).data[0] ?? null : null;
    if (!opp && !posting) return { data: example, note: `The Lever account of “${connection}” has no ${wantsOpp ? 'opportunity' : 'posting'} yet: the example's ids are made up, so Lever steps will not find them.` };
    const whose = opp ? `opportunity ${opp.name ? `“${opp.name}” ` : ''}(${opp.id})` : `posting ${posting?.text ? `“${posting.text}” ` : ''}(${posting?.id})`;
    return { data: withRealIds(example, opp, posting), note: `The example, with the ids of ${whose} from the Lever account of “${connection}”.` };
  } catch (e) {
    return { data: example, note: `The example's ids are made up (the Lever account of “${connection}” could not be read: ${e instanceof Error ? e.message : String(e)}).` };
  }
}

/**
 * Turns a Lever webhook delivery as stored in the inbox into the `trigger`
 * data a run sees: the event's data plus "event" and "triggered_at".
 */
export function triggerDataOf(ev: InboxEvent): unknown {
  const p = ev.payload as { event?: string; triggeredAt?: number; data?: Record<string, unknown> } | undefined;
  if (!p || typeof p !== 'object') return {};
  if (!p.data || typeof p.data !== 'object') return p;
  const out: Record<string, unknown> = { ...p.data };
  if (p.event) out.event = p.event;
  if (typeof p.triggeredAt === 'number') out.triggered_at = new Date(p.triggeredAt).toISOString();
  return out;
}

/**
 * The trigger data of the newest inbox event of the trigger type: the data
 * of the run it started when there is one (exactly what a run saw), else
 * the event turned into trigger data. Null when the inbox has none.
 */
export async function lastEventPayload(tt: TriggerType | undefined): Promise<{ data: unknown; event: InboxEvent } | null> {
  if (!tt) return null;
  const types = new Set(tt.lever_events ?? []);
  if (types.size === 0) return null;
  // The newest event of each Lever event type the trigger listens to.
  const pages = await Promise.all([...types].map((type) => api.listEvents({ type, limit: 1 })));
  const ev = pages
    .flatMap((p) => p.events)
    .sort((a, b) => (a.received_at < b.received_at ? 1 : -1))[0];
  if (!ev) return null;
  const detail = await api.getEvent(ev.id);
  const runId = detail.runs?.[0]?.id ?? ev.run_ids?.[0];
  if (runId) {
    const run = await api.getRun(runId);
    if (run.trigger !== undefined) return { data: run.trigger, event: ev };
  }
  return { data: triggerDataOf(ev), event: ev };
}

/**
 * What "Test step" sends besides the workflow: the last run's outputs by
 * step id and, for a step inside a For each, the first item's (its
 * `item`, `index` 0, and the outputs of its siblings in that item).
 */
export function testInputsOf(wf: Workflow, stepId: string, run: Run | null): { steps: Record<string, unknown>; item?: unknown; index?: number } {
  const steps: Record<string, unknown> = {};
  const firstItem: Record<string, unknown> = {};
  for (const [key, sr] of Object.entries(run?.steps ?? {})) {
    if (sr.status !== 'succeeded') continue;
    if (!key.includes('[')) steps[key] = sr.output;
    else if (!/\[[1-9]\d*\]/.test(key)) firstItem[key.slice(key.lastIndexOf('.') + 1)] = sr.output;
  }
  const loc = findStep(wf, stepId);
  if (!loc?.parent) return { steps };
  Object.assign(steps, firstItem);
  const fanout = run?.steps[loc.parent.id];
  const items = (fanout?.input as { items?: unknown } | undefined)?.items;
  return { steps, item: Array.isArray(items) ? items[0] : undefined, index: 0 };
}
