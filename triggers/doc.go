// Package triggers turns the outside world into runs: Lever webhooks, Lever
// polling, schedules and API calls. It imports no HTTP framework: the HTTP
// layer (api) hands it request bodies. The webhook checks, Match and
// TriggerData are pure (callers pass now); Receiver, the event inbox, keeps
// Lever deliveries in the engine's store and routes them to runs, with an
// injected clock.
//
// # Trigger types
//
// Types is the catalog of every "trigger.type" a workflow may name, in the
// order of workflow.TriggerTypes (a test keeps the two equal): "api",
// "schedule", the Lever events pushed by Lever's webhooks
// (lever.application_created, lever.candidate_stage_changed, ...), the
// Paragon-style unions lever.candidate_created and lever.candidate_updated,
// and the polled lever.posting_created and lever.posting_updated (Lever has
// no posting webhooks). Each TriggerType says how its events arrive
// (Delivery), which Lever events feed it (LeverEvents), what `trigger` holds
// in references (Data, a steps.Schema) and gives an Example.
//
// The unions are chosen as a recruiter means them:
//   - lever.candidate_created: one run per new opportunity, from
//     applicationCreated, and by polling for sourced leads Lever sends no
//     application for. contactCreated is left out: it is a person, not a
//     candidacy, and would double the runs.
//   - lever.candidate_updated: candidateStageChange, candidateArchiveChange,
//     candidateHired and contactUpdated. Interviews have their own triggers
//     and a deleted candidate is not "updated".
//
// # What `trigger` holds
//
// For a webhook, TriggerData gives the event's data object as Lever sent it
// (camelCase ids such as opportunityId and contactId) plus "event" (Lever's
// event name), "triggered_at" (RFC 3339, UTC, milliseconds), "token" and,
// when sent, "id"; never the signature. A polled event has the same
// envelope, the object's ids (opportunityId and contactId, or postingId) and
// the object itself under "opportunity" or "posting", with "event" set to
// PolledOpportunityCreated, PolledPostingCreated or PolledPostingUpdated. A
// schedule run holds "triggered_at", "cron" and "timezone"; an API run, the
// request body.
//
// # Receiving a Lever webhook
//
// Receiver is the event inbox behind POST /hooks/lever/:connection. Its
// ReceiveLever does, in order:
//
//  1. ParseLeverWebhook the body, capped at MaxWebhookBody by the HTTP
//     layer (ErrTooLarge: 413, ErrMalformed: 400);
//  2. look up the connection's webhook secrets (ErrUnknownConnection:
//     404, also for a connection with no webhook registered);
//  3. VerifyLeverSignature with the signature token registered for the
//     event, the configuration.signatureToken Lever returned when the
//     webhook was registered (ErrBadSignature: 401);
//  4. check freshness against its clock (ErrStale: 401);
//  5. store the body in the inbox (store.InsertEvent, pending),
//     deduplicated per user and connection on LeverEvent.DedupeKey (the
//     token): a duplicate answers 200 with the first event's id and
//     starts nothing. Only then is the delivery acknowledged.
//
// HTTPStatus maps its errors to the answer. Nothing is stored for a
// refused delivery.
//
// Routing happens after the acknowledgement, so a slow database or many
// workflows never make Lever time out: the stored event goes to a bounded
// queue read by router goroutines (Start), and a sweep routes what the
// queue could not take and what a crashed process acknowledged but never
// routed (pending Lever events older than RouteDelay). Route starts one run
// of every enabled workflow of the event's user whose trigger type is in
// Match(ev) and whose trigger connection is the event's, with
// TriggerData(ev) as `trigger`, and records the outcome on the event:
// routed (with the run ids), unmatched (kept, visible, replayable) or, when
// runs could not be started, pending again with "attempt n of
// MaxRouteAttempts" as its error for the sweep to retry, then failed. Run
// ids are deterministic (RunID), so routing an event twice (the sweep
// racing the router, another node, a crash between starting the runs and
// recording them) finds the runs already started instead of starting
// them again. Replay and ReplayMatching route events again: new runs of
// every enabled workflow that matches now, added to the event's runs.
//
// # Schedules and polls
//
// Scheduler starts the runs of schedule workflows at their cron slots
// (robfig/cron, optional seconds, trigger.timezone), one run per slot
// (ScheduleRunID) across restarts and servers, with the overlap and
// catch-up policies of the trigger; Poller reads Lever for what it has no
// webhook for (postings created or changed, sourced leads) from a durable
// cursor per user, connection and trigger type, and puts each change in
// the inbox with ReceivePolled (source "poll", deduplicated on
// PolledDedupeKey), where the router routes it like a webhook with
// PolledTrigger as `trigger`. Both keep their state in the store's
// trigger state, written conditionally on the version read.
//
// Lever signs only token and triggeredAt, not data: a captured delivery
// could be replayed with other data. The freshness window and deduplication
// on the (signed) token bound that, and workflows should read the current
// state from Lever (Get Opportunity) rather than trust anything but the ids.
// Lever retries a failed delivery up to 5 times with the same body, so the
// default past window, DefaultMaxAge (1 hour), is much wider than the
// future one, DefaultMaxSkew (5 minutes, clock skew only).
// Lever's test delivery (candidateHired with empty data) verifies like any
// other but starts nothing (LeverEvent.IsTest).
package triggers
