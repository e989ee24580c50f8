package connections

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/catalog"
	leversteps "github.com/leverflow/leverflow/steps/lever"
	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// startEngine runs an engine on a fresh SQLite file with every step type,
// the Lever steps reaching Lever through clients.
func startEngine(t *testing.T, clients leversteps.Clients) (*engine.Engine, *steps.Registry) {
	t.Helper()
	ctx := context.Background()
	st, err := gormstore.Open(ctx, gormstore.Config{DSN: filepath.Join(t.TempDir(), "leverflow.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := catalog.New(catalog.Options{Lever: clients})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Options{Store: st, Steps: reg, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Stop(context.Background()) })
	return eng, reg
}

// runWorkflow saves def, runs it with trigger and waits for the run.
func runWorkflow(t *testing.T, eng *engine.Engine, reg *steps.Registry, def string, trigger any) *workflow.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wf, problems := workflow.Parse([]byte(def), workflow.ValidateOptions{Steps: reg})
	if len(problems) > 0 {
		t.Fatalf("workflow: %v", problems)
	}
	if _, err := eng.SaveWorkflow(ctx, "wf", wf); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(trigger)
	run, err := eng.StartRun(ctx, engine.StartRequest{WorkflowID: "wf", Trigger: raw})
	if err != nil {
		t.Fatal(err)
	}
	done, err := eng.Wait(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	return done
}

// sharedClients hands out one client per process, as a connection does:
// one token bucket for the credential however many steps run at once.
type sharedClients struct{ c *client.Client }

func (s sharedClients) Client(context.Context, string, string) (*client.Client, error) {
	return s.c, nil
}

// TestLeverWorkflowEndToEnd runs a workflow of Lever steps on the engine,
// through an API-key connection, against the sandbox: get an opportunity, update its contact, add a tag,
// create a posting, list postings over several pages. The sandbox's state
// shows every change.
func TestEngineLeverWorkflowEndToEnd(t *testing.T) {
	f := setup(t)
	sb := f.lever.sb
	var listCalls atomic.Int64
	prev := f.lever.srv.Config.Handler
	f.lever.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/postings" {
			listCalls.Add(1)
		}
		prev.ServeHTTP(w, r)
	})
	if _, err := f.m.CreateAPIKey(t.Context(), APIKeyRequest{Name: "acme", Environment: EnvLocal, APIKey: testAPIKey}); err != nil {
		t.Fatal(err)
	}
	eng, reg := startEngine(t, f.m)

	opp := sb.Opportunities()[5]
	before, _ := sb.Contact(opp.Contact)
	postingsBefore := len(sb.Postings())
	run := runWorkflow(t, eng, reg, `{
  "name": "Lever end to end",
  "trigger": {"type": "api"},
  "steps": [
    {"id": "opp", "type": "lever.get_opportunity", "connection": "acme",
     "input": {"opportunity_id": "<<trigger.opportunity_id>>"}},
    {"id": "contact", "type": "lever.update_contact", "connection": "acme",
     "input": {"contact_id": "<<steps.opp.contact>>", "headline": "Principal Engineer at <<trigger.company>>"}},
    {"id": "tag", "type": "lever.add_opportunity_tags", "connection": "acme",
     "input": {"opportunity_id": "<<steps.opp.id>>", "tags": ["end-to-end", "<<trigger.company>>"]}},
    {"id": "posting", "type": "lever.create_posting", "connection": "acme",
     "input": {"text": "Recruiter for <<steps.opp.name>>", "perform_as": "<<trigger.user_id>>", "team": "Talent", "state": "draft"}},
    {"id": "postings", "type": "lever.get_postings", "connection": "acme",
     "input": {"limit": 3, "all_pages": true, "max_items": 100, "confidentiality": "all"}}
  ],
  "edges": [
    {"from": "opp", "to": "contact"},
    {"from": "opp", "to": "tag"},
    {"from": "opp", "to": "posting"},
    {"from": "posting", "to": "postings"}
  ]
}`, map[string]any{"opportunity_id": opp.ID, "company": "Acme", "user_id": sandbox.UserPriya})

	if run.Status != workflow.RunSucceeded {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	for id, sr := range run.Steps {
		if sr.Status != workflow.StepSucceeded {
			t.Errorf("step %s: %s %s", id, sr.Status, sr.Error)
		}
	}
	// The contact was merged: the headline changed, the rest was kept.
	after, _ := sb.Contact(opp.Contact)
	if after.Headline != "Principal Engineer at Acme" {
		t.Errorf("contact headline = %q", after.Headline)
	}
	if after.Name != before.Name || !slices.Equal(after.Emails, before.Emails) {
		t.Errorf("contact fields not given were lost: before %+v, after %+v", before, after)
	}
	got, _ := sb.Opportunity(opp.ID)
	if !slices.Contains(got.Tags, "end-to-end") || !slices.Contains(got.Tags, "Acme") {
		t.Errorf("tags = %v", got.Tags)
	}
	// One posting was created, named after the opportunity.
	if n := len(sb.Postings()); n != postingsBefore+1 {
		t.Errorf("postings: %d, want %d", n, postingsBefore+1)
	}
	var created struct{ ID, Text string }
	if err := json.Unmarshal(run.Steps["posting"].Output, &created); err != nil {
		t.Fatal(err)
	}
	if p, ok := sb.Posting(created.ID); !ok || p.Text != "Recruiter for "+opp.Name {
		t.Errorf("created posting %+v: in sandbox %v, text %q", created, ok, p.Text)
	}
	// Listing walked every page of three: all postings, the new one too.
	var list struct {
		Items   []struct{ ID string } `json:"items"`
		Count   int                   `json:"count"`
		HasNext bool                  `json:"has_next"`
	}
	if err := json.Unmarshal(run.Steps["postings"].Output, &list); err != nil {
		t.Fatal(err)
	}
	if list.Count != postingsBefore+1 || len(list.Items) != list.Count || list.HasNext {
		t.Errorf("postings listed: count %d, items %d, has_next %v; sandbox holds %d", list.Count, len(list.Items), list.HasNext, postingsBefore+1)
	}
	if pages := (postingsBefore + 1 + 2) / 3; listCalls.Load() != int64(pages) {
		t.Errorf("GET /postings was called %d times, want %d pages of 3", listCalls.Load(), pages)
	}
	if !slices.ContainsFunc(list.Items, func(p struct{ ID string }) bool { return p.ID == created.ID }) {
		t.Errorf("the new posting %s is not in the list", created.ID)
	}
}

// TestEngineRateLimitStormNoStepFails runs 60 Lever steps at once against a
// sandbox whose rate limit is tighter than the client's: the sandbox
// answers 429s, and the token bucket and the retries absorb them so that no
// step fails.
func TestEngineRateLimitStormNoStepFails(t *testing.T) {
	sb := sandbox.New(sandbox.Options{Seed: 4, RateLimit: 40, Burst: 5})
	var tooMany atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		sb.ServeHTTP(rec, r)
		if rec.status == http.StatusTooManyRequests {
			tooMany.Add(1)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close)
	// The client's own bucket is looser than the sandbox's (as when other
	// programs share the Lever key), so 429s do happen.
	c, err := client.New(client.Config{BaseURL: srv.URL + "/v1", APIKey: sb.APIKey(),
		RateLimit: rate.Limit(80), Burst: 20, RetryBase: 20 * time.Millisecond, RetryMax: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	eng, reg := startEngine(t, sharedClients{c})
	var ids []string
	for _, o := range sb.Opportunities()[:60] {
		ids = append(ids, o.ID)
	}
	run := runWorkflow(t, eng, reg, `{
  "name": "Storm",
  "trigger": {"type": "api"},
  "steps": [
    {"id": "each", "type": "fanout", "input": {"items": "<<trigger.ids>>", "concurrency": 60},
     "steps": [
       {"id": "opp", "type": "lever.get_opportunity", "connection": "acme", "input": {"opportunity_id": "<<item>>"},
        "retry": {"max_attempts": 10, "backoff": "exponential", "initial": "50ms", "max": "1s"}}
     ]}
  ]
}`, map[string]any{"ids": ids})
	if run.Status != workflow.RunSucceeded {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	failed := 0
	for key, sr := range run.Steps {
		if sr.Status == workflow.StepFailed {
			failed++
			t.Errorf("%s failed: %s", key, sr.Error)
		}
	}
	stats := c.Stats()
	if tooMany.Load() == 0 || stats.ByStatus[http.StatusTooManyRequests] == 0 {
		t.Fatalf("no 429 was answered (%d, client saw %v): the storm did not happen", tooMany.Load(), stats.ByStatus)
	}
	if stats.ByStatus[http.StatusOK] < 60 {
		t.Errorf("200s: %d, want 60", stats.ByStatus[http.StatusOK])
	}
	t.Logf("60 steps, %d requests: %d answered 429 and were retried, %d rate-limit waits, 0 steps failed",
		stats.Requests, stats.ByStatus[http.StatusTooManyRequests], stats.RateLimitWaits)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// TestEngineRefreshTokenExpiresMidRun: a run's first Lever step succeeds;
// then, mid-run, Lever's refresh token expires; the next Lever step fails at
// once (no retries) with the message that says how to reconnect, and the
// connection turns needs_reauth.
func TestEngineRefreshTokenExpiresMidRun(t *testing.T) {
	f := setup(t, func(o *setupOptions) {
		o.sandbox = func(so *sandbox.Options) {
			so.AccessTokenTTL = 20 * time.Second
			so.RefreshTokenTTL = 30 * time.Second
		}
	})
	f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	// The step between the two Lever calls moves Lever's and Leverflow's
	// clocks a minute on: past both tokens' expiry.
	pause := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.clock.Advance(time.Minute)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(pause.Close)
	eng, reg := startEngine(t, f.m)
	opp := f.lever.sb.Opportunities()[0]
	run := runWorkflow(t, eng, reg, `{
  "name": "Mid-run expiry",
  "trigger": {"type": "api"},
  "steps": [
    {"id": "first", "type": "lever.get_opportunity", "connection": "acme", "input": {"opportunity_id": "<<trigger.id>>"}},
    {"id": "later", "type": "http.request", "input": {"url": "<<trigger.pause_url>>"}},
    {"id": "second", "type": "lever.get_opportunity", "connection": "acme", "input": {"opportunity_id": "<<trigger.id>>"},
     "retry": {"max_attempts": 5, "initial": "10ms"}}
  ],
  "edges": [{"from": "first", "to": "later"}, {"from": "later", "to": "second"}]
}`, map[string]any{"id": opp.ID, "pause_url": pause.URL})

	if run.Status != workflow.RunFailed {
		t.Fatalf("run %s, want failed", run.Status)
	}
	if s := run.Steps["first"]; s.Status != workflow.StepSucceeded {
		t.Errorf("first: %s %s", s.Status, s.Error)
	}
	second := run.Steps["second"]
	const want = `connection "acme" needs to be reconnected: `
	if second.Status != workflow.StepFailed || !strings.Contains(second.Error, want) ||
		!strings.Contains(second.Error, "/api/v1/connections/lever/authorize?name=acme") {
		t.Fatalf("second: %s %q, want the reconnect message", second.Status, second.Error)
	}
	if second.Attempts != 1 {
		t.Errorf("second ran %d attempts; a connection that needs reconnecting is not retried", second.Attempts)
	}
	c, err := f.m.Get(t.Context(), "", "acme")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != StatusNeedsReauth || !strings.Contains(c.StatusMessage, "reconnect") {
		t.Errorf("connection: %s %q", c.Status, c.StatusMessage)
	}
}
