// Where a test run's trigger data comes from: the trigger type's example,
// the last real event from the inbox, or what the user typed.
import { api } from '../api/client';
import type { InboxEvent, TriggerType } from '../api/types';

export type PayloadSource = 'example' | 'last_event' | 'custom';

/** The example trigger data of a trigger type ({} when it has none). */
export function examplePayload(tt: TriggerType | undefined): unknown {
  return tt?.example ?? {};
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
  const { events } = await api.listEvents({ limit: 100 });
  const ev = events.find((e) => types.has(e.type));
  if (!ev) return null;
  const detail = await api.getEvent(ev.id);
  const runId = detail.runs?.[0]?.id ?? ev.run_ids?.[0];
  if (runId) {
    const run = await api.getRun(runId);
    if (run.trigger !== undefined) return { data: run.trigger, event: ev };
  }
  return { data: triggerDataOf(ev), event: ev };
}
