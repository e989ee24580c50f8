// Package triggers turns the outside world into runs: Lever webhooks, Lever
// polling, schedules and API calls. This part is the pure logic the HTTP
// layer (api) and the event inbox call; it imports no HTTP framework, keeps
// no state and reads no clock (callers pass now).
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
// The receiver of POST /hooks/lever/:connection does, in order:
//
//  1. cap the body at MaxWebhookBody and ParseLeverWebhook it
//     (ErrTooLarge: 413, ErrMalformed: 400);
//  2. VerifyLeverSignature with the connection's signature token, the
//     configuration.signatureToken Lever returned when the webhook was
//     registered (ErrBadSignature: 401);
//  3. CheckFreshness against the current time (ErrStale: refuse);
//  4. deduplicate on the connection and LeverEvent.DedupeKey (the token),
//     recording it only once the runs are committed;
//  5. start a run of every enabled workflow whose trigger type is in
//     Match(ev), with TriggerData(ev) as `trigger`, then answer 2xx.
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
