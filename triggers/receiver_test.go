package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/catalog"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// testNow is the receiver's clock in these tests unless a test moves it.
var testNow = time.Date(2025, 5, 21, 13, 4, 58, 412e6, time.UTC)

// clock is a settable clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.Set(t)
	return c
}

func (c *clock) Now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// errConnNotFound stands for connections.ErrNotFound.
var errConnNotFound = errors.New("connection not found")

// tokens is a WebhookSecrets over fixed signature tokens: user + "/" +
// connection → Lever event → token.
type tokens struct {
	mu sync.Mutex
	m  map[string]map[string]string
}

func (s *tokens) WebhookSecrets(_ context.Context, userID, name string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[userID+"/"+name]
	if !ok {
		return nil, fmt.Errorf("connection %q: %w", name, errConnNotFound)
	}
	return maps.Clone(m), nil
}

// set registers the signature token of a connection's event.
func (s *tokens) set(userID, name, event, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[userID+"/"+name] == nil {
		s.m[userID+"/"+name] = map[string]string{}
	}
	s.m[userID+"/"+name][event] = token
}

// counts records what the receiver told its Metrics.
type counts struct {
	mu                   sync.Mutex
	accepted, duplicates []string
	rejected             []string // connection + ":" + reason
}

func (c *counts) WebhookAccepted(conn string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.accepted = append(c.accepted, conn)
}

func (c *counts) WebhookDuplicate(conn string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.duplicates = append(c.duplicates, conn)
}

func (c *counts) WebhookRejected(conn, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rejected = append(c.rejected, conn+":"+reason)
}

func (c *counts) snapshot() (accepted, duplicates, rejected []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.accepted), slices.Clone(c.duplicates), slices.Clone(c.rejected)
}

const (
	sigAcme  = "acme-signature-token"
	sigOther = "other-signature-token"
)

// inbox is a real engine on a SQLite file and a receiver in front of it.
type inbox struct {
	t       testing.TB
	ctx     context.Context
	st      *gormstore.Store
	eng     *engine.Engine
	reg     *steps.Registry
	rcv     *Receiver
	clock   *clock
	metrics *counts
	secrets *tokens
}

// newInbox builds the inbox; cfg may change the receiver's config before
// it is made. The receiver is not started.
func newInbox(t testing.TB, cfg func(*ReceiverConfig)) *inbox {
	t.Helper()
	ctx := context.Background()
	st, err := gormstore.Open(ctx, gormstore.Config{DSN: filepath.Join(t.TempDir(), "inbox.db")})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := catalog.New(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Options{Store: st, Steps: reg, PollInterval: 20 * time.Millisecond, Lease: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	in := &inbox{t: t, ctx: ctx, st: st, eng: eng, reg: reg, clock: newClock(testNow), metrics: &counts{}}
	in.secrets = &tokens{m: map[string]map[string]string{
		"/acme": {
			EventCandidateStageChange: sigAcme, EventApplicationCreated: sigAcme, EventInterviewCreated: sigAcme,
			EventCandidateHired: sigAcme,
		},
		"/other": {EventCandidateStageChange: sigOther},
		"/empty": {},
	}}
	c := ReceiverConfig{Store: st, Engine: eng, Secrets: in.secrets, NotFound: errConnNotFound,
		Now: in.clock.Now, Metrics: in.metrics, SweepInterval: time.Hour}
	if cfg != nil {
		cfg(&c)
	}
	in.rcv, err = NewReceiver(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := in.rcv.Stop(sctx); err != nil {
			t.Errorf("stopping the receiver: %v", err)
		}
		if err := eng.Stop(sctx); err != nil {
			t.Errorf("stopping the engine: %v", err)
		}
		st.Close()
	})
	return in
}

func (in *inbox) start() {
	in.t.Helper()
	if err := in.rcv.Start(in.ctx); err != nil {
		in.t.Fatal(err)
	}
}

// workflow saves (and enables, if asked) a one-step workflow on a trigger.
func (in *inbox) workflow(id, triggerType, connection string, enabled bool) {
	in.t.Helper()
	doc := fmt.Sprintf(`{"name": %q, "trigger": {"type": %q, "connection": %q},
		"steps": [{"id": "ids", "type": "transform", "input": {"value": "<<trigger.event>>"}}]}`, id, triggerType, connection)
	wf, probs := workflow.Parse([]byte(doc), workflow.ValidateOptions{Steps: in.reg})
	if len(probs) > 0 {
		in.t.Fatalf("workflow %s: %v", id, probs)
	}
	if _, err := in.eng.CreateWorkflow(in.ctx, id, wf); err != nil {
		in.t.Fatal(err)
	}
	if enabled {
		if _, err := in.eng.EnableWorkflow(in.ctx, id); err != nil {
			in.t.Fatal(err)
		}
	}
}

// runs returns the runs an event started, by workflow id.
func (in *inbox) runs(eventID string) map[string][]*workflow.Run {
	in.t.Helper()
	rs, err := in.st.ListRuns(in.ctx, store.RunFilter{EventID: eventID, Limit: 1000})
	if err != nil {
		in.t.Fatal(err)
	}
	out := map[string][]*workflow.Run{}
	for _, r := range rs {
		out[r.WorkflowID] = append(out[r.WorkflowID], r)
	}
	return out
}

func (in *inbox) event(id string) *store.Event {
	in.t.Helper()
	ev, err := in.st.GetEvent(in.ctx, id)
	if err != nil {
		in.t.Fatal(err)
	}
	return ev
}

// waitRouted waits until the event is no longer pending.
func (in *inbox) waitRouted(id string) *store.Event {
	in.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ev := in.event(id)
		if ev.Status != store.EventPending {
			return ev
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("event %s still pending: %+v", id, ev)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// allEvents lists every event of the inbox.
func (in *inbox) allEvents() []*store.Event {
	in.t.Helper()
	var out []*store.Event
	f := store.EventFilter{Limit: 200}
	for {
		page, err := in.st.ListEvents(in.ctx, f)
		if err != nil {
			in.t.Fatal(err)
		}
		out = append(out, page...)
		if len(page) < f.Limit {
			return out
		}
		f.After = page[len(page)-1].ID
	}
}

// delivery builds a Lever webhook body the way Lever (and the sandbox)
// signs it, with sandbox.Sign rather than this package's code.
func delivery(event, token, signatureToken string, at time.Time, data map[string]any) []byte {
	ms := at.UnixMilli()
	b, err := json.Marshal(sandbox.WebhookBody{ID: "evt-" + token, Event: event, TriggeredAt: ms, Token: token,
		Signature: sandbox.Sign(signatureToken, token, ms), Data: data})
	if err != nil {
		panic(err)
	}
	return b
}

func stageData() map[string]any {
	return map[string]any{"opportunityId": "opp-1", "candidateId": "opp-1", "contactId": "c-1",
		"fromStageId": "s-1", "toStageId": "s-2"}
}

func runIDsOf(m map[string][]*workflow.Run) []string {
	var ids []string
	for _, rs := range m {
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestNewReceiverConfig(t *testing.T) {
	t.Parallel()
	in := newInbox(t, nil)
	tests := []struct {
		name string
		cfg  ReceiverConfig
		ok   bool
	}{
		{"complete", ReceiverConfig{Store: in.st, Engine: in.eng, Secrets: in.secrets}, true},
		{"no store", ReceiverConfig{Engine: in.eng, Secrets: in.secrets}, false},
		{"no engine", ReceiverConfig{Store: in.st, Secrets: in.secrets}, false},
		{"no secrets", ReceiverConfig{Store: in.st, Engine: in.eng}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewReceiver(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("NewReceiver: %v", err)
			}
			if err != nil {
				return
			}
			if r.cfg.RouteDelay != DefaultRouteDelay || r.cfg.SweepInterval != DefaultSweepInterval ||
				r.cfg.MaxAge != DefaultMaxAge || r.cfg.MaxSkew != DefaultMaxSkew {
				t.Errorf("defaults not set: %+v", r.cfg)
			}
			if err := r.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := r.Start(t.Context()); err == nil {
				t.Error("a second Start succeeded")
			}
			if err := r.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := r.Stop(t.Context()); err != nil {
				t.Errorf("a second Stop: %v", err)
			}
			if err := r.Start(t.Context()); err == nil {
				t.Error("Start after Stop succeeded")
			}
		})
	}
}

func TestReceiveLeverRejects(t *testing.T) {
	t.Parallel()
	in := newInbox(t, nil)
	in.workflow("wf-a", "lever.candidate_stage_changed", "acme", true)
	good := func(token string) []byte {
		return delivery(EventCandidateStageChange, token, sigAcme, testNow, stageData())
	}
	tests := []struct {
		name, conn string
		body       []byte
		want       error
		status     int
		metric     string
	}{
		{"signed with another token", "acme", delivery(EventCandidateStageChange, "t1", sigOther, testNow, stageData()),
			ErrBadSignature, 401, "acme:bad_signature"},
		{"no signature", "acme", []byte(`{"event":"candidateStageChange","triggeredAt":1747832698412,"token":"t2","data":{}}`),
			ErrBadSignature, 401, "acme:bad_signature"},
		{"event without a registered webhook", "acme", delivery(EventContactUpdated, "t3", sigAcme, testNow, map[string]any{"contactId": "c"}),
			ErrNoSignatureToken, 401, "acme:bad_signature"},
		{"an hour and a bit old", "acme", delivery(EventCandidateStageChange, "t4", sigAcme, testNow.Add(-DefaultMaxAge-time.Second), stageData()),
			ErrStale, 401, "acme:stale"},
		{"from the future", "acme", delivery(EventCandidateStageChange, "t5", sigAcme, testNow.Add(DefaultMaxSkew+time.Second), stageData()),
			ErrStale, 401, "acme:stale"},
		{"not JSON", "acme", []byte(`event=candidateStageChange`), ErrMalformed, 400, "acme:malformed"},
		{"no event", "acme", []byte(`{"triggeredAt":1747832698412,"token":"t6","signature":"00"}`), ErrMalformed, 400, "acme:malformed"},
		{"malformed on an unknown connection", "ghost", []byte(`[]`), ErrMalformed, 400, ":malformed"},
		{"too large", "acme", make([]byte, MaxWebhookBody+1), ErrTooLarge, 413, "acme:too_large"},
		{"unknown connection", "ghost", good("t7"), ErrUnknownConnection, 404, ":unknown_connection"},
		{"no webhooks registered", "empty", good("t8"), ErrUnknownConnection, 404, ":unknown_connection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := in.rcv.ReceiveLever(t.Context(), "", tt.conn, tt.body)
			if !errors.Is(err, tt.want) || rc != nil {
				t.Fatalf("ReceiveLever = %+v, %v; want %v", rc, err, tt.want)
			}
			if got := HTTPStatus(err); got != tt.status {
				t.Errorf("HTTPStatus = %d, want %d", got, tt.status)
			}
			if strings.Contains(err.Error(), sigAcme) {
				t.Errorf("the error shows the signature token: %v", err)
			}
			_, _, rejected := in.metrics.snapshot()
			if len(rejected) == 0 || rejected[len(rejected)-1] != tt.metric {
				t.Errorf("metrics rejected %v, want last %q", rejected, tt.metric)
			}
		})
	}
	if evs := in.allEvents(); len(evs) != 0 {
		t.Errorf("refused deliveries were stored: %+v", evs)
	}
	// The window is configurable.
	strict := newInbox(t, func(c *ReceiverConfig) { c.MaxAge = time.Minute })
	_, err := strict.rcv.ReceiveLever(t.Context(), "", "acme",
		delivery(EventCandidateStageChange, "t9", sigAcme, testNow.Add(-2*time.Minute), stageData()))
	if !errors.Is(err, ErrStale) {
		t.Errorf("MaxAge 1m, 2 minutes old: %v", err)
	}
}

func TestHTTPStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{fmt.Errorf("x: %w", ErrMalformed), 400},
		{fmt.Errorf("x: %w", ErrTooLarge), 413},
		{fmt.Errorf("x: %w", ErrUnknownConnection), 404},
		{fmt.Errorf("x: %w", ErrBadSignature), 401},
		{fmt.Errorf("x: %w", ErrStale), 401},
		{errors.New("database is locked"), 500},
		{context.Canceled, 500},
	}
	for _, tt := range tests {
		if got := HTTPStatus(tt.err); got != tt.want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestRouteUnmatchedKept(t *testing.T) {
	t.Parallel()
	in := newInbox(t, nil)
	in.workflow("wf-a", "lever.candidate_stage_changed", "acme", true)
	tests := []struct {
		name string
		body []byte
	}{
		{"no workflow on the event", delivery(EventInterviewCreated, "u1", sigAcme, testNow,
			map[string]any{"opportunityId": "o", "interviewId": "i"})},
		{"Lever's test delivery", delivery(EventCandidateHired, "u2", sigAcme, testNow, map[string]any{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := in.rcv.ReceiveLever(t.Context(), "", "acme", tt.body)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := in.rcv.Route(t.Context(), rc.EventID)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Status != store.EventUnmatched || len(ev.RunIDs) != 0 || ev.RoutedAt == nil || !ev.RoutedAt.Equal(testNow) {
				t.Errorf("routed as %+v", ev)
			}
			if string(ev.Payload) != string(tt.body) {
				t.Errorf("payload %s, want the body", ev.Payload)
			}
			if runs := in.runs(rc.EventID); len(runs) != 0 {
				t.Errorf("runs started: %v", runs)
			}
		})
	}
	evs, err := in.st.ListEvents(t.Context(), store.EventFilter{Status: store.EventUnmatched})
	if err != nil || len(evs) != 2 {
		t.Errorf("unmatched events listed: %d, %v", len(evs), err)
	}
}

func TestRouteAndReplay(t *testing.T) {
	t.Parallel()
	in := newInbox(t, nil)
	in.workflow("wf-a", "lever.candidate_stage_changed", "acme", true)
	in.workflow("wf-b", "lever.candidate_updated", "acme", true)
	in.workflow("wf-c", "lever.candidate_stage_changed", "acme", false)
	rc, err := in.rcv.ReceiveLever(in.ctx, "", "acme", delivery(EventCandidateStageChange, "r1", sigAcme, testNow, stageData()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.rcv.Replay(in.ctx, rc.EventID); !errors.Is(err, ErrPending) {
		t.Errorf("Replay of a pending event: %v", err)
	}
	ev, err := in.rcv.Route(in.ctx, rc.EventID)
	if err != nil {
		t.Fatal(err)
	}
	first := []string{RunID(ev.ID, "wf-a", 0, ev.ReceivedAt), RunID(ev.ID, "wf-b", 0, ev.ReceivedAt)}
	if ev.Status != store.EventRouted || !slices.Equal(sorted(ev.RunIDs), sorted(first)) || ev.Replays != 0 {
		t.Fatalf("routed as %+v, want runs %v", ev, first)
	}
	// Routing again changes nothing.
	if again, err := in.rcv.Route(in.ctx, rc.EventID); err != nil || !slices.Equal(again.RunIDs, ev.RunIDs) {
		t.Errorf("Route again: %+v %v", again, err)
	}

	// Enable wf-c and replay: a new run of each of the three.
	if _, err := in.eng.EnableWorkflow(in.ctx, "wf-c"); err != nil {
		t.Fatal(err)
	}
	in.clock.Set(testNow.Add(time.Minute))
	rep, err := in.rcv.Replay(in.ctx, rc.EventID)
	if err != nil {
		t.Fatal(err)
	}
	var second []string
	for _, w := range []string{"wf-a", "wf-b", "wf-c"} {
		second = append(second, RunID(ev.ID, w, 1, *ev.RoutedAt))
	}
	if rep.Status != store.EventRouted || rep.Replays != 1 || !slices.Equal(sorted(rep.RunIDs), sorted(append(slices.Clone(first), second...))) {
		t.Fatalf("replayed as %+v", rep)
	}
	runs := in.runs(rc.EventID)
	if len(runs["wf-a"]) != 2 || len(runs["wf-b"]) != 2 || len(runs["wf-c"]) != 1 {
		t.Errorf("runs after a replay: %v", runIDsOf(runs))
	}
	for _, r := range runs["wf-b"] {
		if r.TriggerType != "lever.candidate_updated" || r.EventID != rc.EventID {
			t.Errorf("run %s: trigger type %q event %q", r.ID, r.TriggerType, r.EventID)
		}
	}

	// ReplayMatching replays every event the filter selects, up to max.
	rc2, err := in.rcv.ReceiveLever(in.ctx, "", "acme", delivery(EventInterviewCreated, "r2", sigAcme, testNow, map[string]any{"interviewId": "i"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.rcv.Route(in.ctx, rc2.EventID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		f       store.EventFilter
		max     int
		want    int
		wantErr bool
	}{
		{"by type", store.EventFilter{Type: EventCandidateStageChange}, 10, 1, false},
		{"both, max 1", store.EventFilter{Connection: "acme"}, 1, 1, false},
		{"both", store.EventFilter{Source: store.EventSourceLever}, 10, 2, false},
		{"none", store.EventFilter{Connection: "other"}, 10, 0, false},
		{"max 0", store.EventFilter{}, 0, 0, true},
		{"pending", store.EventFilter{Status: store.EventPending}, 10, 0, true},
	}
	for _, tt := range tests {
		n, err := in.rcv.ReplayMatching(in.ctx, tt.f, tt.max)
		if n != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: ReplayMatching = %d, %v; want %d", tt.name, n, err, tt.want)
		}
	}
	// The stage change was replayed twice more (by type; both; "max 1"
	// took the newest, the interview): 3 replays of 3 runs, after the
	// first routing's 2.
	final := in.event(rc.EventID)
	if final.Replays != 3 || len(final.RunIDs) != 2+3*3 {
		t.Errorf("after ReplayMatching: replays %d, %d runs", final.Replays, len(final.RunIDs))
	}
	if got := in.event(rc2.EventID); got.Replays != 2 || got.Status != store.EventUnmatched {
		t.Errorf("the interview event: %+v", got)
	}
	if runs := in.runs(rc.EventID); len(runIDsOf(runs)) != len(final.RunIDs) {
		t.Errorf("%d runs, the event records %d", len(runIDsOf(runs)), len(final.RunIDs))
	}
}

// TestRouteAfterCrash: a run started before a crash (StartRun committed,
// FinishEvent never ran) is found, not started again.
func TestRouteAfterCrash(t *testing.T) {
	t.Parallel()
	in := newInbox(t, nil)
	in.workflow("wf-a", "lever.candidate_stage_changed", "acme", true)
	in.workflow("wf-b", "lever.candidate_stage_changed", "acme", true)
	rc, err := in.rcv.ReceiveLever(in.ctx, "", "acme", delivery(EventCandidateStageChange, "c1", sigAcme, testNow, stageData()))
	if err != nil {
		t.Fatal(err)
	}
	ev := in.event(rc.EventID)
	lev, err := ParseLeverWebhook(ev.Payload)
	if err != nil {
		t.Fatal(err)
	}
	pre := RunID(ev.ID, "wf-a", 0, ev.ReceivedAt)
	if _, err := in.eng.StartRun(in.ctx, engine.StartRequest{WorkflowID: "wf-a", Trigger: TriggerData(lev), RunID: pre, EventID: ev.ID}); err != nil {
		t.Fatal(err)
	}
	got, err := in.rcv.Route(in.ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	runs := in.runs(ev.ID)
	if got.Status != store.EventRouted || len(got.RunIDs) != 2 || !slices.Contains(got.RunIDs, pre) ||
		len(runs["wf-a"]) != 1 || len(runs["wf-b"]) != 1 {
		t.Errorf("routed as %+v with runs %v", got, runIDsOf(runs))
	}
}

// TestSweepRoutesOnce: a pending event a crashed server acknowledged but
// never routed is routed by the sweep exactly once, while Route is called
// for it concurrently.
func TestSweepRoutesOnce(t *testing.T) {
	t.Parallel()
	in := newInbox(t, func(c *ReceiverConfig) { c.SweepInterval = 2 * time.Millisecond })
	in.workflow("wf-a", "lever.candidate_stage_changed", "acme", true)
	in.workflow("wf-b", "lever.candidate_stage_changed", "acme", true)
	body := delivery(EventCandidateStageChange, "s1", sigAcme, testNow, stageData())
	fresh := delivery(EventCandidateStageChange, "s2", sigAcme, testNow, stageData())
	insert := func(id, source string, at time.Time, payload []byte, key string) {
		if _, ok, err := in.st.InsertEvent(in.ctx, &store.Event{ID: id, Source: source, Connection: "acme",
			Type: EventCandidateStageChange, DedupeKey: key, Payload: payload, ReceivedAt: at}); err != nil || !ok {
			t.Fatalf("insert: %v %v", ok, err)
		}
	}
	insert("0190a0a0-0000-7000-8000-000000000001", store.EventSourceLever, testNow.Add(-time.Minute), body, "s1")
	// Younger than RouteDelay: the sweep leaves it to the router queue.
	insert("0190a0a0-0000-7000-8000-000000000002", store.EventSourceLever, testNow.Add(-time.Second), fresh, "s2")
	// Another source's pending event is not this receiver's.
	insert("0190a0a0-0000-7000-8000-000000000003", store.EventSourceAPI, testNow.Add(-time.Hour), []byte(`{}`), "p1")
	var wg sync.WaitGroup
	in.start()
	for range 8 {
		wg.Go(func() {
			if _, err := in.rcv.Route(in.ctx, "0190a0a0-0000-7000-8000-000000000001"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	ev := in.waitRouted("0190a0a0-0000-7000-8000-000000000001")
	runs := in.runs(ev.ID)
	if ev.Status != store.EventRouted || len(ev.RunIDs) != 2 || len(runs["wf-a"]) != 1 || len(runs["wf-b"]) != 1 {
		t.Errorf("routed as %+v with runs %v", ev, runIDsOf(runs))
	}
	// Let a few more sweeps pass: nothing changes.
	if _, err := in.rcv.Sweep(in.ctx); err != nil {
		t.Fatal(err)
	}
	if got := in.event("0190a0a0-0000-7000-8000-000000000002"); got.Status != store.EventPending {
		t.Errorf("the sweep routed an event younger than RouteDelay: %+v", got)
	}
	// Once it is old enough, the sweep routes it.
	in.clock.Set(testNow.Add(DefaultRouteDelay))
	if got := in.waitRouted("0190a0a0-0000-7000-8000-000000000002"); got.Status != store.EventRouted || len(got.RunIDs) != 2 {
		t.Errorf("routed as %+v", got)
	}
	if got := in.runs(ev.ID); len(runIDsOf(got)) != 2 {
		t.Errorf("runs of the first event after more sweeps: %v", runIDsOf(got))
	}
	if got := in.event("0190a0a0-0000-7000-8000-000000000003"); got.Status != store.EventPending {
		t.Errorf("routed another source's event: %+v", got)
	}
	if _, err := in.rcv.Route(in.ctx, "0190a0a0-0000-7000-8000-000000000003"); !errors.Is(err, ErrUnsupportedEvent) {
		t.Errorf("Route of an API event: %v", err)
	}
	if _, err := in.rcv.Route(in.ctx, "no-such-event"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Route of a missing event: %v", err)
	}
}

// TestRouteRetriesBounded: a workflow whose run cannot be started keeps
// the event pending for the sweep, attempt after attempt, until the last
// marks it failed; the runs that could start are started once.
func TestRouteRetriesBounded(t *testing.T) {
	t.Parallel()
	in := newInbox(t, nil)
	in.workflow("wf-a", "lever.candidate_stage_changed", "acme", true)
	// A stored version the engine cannot plan (written past validation).
	bad := json.RawMessage(`{"name":"bad","trigger":{"type":"lever.candidate_stage_changed","connection":"acme"},
		"steps":[{"id":"x","type":"no.such_step","input":{}}]}`)
	if _, err := in.st.CreateWorkflow(in.ctx, "wf-bad", "bad", bad, testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := in.st.SetWorkflowEnabled(in.ctx, "wf-bad", true, testNow); err != nil {
		t.Fatal(err)
	}
	rc, err := in.rcv.ReceiveLever(in.ctx, "", "acme", delivery(EventCandidateStageChange, "f1", sigAcme, testNow, stageData()))
	if err != nil {
		t.Fatal(err)
	}
	good := RunID(rc.EventID, "wf-a", 0, testNow)
	for attempt := 1; attempt <= MaxRouteAttempts; attempt++ {
		ev, err := in.rcv.Route(in.ctx, rc.EventID)
		if err != nil {
			t.Fatal(err)
		}
		want := store.EventPending
		if attempt == MaxRouteAttempts {
			want = store.EventFailed
		}
		prefix := fmt.Sprintf("attempt %d of %d: starting workflow wf-bad", attempt, MaxRouteAttempts)
		if ev.Status != want || !strings.HasPrefix(ev.Error, prefix) || !slices.Equal(ev.RunIDs, []string{good}) {
			t.Fatalf("attempt %d: %+v", attempt, ev)
		}
	}
	if runs := in.runs(rc.EventID); len(runs["wf-a"]) != 1 || len(runs["wf-bad"]) != 0 {
		t.Errorf("runs: %v", runIDsOf(runs))
	}
	// A failed event is kept; a replay after the fix starts both.
	if _, err := in.st.SetWorkflowEnabled(in.ctx, "wf-bad", false, testNow); err != nil {
		t.Fatal(err)
	}
	ev, err := in.rcv.Replay(in.ctx, rc.EventID)
	if err != nil || ev.Status != store.EventRouted || ev.Error != "" || len(ev.RunIDs) != 2 {
		t.Errorf("replay after disabling the broken workflow: %+v %v", ev, err)
	}
}

func TestAttemptsOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{
		"": 0, "attempt 3 of 5: boom": 3, "boom": 0, "attempt x of 5: y": 0,
	} {
		if got := attemptsOf(in); got != want {
			t.Errorf("attemptsOf(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestRunID(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 5, 21, 13, 4, 58, 412e6, time.UTC)
	a := RunID("e1", "w1", 0, at)
	tests := []struct {
		name string
		id   string
		same bool
	}{
		{"same inputs", RunID("e1", "w1", 0, at), true},
		{"other workflow", RunID("e1", "w2", 0, at), false},
		{"other event", RunID("e2", "w1", 0, at), false},
		{"replay 1", RunID("e1", "w1", 1, at), false},
		{"ambiguous join", RunID("e1/w1", "", 0, at), false},
	}
	for _, tt := range tests {
		if (tt.id == a) != tt.same {
			t.Errorf("%s: %s vs %s", tt.name, tt.id, a)
		}
	}
	// A UUIDv7 carrying the time, so runs keep sorting by creation.
	if !strings.HasPrefix(a, "0196f2f2-762c-7") {
		t.Errorf("RunID %s is not a UUIDv7 of %s", a, at)
	}
	if later := RunID("e0", "w0", 0, at.Add(time.Millisecond)); later <= a {
		t.Errorf("a later time sorts first: %s < %s", later, a)
	}
}

// TestConcurrentDeliveries: 300 deliveries at once make 300 events, each
// routed exactly once.
func TestConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	in := newInbox(t, func(c *ReceiverConfig) { c.SweepInterval = 5 * time.Millisecond; c.RouteDelay = time.Nanosecond })
	in.workflow("wf-a", "lever.candidate_stage_changed", "acme", true)
	in.start()
	const n = 300
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rc, err := in.rcv.ReceiveLever(in.ctx, "", "acme",
				delivery(EventCandidateStageChange, fmt.Sprintf("tok-%03d", i), sigAcme, testNow, stageData()))
			if err != nil || rc.Duplicate {
				t.Errorf("delivery %d: %+v %v", i, rc, err)
				return
			}
			ids[i] = rc.EventID
		})
	}
	wg.Wait()
	// Time passes, so the sweep races the router for the same events.
	in.clock.Set(testNow.Add(time.Second))
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			t.Fatalf("event ids not distinct: %q", id)
		}
		seen[id] = true
		ev := in.waitRouted(id)
		if ev.Status != store.EventRouted || len(ev.RunIDs) != 1 {
			t.Errorf("event %s: %+v", id, ev)
		}
	}
	runs, err := in.st.ListRuns(in.ctx, store.RunFilter{WorkflowID: "wf-a", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	perEvent := map[string]int{}
	for _, r := range runs {
		perEvent[r.EventID]++
	}
	if len(runs) != n || len(perEvent) != n {
		t.Errorf("%d runs for %d events, want %d each", len(runs), len(perEvent), n)
	}
	if evs := in.allEvents(); len(evs) != n {
		t.Errorf("%d events, want %d", len(evs), n)
	}
	if accepted, _, _ := in.metrics.snapshot(); len(accepted) != n {
		t.Errorf("%d accepted, want %d", len(accepted), n)
	}
}

func BenchmarkReceiveLever(b *testing.B) {
	in := newInbox(b, nil)
	in.workflow("wf-a", "lever.candidate_stage_changed", "acme", true)
	i := 0
	for b.Loop() {
		i++
		body := delivery(EventCandidateStageChange, fmt.Sprintf("bench-%09d", i), sigAcme, testNow, stageData())
		if _, err := in.rcv.ReceiveLever(in.ctx, "", "acme", body); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLateRetryOfStoredDeliveryIsDuplicate: our 200 was lost, and Lever's
// retry arrives after the freshness window: the delivery is stored, so the
// answer is a duplicate (200), not a stale refusal that would keep Lever
// retrying; nothing new is stored or started.
func TestLateRetryOfStoredDeliveryIsDuplicate(t *testing.T) {
	t.Parallel()
	in := newInbox(t, nil)
	in.workflow("wf-a", "lever.candidate_stage_changed", "acme", true)
	in.start()
	body := delivery(EventCandidateStageChange, "late-1", sigAcme, testNow, stageData())
	first, err := in.rcv.ReceiveLever(t.Context(), "", "acme", body)
	if err != nil {
		t.Fatal(err)
	}
	in.waitRouted(first.EventID)
	in.clock.Set(testNow.Add(DefaultMaxAge + time.Hour))
	again, err := in.rcv.ReceiveLever(t.Context(), "", "acme", body)
	if err != nil || !again.Duplicate || again.EventID != first.EventID {
		t.Fatalf("late retry: %+v, %v; want the first event as a duplicate", again, err)
	}
	if evs := in.allEvents(); len(evs) != 1 {
		t.Errorf("%d events stored, want 1", len(evs))
	}
	if runs := in.runs(first.EventID); len(runIDsOf(runs)) != 1 {
		t.Errorf("runs: %v, want 1", runIDsOf(runs))
	}
	// A stale delivery that was never stored is still refused.
	_, err = in.rcv.ReceiveLever(t.Context(), "", "acme", delivery(EventCandidateStageChange, "late-2", sigAcme, testNow, stageData()))
	if !errors.Is(err, ErrStale) {
		t.Errorf("stale, never stored: %v, want ErrStale", err)
	}
}
