package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/catalog"
	"github.com/leverflow/leverflow/steps/lever"
	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// TestRunJSONShowsConcurrencyWait: a run queued behind a run of the same
// key says why in GET /runs/:id.
func TestRunJSONShowsConcurrencyWait(t *testing.T) {
	f := setup(t)
	reg, err := catalog.New(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wf, probs := workflow.Parse([]byte(`{"name": "one per opportunity", "trigger": {"type": "api"},
		"concurrency": {"limit": 1, "key": "<<trigger.opportunityId>>"},
		"steps": [{"id": "pause", "type": "delay", "input": {"for": "1h"}}]}`), workflow.ValidateOptions{Steps: reg})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	ctx := context.Background()
	if _, err := f.eng.SaveWorkflow(ctx, "per-opp", wf); err != nil {
		t.Fatal(err)
	}
	first, err := f.eng.StartRun(ctx, engine.StartRequest{WorkflowID: "per-opp", Trigger: json.RawMessage(`{"opportunityId": "opp-9"}`)})
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.eng.StartRun(ctx, engine.StartRequest{WorkflowID: "per-opp", Trigger: json.RawMessage(`{"opportunityId": "opp-9"}`)})
	if err != nil {
		t.Fatal(err)
	}
	got := f.do(request{Method: http.MethodGet, Path: "/api/v1/runs/" + second.ID}).json(t)
	want := "concurrency: waiting for 1 earlier run(s) of this workflow with key opp-9"
	if got["status"] != "queued" || got["wait_reason"] != want {
		t.Fatalf("queued run's JSON: status %v, wait_reason %v; want queued, %q", got["status"], got["wait_reason"], want)
	}
	for _, id := range []string{first.ID, second.ID} {
		if _, err := f.eng.CancelRun(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.do(request{Method: http.MethodGet, Path: "/api/v1/runs/" + second.ID}).json(t); got["wait_reason"] != nil {
		t.Fatalf("cancelled run still waits: %v", got["wait_reason"])
	}
}

// oneClient gives every connection the same Lever client (so one limiter).
type oneClient struct{ c *client.Client }

func (o oneClient) Client(context.Context, string, string) (*client.Client, error) { return o.c, nil }

// TestLeverThrottleParksAndResumes: with a connection's limiter at one
// request per 1.5s, a second run's Lever step finds the token too far off,
// parks the run with a wait reason (no attempt counted, no worker held)
// and resumes by itself to succeed.
func TestLeverThrottleParksAndResumes(t *testing.T) {
	ctx := context.Background()
	sb := sandbox.New(sandbox.Options{Seed: 7, DisableRateLimit: true})
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	lim := rate.NewLimiter(rate.Every(1500*time.Millisecond), 1)
	c, err := client.New(client.Config{BaseURL: srv.URL + "/v1", APIKey: sb.APIKey(), HTTPClient: srv.Client(), Limiter: lim, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	reg := steps.NewRegistry()
	if err := lever.RegisterWithOptions(reg, oneClient{c}, lever.Options{MaxThrottleWait: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	st, err := gormstore.Open(ctx, gormstore.Config{DSN: filepath.Join(t.TempDir(), "throttle.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	eng, err := engine.New(engine.Options{Store: st, Steps: reg, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Stop(context.Background()) })
	wf, probs := workflow.Parse([]byte(`{"name": "users", "trigger": {"type": "api"},
		"steps": [{"id": "users", "type": "lever.get_users", "connection": "acme", "input": {}}]}`), workflow.ValidateOptions{Steps: reg})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if _, err := eng.SaveWorkflow(ctx, "users", wf); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	first, err := eng.StartRun(ctx, engine.StartRequest{WorkflowID: "users"})
	if err != nil {
		t.Fatal(err)
	}
	if run, err := eng.Wait(wctx, first.ID); err != nil || run.Status != workflow.RunSucceeded {
		t.Fatalf("first run: %v %v", run, err)
	}
	began := time.Now()
	second, err := eng.StartRun(ctx, engine.StartRequest{WorkflowID: "users"})
	if err != nil {
		t.Fatal(err)
	}
	var parked *workflow.Run
	for parked == nil {
		run, err := eng.GetRun(ctx, second.ID)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case run.Status == workflow.RunWaiting:
			parked = run
		case run.Status.Terminal():
			t.Fatalf("the second run finished without parking: %s %s", run.Status, run.Error)
		case wctx.Err() != nil:
			t.Fatal("the second run never parked")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.HasPrefix(parked.WaitReason, "throttled: Lever's rate limit on connection acme, resuming at ") {
		t.Fatalf("parked run's wait reason %q", parked.WaitReason)
	}
	if sr := parked.Steps["users"]; sr == nil || sr.Attempts != 0 || sr.WakeAt == nil {
		t.Fatalf("parked step: %+v; want no attempt counted and a wake time", sr)
	}
	if !errors.Is(steps.Park(lever.ErrThrottled, time.Now(), ""), lever.ErrThrottled) {
		t.Fatal("a parked error does not unwrap to its cause")
	}
	run, err := eng.Wait(wctx, second.ID)
	if err != nil || run.Status != workflow.RunSucceeded {
		t.Fatalf("second run: %v %v", run, err)
	}
	if took := time.Since(began); took < time.Second {
		t.Fatalf("the throttled run finished in %s, before the limiter's next token", took)
	}
	if run.WaitReason != "" || run.Steps["users"].Attempts != 1 {
		t.Fatalf("resumed run: reason %q, attempts %d", run.WaitReason, run.Steps["users"].Attempts)
	}
	if n := c.Stats().Requests; n != 2 {
		t.Fatalf("%d requests reached Lever, want 2 (parking spends no token)", n)
	}
}
