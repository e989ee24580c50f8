package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps/lever/client"
)

// PolledOpportunityUpdated is the `trigger.event` of a polled change to a
// sourced lead (an opportunity without an application) for
// lever.candidate_updated. Like the other polled names it is Leverflow's,
// not Lever's.
const PolledOpportunityUpdated = "opportunityUpdated"

// Defaults of PollerConfig.
const (
	DefaultPollTick     = time.Second
	DefaultPollPageSize = 100
	// DefaultPollMaxPages bounds the pages one poll reads per connection
	// and trigger type; a longer list goes on at the next poll.
	DefaultPollMaxPages = 10
)

// LeverClients gives the Lever client of a user's connection;
// *connections.Manager satisfies it.
type LeverClients interface {
	Client(ctx context.Context, userID, name string) (*client.Client, error)
}

// PollEngine is what the poller needs of the engine; *engine.Engine
// satisfies it.
type PollEngine interface {
	ListWorkflows(ctx context.Context, f store.WorkflowFilter) ([]*store.WorkflowSummary, error)
}

// PolledReceiver takes polled events into the inbox; *Receiver satisfies
// it.
type PolledReceiver interface {
	ReceivePolled(ctx context.Context, userID, connection, eventName, id string, updatedAt int64, object json.RawMessage) (*Receipt, error)
}

var (
	_ PollEngine     = (*engine.Engine)(nil)
	_ PolledReceiver = (*Receiver)(nil)
)

// PollerConfig configures a Poller. Store, Receiver, Clients and Engine
// are required.
type PollerConfig struct {
	Store    ScheduleStore
	Receiver PolledReceiver
	Clients  LeverClients
	Engine   PollEngine
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// Tick is how often Start's loop calls Poll (default 1s); each
	// connection and trigger type is polled only every poll_interval.
	Tick time.Duration
	// PageSize is the Lever page size (default 100); MaxPages bounds the
	// pages read per poll (default 10).
	PageSize, MaxPages int
}

// Poller finds in Lever what Lever has no webhook for (postings created
// or changed, sourced leads created or changed) and puts each change in
// the event inbox as a polled event, routed like a webhook.
//
// It polls once per user, connection and polled trigger type that an
// enabled workflow names, every poll_interval (the smallest among those
// workflows; default 1m). Its cursor (the inclusive start of the next
// read, Lever's updatedAt, or createdAt for lever.candidate_created) is in
// the store with the (id, time) pairs already delivered at or after it:
//
//   - a new trigger starts at now: nothing older is delivered;
//   - each poll lists from the cursor, inclusive, through every page (up
//     to MaxPages; the pass goes on at the next poll from the page token
//     it stored), skips the pairs already delivered and delivers the
//     rest with ReceivePolled;
//   - when the pass ends, the cursor moves to the latest time seen (but
//     not past the pass's start on our clock, so a change made while
//     the pass paged is not skipped), keeping the pairs at or after it;
//   - a Lever error (429, 5xx, ...) or a failed delivery stops the pass
//     and records nothing: the next poll reads the same again.
//
// Reading again is harmless: the inbox deduplicates on
// PolledDedupeKey(event, id, time), so a change is one event even when two
// polls (or two servers) find it. A restart resumes from the stored
// cursor: what changed while the server was down is delivered once.
//
// Classification: a posting (or lead) created at or after the cursor is
// "created" (for the created triggers); a change with updatedAt after its
// createdAt is "updated" (for the updated triggers), whenever the object
// was created: an object created after the cursor and edited before the
// next pass gives its update too. lever.candidate_created and
// lever.candidate_updated poll only opportunities with no application:
// Lever's applicationCreated and candidate webhooks already cover the
// others.
type Poller struct {
	cfg PollerConfig
	log *slog.Logger

	mu        sync.Mutex
	next      map[string]time.Time // when each poll is due again
	intervals map[string]time.Duration
	started   bool
	stopped   bool
	stop      chan struct{}
	cancel    context.CancelFunc
	done      sync.WaitGroup
}

// NewPoller checks cfg and returns a poller that is not started.
func NewPoller(cfg PollerConfig) (*Poller, error) {
	if cfg.Store == nil || cfg.Receiver == nil || cfg.Clients == nil || cfg.Engine == nil {
		return nil, errors.New("triggers: PollerConfig.Store, Receiver, Clients and Engine are required")
	}
	clockAndLog(&cfg.Now, &cfg.Logger)
	if cfg.Tick <= 0 {
		cfg.Tick = DefaultPollTick
	}
	if cfg.PageSize <= 0 || cfg.PageSize > 100 {
		cfg.PageSize = DefaultPollPageSize
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = DefaultPollMaxPages
	}
	return &Poller{cfg: cfg, log: cfg.Logger, next: map[string]time.Time{}, intervals: map[string]time.Duration{},
		stop: make(chan struct{})}, nil
}

// Start runs Poll every Tick until Stop or ctx ends; the first poll runs
// at once (catching up what changed while no poller ran).
func (p *Poller) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.stopped:
		return errors.New("triggers: the poller was stopped; make a new one")
	case p.started:
		return errors.New("triggers: the poller is started already")
	}
	p.started = true
	runCtx, cancel := context.WithCancel(ctx)
	p.cancel = cancel
	p.done.Go(func() { loop(runCtx, p.stop, p.cfg.Tick, p.log, "Lever poll", p.Poll) })
	return nil
}

// Stop stops the loop, waiting for a poll in progress unless ctx ends
// first (it is then cancelled and records nothing).
func (p *Poller) Stop(ctx context.Context) error {
	p.mu.Lock()
	if !p.started || p.stopped {
		p.stopped = true
		p.mu.Unlock()
		return nil
	}
	p.stopped = true
	close(p.stop)
	p.mu.Unlock()
	return waitStopped(ctx, &p.done, p.cancel, "the poller")
}

// pollTarget is one user's connection and polled trigger type.
type pollTarget struct {
	userID, connection, triggerType string
	interval                        time.Duration
}

func (t pollTarget) key() string {
	return url.PathEscape(t.userID) + "/" + url.PathEscape(t.connection) + "/" + t.triggerType
}

// Poll polls every connection and trigger type that is due, as of the
// clock's now. Start calls it every Tick; tests call it on a fake clock.
// It goes on past a target that fails and returns the errors joined.
func (p *Poller) Poll(ctx context.Context) error {
	now := p.cfg.Now().UTC()
	targets, err := p.targets(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range targets {
		k := t.key()
		p.mu.Lock()
		due := !now.Before(p.next[k])
		p.mu.Unlock()
		if !due {
			continue
		}
		more, err := p.pollOne(ctx, t, now)
		next := now.Add(t.interval)
		if more && err == nil {
			next = now // a long list: the next page at the next tick
		}
		p.mu.Lock()
		p.next[k] = next
		p.mu.Unlock()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("polling Lever: %w", ctx.Err())
			}
			errs = append(errs, fmt.Errorf("polling %s of connection %q (user %q): %w", t.triggerType, t.connection, t.userID, err))
		}
	}
	return errors.Join(errs...)
}

// targets lists what enabled workflows ask to poll, with the smallest
// interval of each.
func (p *Poller) targets(ctx context.Context) ([]pollTarget, error) {
	enabled := true
	f := store.WorkflowFilter{Enabled: &enabled, TriggerTypes: workflow.PolledTriggerTypes, Limit: pageSize}
	byKey := map[string]*pollTarget{}
	var order []string
	for {
		page, err := p.cfg.Engine.ListWorkflows(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("polling Lever: listing the polled workflows: %w", err)
		}
		for _, w := range page {
			if w.TriggerConnection == "" {
				continue
			}
			interval := p.interval(ctx, w)
			t := pollTarget{userID: w.UserID, connection: w.TriggerConnection, triggerType: w.TriggerType, interval: interval}
			if cur := byKey[t.key()]; cur != nil {
				cur.interval = min(cur.interval, interval)
				continue
			}
			byKey[t.key()] = &t
			order = append(order, t.key())
		}
		if len(page) < pageSize {
			break
		}
		f.After = page[len(page)-1].ID
	}
	out := make([]pollTarget, len(order))
	for i, k := range order {
		out[i] = *byKey[k]
	}
	return out, nil
}

// interval reads a workflow's poll_interval (cached per version).
func (p *Poller) interval(ctx context.Context, w *store.WorkflowSummary) time.Duration {
	key := fmt.Sprintf("%s@%d", w.ID, w.LatestVersion)
	p.mu.Lock()
	d, ok := p.intervals[key]
	p.mu.Unlock()
	if ok {
		return d
	}
	d = workflow.DefaultPollInterval
	v, err := p.cfg.Store.GetWorkflowVersion(ctx, w.ID, w.LatestVersion)
	if err != nil {
		p.log.Warn("reading a polled workflow's interval; using the default", "workflow_id", w.ID, "error", err)
		return d
	}
	var doc struct {
		Trigger workflow.Trigger `json:"trigger"`
	}
	if err := json.Unmarshal(v.Definition, &doc); err == nil {
		if got, err := doc.Trigger.PollInterval.Parse(); err == nil && got > 0 {
			d = max(got, workflow.MinPollInterval)
		}
	}
	p.mu.Lock()
	p.intervals[key] = d
	p.mu.Unlock()
	return d
}

// seenPair is an object delivered at a time (its cursor field).
type seenPair struct {
	ID string `json:"id"`
	At int64  `json:"at"`
}

// pollData is the JSON of a poll's trigger state.
type pollData struct {
	// Seen are the pairs delivered at or after the cursor.
	Seen []seenPair `json:"seen,omitempty"`
	// Offset, when set, is the page token where an unfinished pass goes
	// on; PassStart (ms, our clock), PassMax (the latest time seen) and
	// PassSeen are that pass's so far.
	Offset    string     `json:"offset,omitempty"`
	PassStart int64      `json:"pass_start,omitempty"`
	PassMax   int64      `json:"pass_max,omitempty"`
	PassSeen  []seenPair `json:"pass_seen,omitempty"`
}

// polledKind says how one polled trigger type reads Lever.
type polledKind struct {
	path string
	// byCreated: the cursor runs over createdAt (created_at_start).
	byCreated bool
	// created and updated are the event names of the two classes; "" drops
	// the class.
	created, updated string
	// leadsOnly keeps opportunities without an application.
	leadsOnly bool
}

var polledKinds = map[string]polledKind{
	"lever.posting_created":   {path: "/postings", created: PolledPostingCreated},
	"lever.posting_updated":   {path: "/postings", updated: PolledPostingUpdated},
	"lever.candidate_created": {path: "/opportunities", byCreated: true, created: PolledOpportunityCreated, leadsOnly: true},
	"lever.candidate_updated": {path: "/opportunities", updated: PolledOpportunityUpdated, leadsOnly: true},
}

// polledMeta is what the poller reads of a listed object.
type polledMeta struct {
	ID           string            `json:"id"`
	CreatedAt    client.Millis     `json:"createdAt"`
	UpdatedAt    client.Millis     `json:"updatedAt"`
	Applications []json.RawMessage `json:"applications"`
}

// pollOne runs (part of) one pass for t and reports whether the pass goes
// on at the next poll.
func (p *Poller) pollOne(ctx context.Context, t pollTarget, now time.Time) (more bool, err error) {
	kind, ok := polledKinds[t.triggerType]
	if !ok {
		return false, fmt.Errorf("no poll for trigger type %q", t.triggerType)
	}
	log := p.log.With("connection", t.connection, "user_id", t.userID, "trigger_type", t.triggerType)
	st, err := p.cfg.Store.GetTriggerState(ctx, "", store.TriggerStatePoll, t.key())
	switch {
	case errors.Is(err, store.ErrNotFound):
		// First sight: start at now; nothing older is delivered.
		st = &store.TriggerState{Kind: store.TriggerStatePoll, Key: t.key(), Cursor: now.Truncate(time.Millisecond)}
		log.Info("Lever poll starts", "cursor", st.Cursor)
		return false, p.put(ctx, st, pollData{}, now, log)
	case err != nil:
		return false, err
	}
	var data pollData
	if len(st.Data) > 0 {
		if err := json.Unmarshal(st.Data, &data); err != nil {
			log.Warn("unreadable poll state; reading from the cursor again", "error", err)
			data = pollData{}
		}
	}
	c, err := p.cfg.Clients.Client(ctx, t.userID, t.connection)
	if err != nil {
		return false, fmt.Errorf("the Lever client: %w", err)
	}
	cursor := st.Cursor.UnixMilli()
	if data.Offset == "" {
		data.PassStart, data.PassMax, data.PassSeen = now.UnixMilli(), 0, nil
	}
	seen := map[seenPair]bool{}
	for _, s := range data.Seen {
		seen[s] = true
	}
	delivered := 0
	for range p.cfg.MaxPages {
		q := url.Values{}
		q.Set("confidentiality", client.ConfidentialityAll)
		field := "updated_at_start"
		if kind.byCreated {
			field = "created_at_start"
		}
		q.Set(field, strconv.FormatInt(cursor, 10))
		q.Set("limit", strconv.Itoa(p.cfg.PageSize))
		if data.Offset != "" {
			q.Set("offset", data.Offset)
		}
		page, err := client.FetchPage[json.RawMessage](ctx, c, kind.path, q)
		if err != nil {
			// Nothing of this page is recorded; the next poll reads it
			// again (the inbox drops what was delivered already).
			return false, fmt.Errorf("listing %s since %d: %w", kind.path, cursor, err)
		}
		for _, raw := range page.Data {
			var m polledMeta
			if err := json.Unmarshal(raw, &m); err != nil || m.ID == "" {
				log.Warn("skipping an unreadable Lever object", "error", err)
				continue
			}
			at := int64(m.UpdatedAt)
			if kind.byCreated || at == 0 { // updatedAt is null on old records
				at = int64(m.CreatedAt)
			}
			pair := seenPair{ID: m.ID, At: at}
			data.PassMax = max(data.PassMax, at)
			data.PassSeen = append(data.PassSeen, pair)
			if seen[pair] || at < cursor || kind.leadsOnly && len(m.Applications) > 0 {
				continue
			}
			// Each kind has one class. Created: created at or after the
			// cursor (found again, it is the same event, deduplicated by
			// the inbox). Updated: every change after the creation, even of
			// an object created after the cursor (made while the last pass
			// paged, or by a Lever clock ahead of ours), which a pass never
			// saw changed.
			createdAt := int64(m.CreatedAt)
			var event string
			var version int64
			switch {
			case kind.created != "" && createdAt >= cursor:
				event, version = kind.created, createdAt
			case kind.updated != "" && at > createdAt:
				event, version = kind.updated, at
			default:
				continue
			}
			if _, err := p.cfg.Receiver.ReceivePolled(ctx, t.userID, t.connection, event, m.ID, version, raw); err != nil {
				return false, fmt.Errorf("delivering %s %s: %w", event, m.ID, err)
			}
			delivered++
		}
		data.Offset = page.Next
		if data.Offset == "" {
			break
		}
	}
	if data.Offset != "" {
		log.Info("Lever poll goes on at the next poll", "delivered", delivered)
		return true, p.put(ctx, st, data, now, log)
	}
	// The pass is over: move the cursor.
	next := cursor
	if data.PassMax > 0 {
		next = max(cursor, min(data.PassMax, data.PassStart))
	}
	var keep []seenPair
	for _, s := range slices.Concat(data.Seen, data.PassSeen) {
		if s.At >= next && !slices.Contains(keep, s) {
			keep = append(keep, s)
		}
	}
	st.Cursor = time.UnixMilli(next).UTC()
	if delivered > 0 || next != cursor {
		log.Info("Lever polled", "delivered", delivered, "cursor", st.Cursor)
	}
	return false, p.put(ctx, st, pollData{Seen: keep}, now, log)
}

// put writes a poll's state over the version read.
func (p *Poller) put(ctx context.Context, st *store.TriggerState, data pollData, now time.Time, log *slog.Logger) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encoding the poll state: %w", err)
	}
	st.Data, st.UpdatedAt = raw, now
	if err := p.cfg.Store.PutTriggerState(ctx, st); err != nil {
		if errors.Is(err, store.ErrConflict) {
			// Another poller moved it; what both delivered is deduplicated.
			log.Info("poll state advanced by another poller")
			return nil
		}
		return fmt.Errorf("recording the poll cursor: %w", err)
	}
	return nil
}

// PolledTrigger returns the trigger types a polled event starts and its
// `trigger` data: "event", "triggered_at" (the object's createdAt for a
// created event, else its updatedAt), the object's ids and the object
// itself under "posting" or "opportunity". eventName is the inbox event's
// type and object its payload.
func PolledTrigger(eventName string, object json.RawMessage) ([]string, json.RawMessage, error) {
	var m struct {
		ID        string        `json:"id"`
		CreatedAt client.Millis `json:"createdAt"`
		UpdatedAt client.Millis `json:"updatedAt"`
		Contact   client.Ref    `json:"contact"`
	}
	if err := json.Unmarshal(object, &m); err != nil || m.ID == "" {
		return nil, nil, fmt.Errorf("a polled %s: %w: the object has no id (%v)", eventName, ErrMalformed, err)
	}
	at := m.UpdatedAt
	if at == 0 || eventName == PolledPostingCreated || eventName == PolledOpportunityCreated {
		at = m.CreatedAt
	}
	data := map[string]any{"event": eventName, "triggered_at": formatTriggeredAt(at.Time())}
	var types []string
	switch eventName {
	case PolledPostingCreated, PolledPostingUpdated:
		types = []string{"lever.posting_created"}
		if eventName == PolledPostingUpdated {
			types = []string{"lever.posting_updated"}
		}
		data["postingId"], data["posting"] = m.ID, object
	case PolledOpportunityCreated, PolledOpportunityUpdated:
		types = []string{"lever.candidate_created"}
		if eventName == PolledOpportunityUpdated {
			types = []string{"lever.candidate_updated"}
		}
		data["opportunityId"], data["candidateId"], data["contactId"], data["opportunity"] = m.ID, m.ID, m.Contact.ID, object
	default:
		return nil, nil, fmt.Errorf("a polled %q: %w", eventName, ErrUnsupportedEvent)
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, nil, fmt.Errorf("a polled %s: %w", eventName, err)
	}
	return types, b, nil
}
