package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// Errors of the event inbox, besides those of the webhook checks
// (ErrMalformed, ErrTooLarge, ErrBadSignature, ErrStale). Test them with
// errors.Is.
var (
	// ErrUnknownConnection: the connection named in the webhook URL does not
	// exist for the user, or has no webhook registered. Answer 404.
	ErrUnknownConnection = errors.New("unknown connection")
	// ErrPending: the event was never routed yet, so it cannot be replayed;
	// Route it (or let the sweep do it).
	ErrPending = errors.New("event not routed yet")
	// ErrUnsupportedEvent: the inbox event did not come from Lever (a
	// webhook or a poll); this receiver routes only those.
	ErrUnsupportedEvent = errors.New("not a Lever webhook event")
)

// The reasons Metrics.WebhookRejected is given.
const (
	RejectTooLarge          = "too_large"
	RejectMalformed         = "malformed"
	RejectUnknownConnection = "unknown_connection"
	RejectBadSignature      = "bad_signature"
	RejectStale             = "stale"
	// RejectError: the delivery could not be checked or stored (the
	// secrets or the store failed); Lever retries it.
	RejectError = "error"
)

// Defaults of ReceiverConfig.
const (
	DefaultRouteDelay    = 5 * time.Second
	DefaultSweepInterval = 2 * time.Second
	// MaxRouteAttempts is how many times a Lever event whose runs could not
	// all be started is tried before it is marked failed (see Route).
	MaxRouteAttempts = 5
)

const (
	// routeQueue bounds the events waiting for a router goroutine; when it
	// is full the sweep routes the rest.
	routeQueue = 1024
	// routeWorkers is how many goroutines route queued events.
	routeWorkers = 4
	// pageSize is the page of workflows and events read at a time.
	pageSize = 100
)

// Engine is what the receiver needs of the engine; *engine.Engine
// satisfies it.
type Engine interface {
	ListWorkflows(ctx context.Context, f store.WorkflowFilter) ([]*store.WorkflowSummary, error)
	StartRun(ctx context.Context, req engine.StartRequest) (*workflow.Run, error)
}

// The engine and its store are what the server passes.
var (
	_ Engine     = (*engine.Engine)(nil)
	_ EventStore = store.Store(nil)
)

// EventStore is the inbox part of the engine's store; store.Store
// satisfies it.
type EventStore interface {
	InsertEvent(ctx context.Context, e *store.Event) (*store.Event, bool, error)
	FinishEvent(ctx context.Context, id string, r store.EventResult) error
	GetEvent(ctx context.Context, id string) (*store.Event, error)
	ListEvents(ctx context.Context, f store.EventFilter) ([]*store.Event, error)
	ListPendingEvents(ctx context.Context, receivedBefore time.Time, limit int) ([]*store.Event, error)
}

// WebhookSecrets gives a connection's webhook signature tokens, by Lever
// event name; *connections.Manager satisfies it. An unknown connection
// returns an error matching ReceiverConfig.NotFound (or
// ErrUnknownConnection).
type WebhookSecrets interface {
	WebhookSecrets(ctx context.Context, userID, name string) (map[string]string, error)
}

// Metrics counts deliveries (for Prometheus). Methods must be fast and
// safe for concurrent use. The connection label is "" until the
// connection is known to exist, so that made-up names in URLs cannot grow
// the label set.
type Metrics interface {
	WebhookAccepted(connection string)
	WebhookDuplicate(connection string)
	WebhookRejected(connection, reason string)
}

// ReceiverConfig configures a Receiver. Store, Engine and Secrets are
// required.
type ReceiverConfig struct {
	Store   EventStore
	Engine  Engine
	Secrets WebhookSecrets
	// NotFound is the error Secrets wraps for an unknown connection (the
	// server passes connections.ErrNotFound); such an error, one wrapping
	// ErrUnknownConnection and an empty map all mean an unknown connection.
	NotFound error
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// Metrics, when set, counts deliveries.
	Metrics Metrics
	// MaxAge and MaxSkew are the freshness windows into the past and the
	// future (defaults DefaultMaxAge and DefaultMaxSkew).
	MaxAge, MaxSkew time.Duration
	// RouteDelay is how old a pending event must be before the sweep
	// routes it (default 5s): younger ones are still on their way through
	// the router queue.
	RouteDelay time.Duration
	// SweepInterval is how often the sweep runs (default 2s).
	SweepInterval time.Duration
}

// Receiver is the Lever event inbox: it checks and stores webhook
// deliveries (ReceiveLever), routes them to runs of the matching enabled
// workflows (a router fed by a bounded queue, and a sweep of what is left
// pending), and routes them again on demand (Replay). It is safe for
// concurrent use.
type Receiver struct {
	cfg   ReceiverConfig
	log   *slog.Logger
	queue chan string
	locks keyedLocks

	mu      sync.Mutex
	started bool
	stopped bool
	stop    chan struct{}
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

// NewReceiver checks cfg, fills in its defaults and returns a receiver
// whose router is not started (Start). Deliveries received before Start
// are stored and wait for it.
func NewReceiver(cfg ReceiverConfig) (*Receiver, error) {
	if cfg.Store == nil || cfg.Engine == nil || cfg.Secrets == nil {
		return nil, errors.New("triggers: ReceiverConfig.Store, Engine and Secrets are required")
	}
	clockAndLog(&cfg.Now, &cfg.Logger)
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = DefaultMaxSkew
	}
	if cfg.RouteDelay <= 0 {
		cfg.RouteDelay = DefaultRouteDelay
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	return &Receiver{
		cfg:   cfg,
		log:   cfg.Logger,
		queue: make(chan string, routeQueue),
		locks: keyedLocks{m: map[string]*keyedLock{}},
		stop:  make(chan struct{}),
	}, nil
}

// Receipt is the answer to an accepted delivery.
type Receipt struct {
	// EventID is the inbox event: the new one, or for a duplicate the
	// first one.
	EventID string
	// Duplicate is true when the delivery was received before (a retry or
	// a rerun by Lever): nothing new was stored or started.
	Duplicate bool
}

// ReceiveLever takes one Lever webhook delivery for the user's connection
// and returns once it is committed to the inbox; the runs are started
// afterwards by the router. In order:
//
//  1. ParseLeverWebhook (ErrTooLarge: 413; ErrMalformed: 400);
//  2. the connection's webhook secrets (ErrUnknownConnection: 404);
//  3. VerifyLeverSignature with the token registered for the event
//     (ErrBadSignature: 401; nothing is stored);
//  4. freshness within MaxAge/MaxSkew (ErrStale: 401 as well: the
//     delivery is not authentic as of now, and Lever gives up after its
//     retries);
//  5. InsertEvent, deduplicated on the delivery's token: a duplicate
//     returns the first event's id with Duplicate set and starts nothing
//     (answer 200 so Lever stops retrying).
//
// Any other error (the secrets or the store failing) is a 500: nothing was
// stored and Lever retries. HTTPStatus maps every error to its status.
func (r *Receiver) ReceiveLever(ctx context.Context, userID, connection string, body []byte) (*Receipt, error) {
	ev, err := ParseLeverWebhook(body)
	if err != nil {
		reason := RejectMalformed
		if errors.Is(err, ErrTooLarge) {
			reason = RejectTooLarge
		}
		r.reject(ctx, userID, connection, reason, err)
		return nil, fmt.Errorf("receiving a webhook for connection %q: %w", connection, err)
	}
	secrets, err := r.secrets(ctx, userID, connection)
	if err != nil {
		reason := RejectError
		if errors.Is(err, ErrUnknownConnection) {
			reason = RejectUnknownConnection
		}
		r.rejectLabel("", connection, userID, reason, err)
		return nil, fmt.Errorf("receiving a webhook for connection %q: %w", connection, err)
	}
	if err := VerifyLeverSignature(ev, secrets[ev.Event]); err != nil {
		r.rejectLabel(connection, connection, userID, RejectBadSignature, err)
		return nil, fmt.Errorf("receiving a %s webhook for connection %q: %w", ev.Event, connection, err)
	}
	now := r.cfg.Now().UTC()
	key := ev.DedupeKey()
	if key == "" {
		key = ev.ID
	}
	if err := r.fresh(ev, now); err != nil {
		// A late retry of a delivery we already stored (our 200 was lost)
		// is still a duplicate, not an error: Lever should stop retrying.
		if first := r.stored(ctx, userID, connection, key); first != nil {
			if r.cfg.Metrics != nil {
				r.cfg.Metrics.WebhookDuplicate(connection)
			}
			r.log.Info("late retry of a stored Lever webhook", "event_id", first.ID, "connection", connection, "user_id", userID, "event", ev.Event)
			return &Receipt{EventID: first.ID, Duplicate: true}, nil
		}
		r.rejectLabel(connection, connection, userID, RejectStale, err)
		return nil, fmt.Errorf("receiving a %s webhook for connection %q: %w", ev.Event, connection, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("receiving a %s webhook for connection %q: making an event id: %w", ev.Event, connection, err)
	}
	got, inserted, err := r.cfg.Store.InsertEvent(ctx, &store.Event{
		ID:         id.String(),
		Source:     store.EventSourceLever,
		Connection: connection,
		UserID:     userID,
		Type:       ev.Event,
		DedupeKey:  key,
		Payload:    ev.Raw,
		ReceivedAt: now,
		Status:     store.EventPending,
	})
	if err != nil {
		r.rejectLabel(connection, connection, userID, RejectError, err)
		return nil, fmt.Errorf("receiving a %s webhook for connection %q: %w", ev.Event, connection, err)
	}
	log := r.log.With("event_id", got.ID, "connection", connection, "user_id", userID, "event", ev.Event)
	if !inserted {
		if r.cfg.Metrics != nil {
			r.cfg.Metrics.WebhookDuplicate(connection)
		}
		log.Info("duplicate Lever webhook ignored", "status", got.Status)
		if got.Status == store.EventPending {
			r.enqueue(got.ID) // the first delivery may still wait for routing
		}
		return &Receipt{EventID: got.ID, Duplicate: true}, nil
	}
	if r.cfg.Metrics != nil {
		r.cfg.Metrics.WebhookAccepted(connection)
	}
	log.Info("Lever webhook received")
	r.enqueue(got.ID)
	return &Receipt{EventID: got.ID}, nil
}

// PolledDedupeKey is the inbox dedupe key of a polled event: the event
// name, the object's id and its version (updatedAt, or createdAt for a
// created event), so the same version of an object found by two polls is
// kept once, and each new version is a new event.
func PolledDedupeKey(eventName, id string, version int64) string {
	return fmt.Sprintf("%s/%s/%d", eventName, id, version)
}

// ReceivePolled puts one object the poller found in the inbox as a polled
// event (source "poll") of the user's connection, deduplicated on
// PolledDedupeKey(eventName, id, updatedAt), with the object as its
// payload, and hands it to the router like a webhook delivery. A duplicate
// returns the first event with Duplicate set and stores nothing.
func (r *Receiver) ReceivePolled(ctx context.Context, userID, connection, eventName, id string, updatedAt int64, object json.RawMessage) (*Receipt, error) {
	if eventName == "" || id == "" || !json.Valid(object) {
		return nil, fmt.Errorf("receiving a polled %s for connection %q: %w: an event name, an id and a JSON object are required", eventName, connection, ErrMalformed)
	}
	evID, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("receiving a polled %s for connection %q: making an event id: %w", eventName, connection, err)
	}
	got, inserted, err := r.cfg.Store.InsertEvent(ctx, &store.Event{
		ID:         evID.String(),
		Source:     store.EventSourcePoll,
		Connection: connection,
		UserID:     userID,
		Type:       eventName,
		DedupeKey:  PolledDedupeKey(eventName, id, updatedAt),
		Payload:    object,
		ReceivedAt: r.cfg.Now().UTC(),
		Status:     store.EventPending,
	})
	if err != nil {
		return nil, fmt.Errorf("receiving a polled %s for connection %q: %w", eventName, connection, err)
	}
	log := r.log.With("event_id", got.ID, "connection", connection, "user_id", userID, "event", eventName, "object_id", id)
	if !inserted {
		log.Debug("polled Lever change seen already")
		if got.Status == store.EventPending {
			r.enqueue(got.ID)
		}
		return &Receipt{EventID: got.ID, Duplicate: true}, nil
	}
	log.Info("polled Lever change received")
	r.enqueue(got.ID)
	return &Receipt{EventID: got.ID}, nil
}

// secrets returns the connection's signature tokens, or an error wrapping
// ErrUnknownConnection.
func (r *Receiver) secrets(ctx context.Context, userID, connection string) (map[string]string, error) {
	m, err := r.cfg.Secrets.WebhookSecrets(ctx, userID, connection)
	switch {
	case err != nil && (errors.Is(err, ErrUnknownConnection) || (r.cfg.NotFound != nil && errors.Is(err, r.cfg.NotFound))):
		return nil, fmt.Errorf("%w %q: %v", ErrUnknownConnection, connection, err)
	case err != nil:
		return nil, fmt.Errorf("looking up the webhook secrets of connection %q: %w", connection, err)
	case len(m) == 0:
		return nil, fmt.Errorf("%w %q: it has no Lever webhook registered", ErrUnknownConnection, connection)
	}
	return m, nil
}

// fresh checks ev's time against now with the configured windows.
func (r *Receiver) fresh(ev *LeverEvent, now time.Time) error {
	if now.Sub(ev.Time()) >= 0 {
		return CheckFreshness(ev, now, r.cfg.MaxAge)
	}
	return CheckFreshness(ev, now, r.cfg.MaxSkew)
}

// reject counts and logs a delivery refused before its connection was
// looked up: the metrics label is the connection only if it exists.
func (r *Receiver) reject(ctx context.Context, userID, connection, reason string, err error) {
	label := ""
	if r.cfg.Metrics != nil {
		if _, serr := r.secrets(ctx, userID, connection); serr == nil {
			label = connection
		}
	}
	r.rejectLabel(label, connection, userID, reason, err)
}

func (r *Receiver) rejectLabel(label, connection, userID, reason string, err error) {
	if r.cfg.Metrics != nil {
		r.cfg.Metrics.WebhookRejected(label, reason)
	}
	level := slog.LevelWarn
	if reason == RejectError {
		level = slog.LevelError
	}
	// The error texts name fields and times, never the signature or the
	// tokens.
	r.log.Log(context.Background(), level, "Lever webhook refused",
		"connection", connection, "user_id", userID, "reason", reason, "error", err)
}

// enqueue hands an event to the router without blocking; when the queue
// is full the sweep routes it later.
func (r *Receiver) enqueue(id string) {
	select {
	case r.queue <- id:
	default:
		r.log.Debug("router queue full; the sweep will route the event", "event_id", id)
	}
}

// HTTPStatus is the HTTP status answering a delivery that ReceiveLever
// returned err for: 200 for nil (a duplicate too), 413 ErrTooLarge, 400
// ErrMalformed, 404 ErrUnknownConnection, 401 ErrBadSignature and
// ErrStale, 500 otherwise (Lever retries).
func HTTPStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnknownConnection):
		return http.StatusNotFound
	case errors.Is(err, ErrBadSignature), errors.Is(err, ErrStale):
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// stored returns the inbox's event of that delivery key, or nil when there
// is none (or the lookup failed: then the delivery is refused as stale,
// and Lever's next retry asks again).
func (r *Receiver) stored(ctx context.Context, userID, connection, key string) *store.Event {
	if key == "" {
		return nil
	}
	evs, err := r.cfg.Store.ListEvents(ctx, store.EventFilter{Source: store.EventSourceLever, Connection: connection,
		UserID: userID, DedupeKey: key, Limit: 1})
	if err != nil || len(evs) == 0 {
		return nil
	}
	return evs[0]
}

// clockAndLog fills in the clock (time.Now) and the logger (discarding)
// that a component's config left out.
func clockAndLog(now *func() time.Time, log **slog.Logger) {
	if *now == nil {
		*now = time.Now
	}
	if *log == nil {
		*log = slog.New(slog.DiscardHandler)
	}
}
