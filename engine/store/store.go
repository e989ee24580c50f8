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
	"time"

	"github.com/leverflow/leverflow/engine/workflow"
)

// Sentinel errors callers branch on.
var (
	// ErrNotFound: no such workflow, version or run.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the record is not in a state that allows the change
	// (cancelling a finished run, retrying a run that did not fail).
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

// RunFilter selects runs for ListRuns. Zero fields do not filter.
type RunFilter struct {
	WorkflowID string
	Status     workflow.RunStatus
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

// Store persists workflows and runs. Implementations are safe for
// concurrent use.
type Store interface {
	// SaveWorkflow stores a new version of the workflow (version 1 for a new
	// id) and returns it.
	SaveWorkflow(ctx context.Context, workflowID, name string, definition json.RawMessage, now time.Time) (*WorkflowVersion, error)
	// GetWorkflowVersion returns one version; version 0 means the latest.
	GetWorkflowVersion(ctx context.Context, workflowID string, version int) (*WorkflowVersion, error)

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

	// Close releases the store's resources.
	Close() error
}
