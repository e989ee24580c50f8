// Package engine runs workflows durably. It owns the run state machine, the
// DAG scheduler (parallel branches, the skip and join rules), retries with
// exponential back-off and jitter, per-step and per-run timeouts, fanouts,
// cancellation, retry from the failed step, and the pool of workers that
// claim runs from the store under a lease.
//
// A run moves through these states:
//
//	               claim                 all steps finished
//	queued ───────────────► running ─────────────────────────► succeeded
//	  ▲                      │  ▲  │ a step failed (on_error: fail)
//	  │ retry (failed        │  │  └──────────────────────────► failed
//	  │ steps reset)         │  │ wake-up time reached (claim)
//	  │                      ▼  │
//	  └── failed          waiting (a delay or a retry back-off;
//	                                no goroutine holds it)
//	queued | waiting | running ──── cancel ───────────────────► cancelled
//
// Durability: a run is committed (queued) before StartRun returns; each
// step's start (attempt count and resolved input) and its result are
// committed before any step after it starts, the result of one step in the
// same transaction as the start of the steps it makes ready. A worker holds
// a run under a lease that its heartbeat extends; when a process dies, its
// runs are claimed by another worker once their leases expire, finished
// steps keep their outputs, and the step that was in flight runs again.
//
// A step runs when every parent has finished and at least one incoming edge
// is active (its parent succeeded, or failed with on_error: continue, and
// the edge's branch, if any, is the one the parent chose); when every
// parent finished and no incoming edge is active, the step is skipped,
// which deactivates its own outgoing edges in turn.
//
// Workflows: CreateWorkflow, UpdateWorkflow and SaveWorkflow store
// validated versions; a new workflow is disabled. EnableWorkflow validates
// the latest version again with its connections checked
// (Options.HasConnection) and refuses it with an *InvalidError listing
// every problem; enablement gates triggers only, StartRun runs a disabled
// workflow. DeleteWorkflow is a soft delete: the workflow is no longer found,
// listed, started or saved, and its id is not reused, while its runs are
// left alone (they finish on their version and stay listed). Runs record
// what started them (TriggerType, by default the workflow's, and the inbox
// EventID).
//
// Operations: Options.Observer hears of every run and step that finished,
// after the commit that finished them (for metrics; it must not block).
// Healthy pings the store and, once started, reports a worker loop that has
// not finished a round in three poll intervals. List methods refuse bad
// arguments with ErrInvalidArgument.
//
// Retention: Prune deletes the finished runs (succeeded, failed, cancelled)
// older than their workflow version's "retention" (Options.DefaultRetention,
// else 30 days, when it names none), with their step runs, 500 runs per
// transaction, never a queued, running or waiting run; then the store gives
// the space back (SQLite: the file is in incremental auto-vacuum mode since
// migration 6, and PRAGMA incremental_vacuum plus a WAL checkpoint shrink
// it). A started engine prunes a minute after Start, then every
// Options.PruneEvery (default 1h; negative: never).
//
// Redaction: the steps always get the real values; only what the store
// keeps changes, and what it keeps reads "[redacted]" in place of:
//
//   - Sensitive inputs: every input value whose schema (steps.Schema) says
//     Sensitive, at any depth of properties and list items, in the stored
//     input of each attempt, from the first commit on. A container
//     (fanout) keeps its input: it is read back to resume the items.
//   - With "redact_pii": true, once the run has ended (succeeded, failed
//     or cancelled, in the commit that ends it; the trigger data just
//     after): in the trigger data and in every step's input and output,
//     the whole value of each field named name, first_name/firstName,
//     last_name/lastName, full_name, preferred_name, candidate_name,
//     contact_name, email, emails, email_address, phone, phones or
//     phone_number (compared without case, "_" or "-": Lever's
//     opportunity and contact names, emails and phones, and its users'
//     names and emails); and in every other string, email addresses and
//     phone numbers: "+" and 7 to 15 digits ("+1 415 555 0134",
//     "+44 (0)20 7946 0958"), or 10 digits written (415) 555-0134,
//     415-555-0134, 415.555.0134 or 415 555 0134, standing apart from
//     letters, digits and "-./_:+" (so ids, dates, times, versions and
//     bare numbers are kept). Step errors and the run's error lose their
//     emails and phone numbers too. Keys, numbers and booleans are kept,
//     and a name inside free text ("Hi Jane") is not found. Until the run
//     ends its data is stored as is, since a run that parks or resumes
//     reads it back; for the same reason a failed run of such a workflow
//     cannot be retried (RetryRun gives store.ErrConflict): start a new one.
//
// Failure notifications: when a run fails (after the commit of its failed
// state, off its goroutine) and its version has "on_failure", the engine
// starts on_failure.workflow with TriggerType "error" (TriggerError) and
// the run's FailureSummary as trigger data, under a run id derived from the
// failed run's id and finish time (a repeated notification starts nothing;
// each failure of a retried run notifies once), and POSTs the summary as
// JSON to on_failure.webhook (10s per attempt, 3 attempts with back-off on
// network errors, 429 and 5xx; an Idempotency-Key header names the
// failure). A missing target, or an undelivered webhook, is logged, and
// fails nothing. A run of TriggerType "error" never notifies, so error
// workflows cannot loop.
package engine
