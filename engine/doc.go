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
package engine
