package triggers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// pollEnv is the schedule env plus a receiver, the Lever sandbox on
// httptest (on the same fake clock) and a client of it.
type pollEnv struct {
	*schedEnv
	rcv    *Receiver
	sb     *sandbox.Sandbox
	lc     *client.Client
	userID string
	// failAt makes the sandbox answer 503 to the request of that number
	// (1-based; 0: never).
	failAt, requests atomic.Int64
}

// oneClient gives the same client for every connection.
type oneClient struct{ c *client.Client }

func (o oneClient) Client(context.Context, string, string) (*client.Client, error) { return o.c, nil }

func newPollEnv(t *testing.T) *pollEnv {
	t.Helper()
	return newPollEnvSkew(t, 0)
}

// newPollEnvSkew is newPollEnv with Lever's clock ahead of ours by skew.
func newPollEnvSkew(t *testing.T, skew time.Duration) *pollEnv {
	t.Helper()
	e := &pollEnv{schedEnv: newSchedEnv(t, utc("2025-05-21T13:00:00Z"))}
	leverNow := func() time.Time { return e.clock.Now().Add(skew) }
	e.sb = sandbox.New(sandbox.Options{Now: leverNow, NoSeed: true, DisableRateLimit: true, Seed: 1})
	t.Cleanup(e.sb.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := e.requests.Add(1); n == e.failAt.Load() {
			http.Error(w, `{"code":"ServiceUnavailable","message":"maintenance"}`, http.StatusServiceUnavailable)
			return
		}
		e.sb.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	var err error
	e.lc, err = client.New(client.Config{BaseURL: srv.URL + "/v1", APIKey: e.sb.APIKey(), MaxRetries: -1, RateLimit: rate.Inf})
	if err != nil {
		t.Fatal(err)
	}
	e.userID = e.sb.Users()[0].ID
	e.rcv, err = NewReceiver(ReceiverConfig{Store: e.st, Engine: e.eng, Secrets: &tokens{m: map[string]map[string]string{}}, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *pollEnv) poller(pageSize, maxPages int) *Poller {
	e.t.Helper()
	p, err := NewPoller(PollerConfig{Store: e.st, Receiver: e.rcv, Clients: oneClient{e.lc}, Engine: e.eng,
		Now: e.clock.Now, PageSize: pageSize, MaxPages: maxPages})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *pollEnv) polledWorkflow(id, triggerType string) {
	e.t.Helper()
	doc, _ := json.Marshal(map[string]any{"name": id,
		"trigger": map[string]any{"type": triggerType, "connection": "acme", "poll_interval": "1m"},
		"steps":   []any{map[string]any{"id": "ids", "type": "transform", "input": map[string]any{"value": "<<trigger.postingId>>"}}}})
	e.saveWorkflow(id, doc)
}

func (e *schedEnv) saveWorkflow(id string, doc []byte) {
	e.t.Helper()
	wf, probs := workflow.Parse(doc, workflow.ValidateOptions{Steps: e.reg})
	if len(probs) > 0 {
		e.t.Fatalf("workflow %s: %v", id, probs)
	}
	if _, err := e.eng.CreateWorkflow(e.ctx, id, wf); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.eng.EnableWorkflow(e.ctx, id); err != nil {
		e.t.Fatal(err)
	}
}

// poll sets the clock and polls.
func (e *pollEnv) poll(p *Poller, at time.Time) error {
	e.clock.Set(at)
	return p.Poll(e.ctx)
}

func (e *pollEnv) createPosting(at time.Time, text string) string {
	e.t.Helper()
	e.clock.Set(at)
	p, err := e.lc.CreatePosting(e.ctx, client.PostingInput{PerformAs: e.userID, Text: text})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.ID
}

func (e *pollEnv) updatePosting(at time.Time, id, text string) {
	e.t.Helper()
	e.clock.Set(at)
	if _, err := e.lc.UpdatePosting(e.ctx, id, client.PostingInput{PerformAs: e.userID, Text: text}); err != nil {
		e.t.Fatal(err)
	}
}

// polled routes the pending polled events and returns every polled event
// as "type/postingId" in the order received, checking each started one run
// whose trigger names the posting.
func (e *pollEnv) polled() []string {
	e.t.Helper()
	evs, err := e.st.ListEvents(e.ctx, store.EventFilter{Source: store.EventSourcePoll, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range slices.Backward(evs) {
		got, err := e.rcv.Route(e.ctx, ev.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		var obj struct{ ID string }
		_ = json.Unmarshal(ev.Payload, &obj)
		if got.Status != store.EventRouted || len(got.RunIDs) != 1 {
			e.t.Errorf("event %s (%s %s) routed as %s with runs %v", ev.ID, ev.Type, obj.ID, got.Status, got.RunIDs)
		} else {
			run, err := e.st.GetRun(e.ctx, got.RunIDs[0])
			if err != nil {
				e.t.Fatal(err)
			}
			var trig struct{ Event, PostingID string }
			_ = json.Unmarshal(run.Trigger, &trig)
			if trig.Event != ev.Type || trig.PostingID != obj.ID {
				e.t.Errorf("run %s trigger %s, want event %s posting %s", run.ID, run.Trigger, ev.Type, obj.ID)
			}
		}
		out = append(out, ev.Type+"/"+obj.ID)
	}
	return out
}

func TestPollPostingCreatedWhileDownSeenOnce(t *testing.T) {
	t.Parallel()
	e := newPollEnv(t)
	e.polledWorkflow("created", "lever.posting_created")
	old := e.createPosting(utc("2025-05-21T12:00:00Z"), "Before the poller")
	p1 := e.poller(0, 0)
	if err := e.poll(p1, utc("2025-05-21T13:00:00Z")); err != nil { // first sight: the cursor is now
		t.Fatal(err)
	}
	if err := e.poll(p1, utc("2025-05-21T13:01:00Z")); err != nil {
		t.Fatal(err)
	}
	// The poller is down (p1 is dropped) while a posting is created, at
	// exactly the cursor's instant too.
	atCursor := e.createPosting(utc("2025-05-21T13:01:00Z"), "At the cursor")
	id := e.createPosting(utc("2025-05-21T13:02:00Z"), "While down")
	p2 := e.poller(0, 0)
	for _, at := range []string{"13:05:00", "13:05:30", "13:06:00", "13:07:00", "13:08:00"} {
		if err := e.poll(p2, utc("2025-05-21T"+at+"Z")); err != nil {
			t.Fatal(err)
		}
		if at == "13:06:00" { // a restart again
			p2 = e.poller(0, 0)
		}
	}
	want := []string{PolledPostingCreated + "/" + id, PolledPostingCreated + "/" + atCursor}
	got := e.polled()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("polled %v, want %v (not the older %s)", got, want, old)
	}
}

func TestPollPostingUpdatedTwiceMakesTwoEvents(t *testing.T) {
	t.Parallel()
	e := newPollEnv(t)
	e.polledWorkflow("updated", "lever.posting_updated")
	id := e.createPosting(utc("2025-05-21T12:00:00Z"), "Engineer")
	p := e.poller(0, 0)
	steps := []struct {
		at     string
		update bool
	}{{"13:00:00", false}, {"13:00:30", true}, {"13:01:00", false}, {"13:01:30", true}, {"13:02:00", false}, {"13:03:00", false}, {"13:04:00", false}}
	for i, s := range steps {
		if s.update {
			e.updatePosting(utc("2025-05-21T"+s.at+"Z"), id, "Engineer v"+string(rune('0'+i)))
			continue
		}
		if err := e.poll(p, utc("2025-05-21T"+s.at+"Z")); err != nil {
			t.Fatal(err)
		}
	}
	// A posting created since is Posting Created's, not an update.
	e.createPosting(utc("2025-05-21T13:04:10Z"), "New")
	if err := e.poll(p, utc("2025-05-21T13:05:00Z")); err != nil {
		t.Fatal(err)
	}
	want := []string{PolledPostingUpdated + "/" + id, PolledPostingUpdated + "/" + id}
	if got := e.polled(); !slices.Equal(got, want) {
		t.Fatalf("polled %v, want %v", got, want)
	}
}

func TestPollUpdateOfAnObjectCreatedAfterTheCursor(t *testing.T) {
	t.Parallel()
	// Lever's clock is 5s ahead: a posting created just before a pass has
	// a createdAt after the pass's start, so after the cursor it leaves;
	// its edit before the next pass is an update, not lost as "created".
	e := newPollEnvSkew(t, 5*time.Second)
	e.polledWorkflow("updated", "lever.posting_updated")
	e.polledWorkflow("created", "lever.posting_created")
	p := e.poller(0, 0)
	if err := e.poll(p, utc("2025-05-21T13:00:00Z")); err != nil { // first sight
		t.Fatal(err)
	}
	id := e.createPosting(utc("2025-05-21T13:00:58Z"), "Engineer") // createdAt 13:01:03 (Lever)
	if err := e.poll(p, utc("2025-05-21T13:01:00Z")); err != nil {
		t.Fatal(err)
	}
	e.updatePosting(utc("2025-05-21T13:01:30Z"), id, "Engineer II")
	for _, at := range []string{"13:02:00", "13:03:00", "13:04:00"} {
		if err := e.poll(p, utc("2025-05-21T"+at+"Z")); err != nil {
			t.Fatal(err)
		}
	}
	got := e.polled()
	want := []string{PolledPostingCreated + "/" + id, PolledPostingUpdated + "/" + id}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("polled %v, want %v", got, want)
	}
}

func TestPollLeverErrorLosesAndRepeatsNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		failAt   int64 // the request answered 503 (the first poll's is request 1)
		maxPages int
	}{
		{"first page", 2, 0},
		{"second page", 3, 0},
		{"last page", 4, 0},
		{"with a page cap", 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newPollEnv(t)
			e.polledWorkflow("created", "lever.posting_created")
			p := e.poller(1, tt.maxPages) // one posting per page
			if err := e.poll(p, utc("2025-05-21T13:00:00Z")); err != nil {
				t.Fatal(err)
			}
			var want []string
			for i, at := range []string{"13:00:10", "13:00:20", "13:00:30"} {
				want = append(want, PolledPostingCreated+"/"+e.createPosting(utc("2025-05-21T"+at+"Z"), "Posting "+string(rune('A'+i))))
			}
			e.requests.Store(1) // the first poll made none (first sight)
			e.failAt.Store(tt.failAt)
			sawErr := false
			for _, at := range []string{"13:01:00", "13:01:01", "13:02:00", "13:02:01", "13:03:00", "13:04:00"} {
				err := e.poll(p, utc("2025-05-21T"+at+"Z"))
				if err != nil {
					sawErr = true
					st, gerr := e.st.GetTriggerState(e.ctx, "", store.TriggerStatePoll, "/acme/lever.posting_created")
					if gerr != nil || !st.Cursor.Equal(utc("2025-05-21T13:00:00Z")) {
						t.Fatalf("after the 503 the cursor is %v (%v), want it unmoved", st, gerr)
					}
				}
			}
			if !sawErr {
				t.Fatal("the 503 was not reported")
			}
			got := e.polled()
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("polled %v, want each posting once: %v", got, want)
			}
		})
	}
}

func TestPolledTrigger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		event, object string
		types         []string
		want          map[string]any
	}{
		{PolledPostingCreated, `{"id":"p1","createdAt":1747832698000,"updatedAt":1747832699000}`, []string{"lever.posting_created"},
			map[string]any{"event": PolledPostingCreated, "postingId": "p1", "triggered_at": "2025-05-21T13:04:58.000Z"}},
		{PolledPostingUpdated, `{"id":"p1","createdAt":1747832698000,"updatedAt":1747832699000}`, []string{"lever.posting_updated"},
			map[string]any{"event": PolledPostingUpdated, "postingId": "p1", "triggered_at": "2025-05-21T13:04:59.000Z"}},
		{PolledOpportunityCreated, `{"id":"o1","contact":"c1","createdAt":1747832698000}`, []string{"lever.candidate_created"},
			map[string]any{"event": PolledOpportunityCreated, "opportunityId": "o1", "candidateId": "o1", "contactId": "c1", "triggered_at": "2025-05-21T13:04:58.000Z"}},
		{PolledOpportunityUpdated, `{"id":"o1","contact":{"id":"c1"},"createdAt":1,"updatedAt":1747832699000}`, []string{"lever.candidate_updated"},
			map[string]any{"event": PolledOpportunityUpdated, "opportunityId": "o1", "contactId": "c1", "triggered_at": "2025-05-21T13:04:59.000Z"}},
	}
	for _, tt := range tests {
		types, raw, err := PolledTrigger(tt.event, json.RawMessage(tt.object))
		if err != nil || !slices.Equal(types, tt.types) {
			t.Fatalf("%s: %v %v", tt.event, types, err)
		}
		var got map[string]any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v", tt.event, k, got[k], v)
			}
		}
	}
	if _, _, err := PolledTrigger("nope", json.RawMessage(`{"id":"x"}`)); err == nil {
		t.Error("an unknown polled event was accepted")
	}
}
