// Package store defines the engine's persistence contract: the Store
// interface, its records and its sentinel errors. engine/store/gormstore is
// the one implementation (SQLite by default, PostgreSQL for many nodes);
// engine/store/storetest is the conformance suite every implementation must
// pass.
//
// Every write that changes a run is fenced by the run's lease: only the
// worker that claimed a run may write its steps, so a worker that lost its
// lease (a long GC pause, a partition) cannot overwrite the work of the
// worker that took the run over.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/leverflow/leverflow/engine/workflow"
)

// Sentinel errors callers branch on.
var (
	// ErrNotFound: no such workflow, version, run, token or event (a
	// deleted workflow is not found either).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the record exists already (a duplicate id or unique
	// key) or is not in a state that allows the change (cancelling a
	// finished run, retrying a run that did not fail).
	ErrConflict = errors.New("conflict")
	// ErrLeaseLost: the caller no longer holds the run's lease.
	ErrLeaseLost = errors.New("lease lost")
)

// WorkflowVersion is one immutable saved version of a workflow.
type WorkflowVersion struct {
	WorkflowID string
	Version    int
	Name       string
	// Definition is the workflow document as saved.
	Definition json.RawMessage
	CreatedAt  time.Time
}

// Workflow is a workflow's current state: the latest version's name and
// trigger, and whether it is enabled. A deleted workflow has none.
type Workflow struct {
	ID            string
	Name          string
	LatestVersion int
	// Enabled workflows are started by their trigger; a new workflow is
	// disabled.
	Enabled bool
	// TriggerType and TriggerConnection are the latest version's
	// trigger.type and trigger.connection ("" when it has none).
	TriggerType       string
	TriggerConnection string
	// UserID is the connected user who owns the workflow; "" is the
	// workspace's own.
	UserID    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RunRef is the little a workflow listing shows of a run.
type RunRef struct {
	ID        string
	Status    workflow.RunStatus
	CreatedAt time.Time
}

// WorkflowSummary is a workflow as listed: its state, its newest run and
// how many runs it has in each status.
type WorkflowSummary struct {
	Workflow
	// LastRun is the newest run (by id, that is by creation: ids are
	// UUIDv7); nil when the workflow never ran.
	LastRun *RunRef
	// RunCounts counts the workflow's runs by status; statuses without
	// runs are absent.
	RunCounts map[workflow.RunStatus]int
}

// WorkflowFilter selects workflows for ListWorkflows. Zero fields do not
// filter. Deleted workflows are never listed.
type WorkflowFilter struct {
	// Enabled, when set, keeps the workflows enabled (or disabled).
	Enabled *bool
	// TriggerTypes keeps the workflows whose trigger type is one of them.
	TriggerTypes []string
	// TriggerConnection keeps the workflows triggered through that
	// connection.
	TriggerConnection string
	// After is a keyset cursor: workflows are listed by id, ascending, and
	// only those with an id greater than After are.
	After string
	// Limit caps the page; 0 means 50.
	Limit int
}

// RunFilter selects runs for ListRuns. Zero fields do not filter.
type RunFilter struct {
	WorkflowID string
	Status     workflow.RunStatus
	// TriggerType keeps the runs started by that trigger type ("api",
	// "schedule", "lever.candidate_stage_changed", ...).
	TriggerType string
	// EventID keeps the runs started by that inbox event.
	EventID string
	// CreatedAfter and CreatedBefore bound the creation time: runs created
	// at or after CreatedAfter, and strictly before CreatedBefore (so
	// adjacent windows do not overlap).
	CreatedAfter  time.Time
	CreatedBefore time.Time
	// After is a keyset cursor: only runs with an id lower than After (that
	// is, older runs: ids are UUIDv7) are listed.
	After string
	// Limit caps the page; 0 means 50.
	Limit int
}

// Update is one atomic change to a run made by the worker holding its
// lease: step runs upserted by key, and optionally the run's own fields.
type Update struct {
	RunID string
	// Status, when set, becomes the run's status.
	Status workflow.RunStatus
	// Error, when Status is set, becomes the run's error.
	Error      string
	StartedAt  *time.Time
	FinishedAt *time.Time
	// WakeAt, when Status is waiting, is when the run is due again.
	WakeAt *time.Time
	// Release clears the lease (after parking or finishing the run).
	Release bool
	// Steps are inserted or replaced by (run, key).
	Steps []*workflow.StepRun

	// ---- Concurrency and throttling ----

	// WaitReason, when Status is set, becomes the run's wait reason (why a
	// waiting run waits: "throttled: ..."); any other status clears it.
	WaitReason string

	// Trigger, when set, replaces the run's trigger data in the same
	// write: the final commit of a run that redacts PII stores its
	// redacted trigger with its final state, or nothing.
	Trigger json.RawMessage
}

// Connection is a named account that steps reach an outside service through
// (a Lever account). The store keeps it as given and knows nothing of the
// service: Secrets arrive already sealed by the caller (the connections
// package encrypts them with AES-256-GCM) and are never read here.
type Connection struct {
	// UserID is the connected user who owns the connection; "" is the
	// workspace's own. Names are unique per user.
	UserID string
	Name   string
	// Provider names the service ("lever").
	Provider    string
	Environment string
	// Auth is how the connection authenticates ("api_key", "oauth").
	Auth string
	// Status is the caller's ("connected", "needs_reauth", "error"), with a
	// message for the user when it is not connected.
	Status        string
	StatusMessage string
	// Public is caller-defined JSON that may be shown to users (the account
	// reached, the OAuth client id and scopes); never a secret.
	Public json.RawMessage
	// Secrets is the sealed blob of every secret (API key, client secret,
	// access and refresh tokens).
	Secrets []byte
	// AccessExpiresAt and RefreshExpiresAt are when the OAuth access and
	// refresh tokens expire; nil for an API key.
	AccessExpiresAt  *time.Time
	RefreshExpiresAt *time.Time
	// RefreshClaimUntil and RefreshClaimOwner record that a process is
	// refreshing the connection's tokens until that time: others wait for
	// its result instead of spending the same refresh token. Both are
	// written by UpdateConnection like every other field; nil and "" mean
	// no claim.
	RefreshClaimUntil *time.Time
	RefreshClaimOwner string
	// Revision fences writes. CreateConnection starts it at a value the
	// name never had before (so an update prepared against a deleted
	// connection cannot land on a new one of the same name); each
	// UpdateConnection adds 1 and only writes over the revision it was
	// given, so two processes refreshing one connection cannot both win.
	Revision  int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OAuthState is a pending OAuth authorization: the random state sent to
// the provider, and what the callback needs to finish the connection.
type OAuthState struct {
	// ID is the state value (or a hash of it).
	ID     string
	UserID string
	// Payload is sealed by the caller (it carries a client secret).
	Payload   []byte
	ExpiresAt time.Time
	CreatedAt time.Time
}

// Token is an API token. Only the SHA-256 of the token is stored; the
// token itself is shown once, when it is made.
type Token struct {
	ID   string
	Name string
	// Hash is the lowercase hex SHA-256 of the token; unique.
	Hash string
	// Admin tokens may do everything, others what their user may.
	Admin bool
	// UserID is the connected user the token acts for; "" is the
	// workspace.
	UserID     string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	// RevokedAt is set once the token is revoked: the caller must refuse
	// it.
	RevokedAt *time.Time
}

// EventStatus is where an inbox event is in its routing.
type EventStatus string

// The event states: received and not yet routed; routed to at least one
// run; matched by no enabled workflow; routing failed.
const (
	EventPending   EventStatus = "pending"
	EventRouted    EventStatus = "routed"
	EventUnmatched EventStatus = "unmatched"
	EventFailed    EventStatus = "failed"
)

// Valid reports whether s is one of the event states.
func (s EventStatus) Valid() bool {
	switch s {
	case EventPending, EventRouted, EventUnmatched, EventFailed:
		return true
	}
	return false
}

// Where inbox events come from.
const (
	EventSourceLever = "lever" // a Lever webhook
	EventSourcePoll  = "poll"  // a poll of Lever
	EventSourceAPI   = "api"   // POST /sdk/events and the like
)

// Event is one entry of the event inbox: something that happened outside
// (a Lever webhook, a polled change, an API call), kept before it is
// routed to runs so that nothing received is lost and every routing can
// be explained and replayed.
type Event struct {
	// ID is a UUIDv7 given by the caller.
	ID     string
	Source string
	// Connection is the connection the event came through; UserID its
	// connected user ("" for the workspace).
	Connection string
	UserID     string
	// Type is the event's name as its source gives it (Lever's
	// "candidateStageChange").
	Type string
	// DedupeKey, when not empty, is unique per (Source, UserID,
	// Connection): an event delivered twice is kept once.
	DedupeKey  string
	Payload    json.RawMessage
	ReceivedAt time.Time
	// Status is pending when inserted (InsertEvent sets it when empty).
	Status EventStatus
	// Error says why routing failed.
	Error string
	// RunIDs are the runs the event started, over every replay.
	RunIDs   []string
	RoutedAt *time.Time
	// Replays counts the times the event was routed again.
	Replays int
}

// EventResult is the outcome of routing an event, for FinishEvent.
type EventResult struct {
	Status EventStatus
	// RunIDs are the runs started by this routing.
	RunIDs []string
	Error  string
	// Replay adds RunIDs to the event's runs and counts one more replay;
	// otherwise RunIDs replace them.
	Replay bool
	// At is when routing finished (the event's RoutedAt).
	At time.Time
}

// EventFilter selects events for ListEvents. Zero fields do not filter.
type EventFilter struct {
	Source     string
	Connection string
	Type       string
	Status     EventStatus
	// DedupeKey, when set, finds the event of that key (with Source,
	// Connection and UserID: the inbox's unique key); UserID filters only
	// together with it, since "" is the workspace's own.
	DedupeKey string
	UserID    string
	// ReceivedAfter and ReceivedBefore bound the receipt time: at or after
	// ReceivedAfter, strictly before ReceivedBefore.
	ReceivedAfter  time.Time
	ReceivedBefore time.Time
	// After is a keyset cursor: events are listed newest first (by id:
	// UUIDv7) and only those with an id lower than After are.
	After string
	// Limit caps the page; 0 means 50.
	Limit int
}

// Store persists workflows and runs. Implementations are safe for
// concurrent use.
type Store interface {
	// SaveWorkflow stores a new version of the workflow (version 1 for a new
	// id) and returns it; its trigger type and connection are read from
	// the definition's "trigger". An id whose workflow was deleted gives
	// ErrNotFound: saving a version is an update, and a deleted workflow
	// takes no more.
	SaveWorkflow(ctx context.Context, workflowID, name string, definition json.RawMessage, now time.Time) (*WorkflowVersion, error)
	// CreateWorkflow stores version 1 of a new workflow (disabled). An id
	// that exists gives ErrConflict, and so does the id of a deleted
	// workflow: ids are never reused, because the deleted workflow's runs
	// still name it and would otherwise read as runs of the new one.
	CreateWorkflow(ctx context.Context, workflowID, name string, definition json.RawMessage, now time.Time) (*WorkflowVersion, error)
	// UpdateWorkflow stores the next version of an existing workflow; a
	// missing or deleted one gives ErrNotFound (what PUT needs).
	UpdateWorkflow(ctx context.Context, workflowID, name string, definition json.RawMessage, now time.Time) (*WorkflowVersion, error)
	// GetWorkflowVersion returns one version; version 0 means the latest.
	// A deleted workflow has no latest version (ErrNotFound), but its
	// numbered versions stay readable: its runs keep running them.
	GetWorkflowVersion(ctx context.Context, workflowID string, version int) (*WorkflowVersion, error)
	// GetWorkflow returns a workflow's state; a missing or deleted one
	// gives ErrNotFound.
	GetWorkflow(ctx context.Context, workflowID string) (*Workflow, error)
	// ListWorkflows returns the workflows that are not deleted, by id,
	// with their newest run and their run counts by status.
	ListWorkflows(ctx context.Context, f WorkflowFilter) ([]*WorkflowSummary, error)
	// ListWorkflowVersions returns every version of a workflow, newest
	// first, without their definitions. A missing or deleted workflow
	// gives ErrNotFound.
	ListWorkflowVersions(ctx context.Context, workflowID string) ([]*WorkflowVersion, error)
	// SetWorkflowEnabled enables or disables a workflow (updated at now)
	// and returns it; a missing or deleted one gives ErrNotFound.
	SetWorkflowEnabled(ctx context.Context, workflowID string, enabled bool, now time.Time) (*Workflow, error)
	// DeleteWorkflow deletes a workflow softly: it is disabled and no
	// longer found or listed, while its runs and versions stay (runs go on,
	// and stay listed). A missing or already deleted one gives ErrNotFound.
	DeleteWorkflow(ctx context.Context, workflowID string, now time.Time) error

	// CreateRun inserts a run as given (with any step runs it already
	// carries) in one transaction: normally queued; a run created with
	// status running, a LeaseOwner and a LeaseUntil is created already
	// claimed by that owner (an engine starting a run it will execute
	// itself). A run whose id exists gives ErrConflict.
	CreateRun(ctx context.Context, run *workflow.Run) error
	// GetRun returns a run with all its step runs.
	GetRun(ctx context.Context, id string) (*workflow.Run, error)
	// ListRuns returns runs newest first, without their step runs.
	ListRuns(ctx context.Context, f RunFilter) ([]*workflow.Run, error)
	// CountRuns counts the runs in a status (the queue's depth: queued).
	CountRuns(ctx context.Context, status workflow.RunStatus) (int, error)

	// ClaimRuns leases up to limit runs that are due to owner until
	// now+lease and returns them with their step runs, marked running. Due
	// runs are: queued; waiting with WakeAt <= now; running (or waiting)
	// whose lease expired before now (their worker died). Oldest first.
	ClaimRuns(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*workflow.Run, error)
	// ClaimRun leases one run by id if it is due (as in ClaimRuns); a run
	// that is not due, or is leased by another owner, gives ErrConflict.
	ClaimRun(ctx context.Context, id, owner string, now time.Time, lease time.Duration) (*workflow.Run, error)
	// ExtendLeases pushes the leases owner holds on runs to until. It
	// returns the ids among them whose cancel was requested, and the ids
	// whose lease owner no longer holds.
	ExtendLeases(ctx context.Context, owner string, runIDs []string, until time.Time) (cancelRequested, lost []string, err error)
	// Apply writes u atomically if owner still holds the run's lease, else
	// returns ErrLeaseLost and writes nothing.
	Apply(ctx context.Context, owner string, u Update) error

	// RequestCancel cancels a run. A run no worker holds (queued, waiting)
	// is cancelled at once; a leased run gets CancelRequested for its worker
	// to act on. A finished run gives ErrConflict. It returns the run as
	// it is after the change (without step runs).
	RequestCancel(ctx context.Context, id string, now time.Time) (*workflow.Run, error)
	// ResetForRetry re-queues a failed run: the step runs with the given keys
	// are deleted (they run afresh; every other step run keeps its status
	// and output), the error and finish time are cleared, the start time
	// becomes now (a run's timeout counts from its retry), the status
	// becomes queued. A run that is not failed gives ErrConflict.
	ResetForRetry(ctx context.Context, id string, resetKeys []string, now time.Time) (*workflow.Run, error)

	// CreateConnection inserts c with a fresh starting revision (set on
	// c): positive, and greater than any revision a connection of the same
	// user and name had before (one deleted and created again never
	// reuses a revision). A connection of the same user and name gives
	// ErrConflict.
	CreateConnection(ctx context.Context, c *Connection) error
	// GetConnection returns one connection, or ErrNotFound.
	GetConnection(ctx context.Context, userID, name string) (*Connection, error)
	// ListConnections returns the user's connections ordered by name.
	ListConnections(ctx context.Context, userID string) ([]*Connection, error)
	// ListAllConnections returns every user's connections (the
	// workspace's included), ordered by user id, then name.
	ListAllConnections(ctx context.Context) ([]*Connection, error)
	// UpdateConnection replaces every field of the stored connection (but
	// CreatedAt) if its revision is still c.Revision, and sets c.Revision to
	// the new one (c.Revision + 1). A changed revision gives ErrConflict and writes nothing;
	// a missing connection gives ErrNotFound.
	UpdateConnection(ctx context.Context, c *Connection) error
	// DeleteConnection removes a connection, or gives ErrNotFound.
	DeleteConnection(ctx context.Context, userID, name string) error
	// SaveOAuthState stores a pending authorization; an existing ID gives
	// ErrConflict.
	SaveOAuthState(ctx context.Context, s *OAuthState) error
	// TakeOAuthState deletes and returns the state with that ID, so it can
	// be used once. A missing state, or one expired at now (which is
	// deleted too), gives ErrNotFound.
	TakeOAuthState(ctx context.Context, id string, now time.Time) (*OAuthState, error)

	// CreateToken inserts an API token; a duplicate id or hash gives
	// ErrConflict.
	CreateToken(ctx context.Context, t *Token) error
	// GetTokenByHash returns the token with that hash, revoked or not
	// (RevokedAt tells), or ErrNotFound.
	GetTokenByHash(ctx context.Context, hash string) (*Token, error)
	// ListTokens returns every token, revoked ones included, newest first.
	ListTokens(ctx context.Context) ([]*Token, error)
	// RevokeToken revokes a token at now; a token revoked already keeps its
	// first revocation time. A missing token gives ErrNotFound.
	RevokeToken(ctx context.Context, id string, now time.Time) error
	// TouchToken records that the token was used at now (last_used_at
	// never moves back). A missing token gives ErrNotFound.
	TouchToken(ctx context.Context, id string, now time.Time) error

	// InsertEvent puts an event in the inbox (pending, unless e.Status is
	// set) and returns it with inserted true. When an event with the same
	// source, user, connection and non-empty DedupeKey is there already it
	// writes nothing and returns that first event with inserted false. A
	// duplicate id gives ErrConflict.
	InsertEvent(ctx context.Context, e *Event) (ev *Event, inserted bool, err error)
	// GetEvent returns one event, or ErrNotFound.
	GetEvent(ctx context.Context, id string) (*Event, error)
	// ListEvents returns events newest first.
	ListEvents(ctx context.Context, f EventFilter) ([]*Event, error)
	// FinishEvent records how an event was routed (see EventResult); a
	// missing event gives ErrNotFound.
	FinishEvent(ctx context.Context, id string, r EventResult) error
	// ListPendingEvents returns up to limit events still pending that were
	// received before receivedBefore, oldest first: what a restarted
	// server must still route.
	ListPendingEvents(ctx context.Context, receivedBefore time.Time, limit int) ([]*Event, error)

	// Ping makes a cheap read, to tell that the store answers.
	Ping(ctx context.Context) error

	// Recovery (retries of every kind, the cancel watch) and Redaction
	// (the inbox side of redact_pii) are part of every store.
	Recovery
	Redaction

	// Close releases the store's resources.
	Close() error

	// ---- Trigger state (schedules' next fire times, polls' cursors) ----

	// GetTriggerState returns the state of one trigger, or ErrNotFound
	// when it has none yet.
	GetTriggerState(ctx context.Context, workflowID, kind, key string) (*TriggerState, error)
	// PutTriggerState writes s if its version is still s.Version: 0 inserts
	// a new state (ErrConflict when one exists), any other value updates the
	// state read with that version (ErrConflict when it changed since, or
	// is gone). On success s.Version is the new version. This fences two
	// servers: only one advances a cursor from a given reading.
	PutTriggerState(ctx context.Context, s *TriggerState) error

	// ---- Run data retention and redaction ----

	// ListPrunableVersions returns the distinct workflow versions (of
	// workflows deleted or not) that have runs finished (succeeded, failed
	// or cancelled) before before, ordered by workflow id then version,
	// without their names and definitions.
	ListPrunableVersions(ctx context.Context, before time.Time) ([]*WorkflowVersion, error)
	// DeleteFinishedRuns deletes, in one transaction, up to limit runs of
	// the workflow version that finished before before, oldest first, with
	// their step runs, and returns how many of each it deleted. A queued,
	// running or waiting run is never deleted.
	DeleteFinishedRuns(ctx context.Context, workflowID string, version int, before time.Time, limit int) (runs, steps int, err error)
	// DeleteOldEvents deletes, in one transaction, up to limit inbox
	// events received before before that are no longer pending (routed,
	// unmatched or failed), oldest first, and returns how many it deleted.
	DeleteOldEvents(ctx context.Context, before time.Time, limit int) (int, error)
	// ReclaimSpace gives the space of deleted rows back to the file system
	// where the database does not do so itself (SQLite); it may take a
	// while on a large database, and is a no-op elsewhere.
	ReclaimSpace(ctx context.Context) error
	// RedactRun replaces, in one transaction, a finished run's trigger data
	// (when trigger is not nil) and the input and output of the given step
	// runs (matched by key; their other fields are left alone). A run that
	// is not finished gives ErrConflict, a missing one ErrNotFound.
	RedactRun(ctx context.Context, id string, trigger json.RawMessage, steps []*workflow.StepRun) error

	// ---- Concurrency limits ----

	// CreateLimitedRun is CreateRun for a run of a workflow with a
	// concurrency limit: the run joins the group of its workflow and
	// lim.Key, and is stored with them so that claims respect the limit
	// (see Concurrency). In the same transaction it counts the runs ahead
	// of it in the group (active ones, and queued ones created before it);
	// when they reach lim.Limit, a run asked to be created running (an
	// engine's immediate claim) is stored queued instead, and a queued run
	// gets ConcurrencyWaitReason as its WaitReason. run is updated to what
	// was stored (status, lease, start time, wait reason).
	CreateLimitedRun(ctx context.Context, run *workflow.Run, lim Concurrency) error
}

// Concurrency places a run under its workflow's concurrency limit. The
// runs of one workflow with one Key form a group; at most Limit of them
// are active at once, where active means running, or waiting (parked by a
// delay, a back-off or a throttle) after having started. A queued run of a
// group is claimed (by ClaimRuns, ClaimRun or an engine's immediate claim
// in CreateLimitedRun) only when the active runs of its group and its
// queued runs created before it are fewer than Limit: queued runs take
// their turn in creation order. A run re-claimed after parking or after
// its worker died is active already and not held back. Runs created by
// CreateRun have no limit.
type Concurrency struct {
	// Key is the rendered concurrency key ("" when the workflow has none).
	Key string
	// Limit is the workflow version's concurrency limit (at least 1).
	Limit int
}

// ConcurrencyWaitReason is the WaitReason of a queued run held back by its
// workflow's concurrency limit, with ahead the number of runs of its group
// that were active or queued before it.
func ConcurrencyWaitReason(ahead int, key string) string {
	s := fmt.Sprintf("concurrency: waiting for %d earlier run(s) of this workflow", ahead)
	if key != "" {
		s += " with key " + key
	}
	return s
}

// The kinds of TriggerState.
const (
	TriggerStateSchedule = "schedule"
	TriggerStatePoll     = "poll"
)

// TriggerState is what a trigger keeps between its firings: a schedule's
// next fire time, or a poll's cursor into Lever's changes.
type TriggerState struct {
	// WorkflowID is the schedule's workflow; "" for a poll, whose cursor
	// is shared by every workflow of its connection and trigger type.
	WorkflowID string
	// Kind is TriggerStateSchedule or TriggerStatePoll.
	Kind string
	// Key tells a kind's states apart: "" for a schedule, the user,
	// connection and trigger type for a poll.
	Key string
	// Cursor is a schedule's next fire time, or a poll's cursor (the
	// inclusive start of the next read); zero when unset.
	Cursor time.Time
	// Data is the trigger's own JSON (the ids seen at a poll cursor's
	// instant, a schedule's queued slots).
	Data json.RawMessage
	// Version fences writes (see PutTriggerState); 0 for a state not yet
	// stored.
	Version   int64
	UpdatedAt time.Time
}

// ---- Recovery: retrying runs and watching for cancels ----
//
// Recovery is kept apart from Store so that the engine's recovery controls
// (retry options, bulk retry, the cancel watch) can grow without touching
// the core contract; gormstore implements both, and the engine uses
// Recovery when its store has it (see engine.RetryRunWith and
// engine.Options.CancelPoll).

// RetryReset says how Recovery.ResetRun re-queues a run.
type RetryReset struct {
	// ResetKeys are the step runs deleted: they run afresh, while every
	// other step run keeps its status and output.
	ResetKeys []string
	// ResetAll deletes every step run: the run starts over.
	ResetAll bool
	// Version, when not 0, becomes the run's workflow version (a retry on
	// the latest version).
	Version int
	// FinishedAt, when not zero, fences the reset: the run must still be
	// the one that finished at that instant (the state ResetKeys were
	// computed from), else ErrConflict, so two retries racing on one run
	// cannot both re-queue it.
	FinishedAt time.Time
	// Now is the retry's time: the run's new start time.
	Now time.Time

	// ---- Concurrency of the retried run ----

	// Concurrency, when not nil, replaces the run's concurrency group: the
	// key rendered and the limit of the version the retry runs on (a zero
	// Limit: that version has no concurrency limit). A retry on the latest
	// version so falls under a limit that version added. Nil keeps the
	// run's group as it was.
	Concurrency *Concurrency
}

// Recovery is what the engine's recovery controls need of a store beyond
// Store.
type Recovery interface {
	// ResetRun re-queues a failed or cancelled run as r says: step runs
	// deleted, the error, finish and wake times, the lease and any cancel
	// request cleared, the start time set to r.Now, the status queued and,
	// when r.Version is set, the version changed, all in one transaction.
	// A run in another status (or not finished at r.FinishedAt) gives
	// ErrConflict, a missing one ErrNotFound.
	ResetRun(ctx context.Context, id string, r RetryReset) (*workflow.Run, error)
	// CancelRequests returns the ids among runIDs that owner holds and
	// whose cancel was requested. It only reads (by primary key), so an
	// engine can ask it a few times a second.
	CancelRequests(ctx context.Context, owner string, runIDs []string) ([]string, error)
}

// ---- Redaction at the end of a run (redact_pii) ----

// Redaction is what the engine needs of a store to redact a run of a
// workflow that redacts PII (redact_pii) without a window in which its data
// stays in clear; gormstore implements it, and the engine uses it when its
// store has it.
type Redaction interface {
	// RedactEventPayload replaces the payload of an inbox event by payload
	// (its redaction); a missing event gives ErrNotFound. A replay of the
	// event then routes the redacted payload: what was redacted is gone.
	RedactEventPayload(ctx context.Context, eventID string, payload json.RawMessage) error
}
