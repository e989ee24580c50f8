package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/api"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// hookSetup connects "acme", registers its Lever webhooks in the sandbox
// at this API's /hooks/lever/acme, and saves and enables a workflow on
// candidate stage changes.
func hookSetup(t *testing.T) *fixture {
	t.Helper()
	f := setup(t)
	f.createConnection("acme")
	if _, err := f.conns.RegisterWebhooks(t.Context(), "", "acme", f.url+"/hooks/lever/acme", nil); err != nil {
		t.Fatalf("registering the webhooks: %v", err)
	}
	f.saveWorkflow("moved", leverWorkflow)
	f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/moved/enable"})
	return f
}

// moveCandidate changes an opportunity's stage in the sandbox through the
// connection's Lever client, and returns the delivery the sandbox made.
func (f *fixture) moveCandidate() (oppID string, d sandbox.Delivery) {
	f.t.Helper()
	cl, err := f.conns.Client(f.t.Context(), "", "acme")
	if err != nil {
		f.t.Fatal(err)
	}
	opp := f.sb.Opportunities()[0]
	to := sandbox.StagePhone
	if opp.Stage == to {
		to = sandbox.StageOnsite
	}
	if _, err := cl.UpdateOpportunityStage(f.t.Context(), opp.ID, to, sandbox.UserLena); err != nil {
		f.t.Fatal(err)
	}
	if !f.sb.WaitIdle(10 * time.Second) {
		f.t.Fatal("the sandbox's deliveries did not finish")
	}
	for _, d := range f.sb.Deliveries() {
		if d.Event == "candidateStageChange" && d.OK() {
			return opp.ID, d
		}
	}
	f.t.Fatalf("no delivery was accepted: %+v", f.sb.Deliveries())
	return "", sandbox.Delivery{}
}

// eventDetail reads GET /events/:id once its runs have finished.
func (f *fixture) finishedEvent(id string) map[string]any {
	f.t.Helper()
	var ev map[string]any
	f.eventually("event "+id+" routed and its runs finished", func() bool {
		ev = f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/events/" + id, Token: readerToken}).json(f.t)
		runs, _ := ev["runs"].([]any)
		if ev["status"] != "routed" || len(runs) == 0 {
			return false
		}
		for _, r := range runs {
			if st := r.(map[string]any)["status"]; st != "succeeded" && st != "failed" {
				return false
			}
		}
		return true
	})
	return ev
}

func TestLeverWebhookStartsRun(t *testing.T) {
	t.Parallel()
	f := hookSetup(t)
	oppID, d := f.moveCandidate()

	// The sandbox's delivery was answered with the event id.
	events := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/events?connection=acme"}).json(t)["events"].([]any)
	if len(events) != 1 {
		t.Fatalf("%d events, want 1: %v", len(events), events)
	}
	id := events[0].(map[string]any)["id"].(string)
	ev := f.finishedEvent(id)
	if ev["type"] != "candidateStageChange" || ev["source"] != "lever" || ev["payload"].(map[string]any)["event"] != "candidateStageChange" {
		t.Errorf("event: %v", ev)
	}
	runs := ev["runs"].([]any)
	run := runs[0].(map[string]any)
	if len(runs) != 1 || run["workflow_id"] != "moved" || run["status"] != "succeeded" {
		t.Fatalf("runs: %v", runs)
	}
	got := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/runs/" + run["id"].(string)}).json(t)
	if out := got["steps"].(map[string]any)["seen"].(map[string]any)["output"].(map[string]any); out["opp"] != oppID {
		t.Errorf("the run did not see the opportunity: %v", out)
	}

	// Lever delivering the same body again is a duplicate: same event, no
	// new run.
	r := f.must(http.StatusOK, request{Method: "POST", Path: "/hooks/lever/acme", Body: d.Body, Token: "-"}).json(t)
	if r["event_id"] != id || r["duplicate"] != true {
		t.Errorf("repeat: %v", r)
	}
	if n := f.runCount(); n != 1 {
		t.Errorf("%d runs after a duplicate, want 1", n)
	}

	// A bad signature is 401 with nothing written and nothing stored.
	var body map[string]any
	if err := json.Unmarshal(d.Body, &body); err != nil {
		t.Fatal(err)
	}
	body["token"] = strings.Repeat("z", 48)
	forged, _ := json.Marshal(body)
	bad := f.do(request{Method: "POST", Path: "/hooks/lever/acme", Body: forged, Token: "-"})
	if bad.status != http.StatusUnauthorized || len(bad.body) != 0 || bad.header.Get("WWW-Authenticate") != "" {
		t.Errorf("forged delivery: %d %v %q", bad.status, bad.header, bad.body)
	}
	if n := len(f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/events"}).json(t)["events"].([]any)); n != 1 {
		t.Errorf("%d events after a forged delivery, want 1", n)
	}
	if n := f.runCount(); n != 1 {
		t.Errorf("%d runs after a forged delivery, want 1", n)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, `"msg":"Lever webhook accepted"`) || !strings.Contains(logs, `"msg":"Lever webhook duplicate"`) ||
		!strings.Contains(logs, `"msg":"Lever webhook rejected"`) || strings.Contains(logs, body["signature"].(string)) {
		t.Errorf("webhook log lines missing, or holding the signature")
	}

	// Metrics after a run and webhooks.
	m := string(f.must(http.StatusOK, request{Method: "GET", Path: "/metrics", Token: "-"}).body)
	for _, want := range []string{
		`leverflow_runs_finished_total{status="succeeded",workflow_id="moved"} 1`,
		`leverflow_step_duration_seconds_count{status="succeeded",type="transform"} 1`,
		`leverflow_queue_depth 0`,
		`leverflow_webhooks_total{connection="acme",reason="",result="accepted"} 1`,
		`leverflow_webhooks_total{connection="acme",reason="",result="duplicate"} 1`,
		`leverflow_webhooks_total{connection="acme",reason="bad_signature",result="rejected"} 1`,
		`leverflow_http_requests_total{method="POST",route="/hooks/lever/:connection",status="200"} 2`,
		`leverflow_http_request_duration_seconds_count{method="GET",route="/api/v1/events/:id"}`,
		`leverflow_lever_requests_total{status="200"}`,
		`leverflow_lever_rate_limit_waits_total `,
		`go_goroutines `,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestLeverWebhookErrors(t *testing.T) {
	t.Parallel()
	f := hookSetup(t)
	for _, tc := range []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"unknown connection", "/hooks/lever/nope", `{"event": "candidateHired", "triggeredAt": 1, "token": "t", "signature": "00", "data": {}}`, http.StatusNotFound, api.CodeNotFound},
		{"malformed", "/hooks/lever/acme", `{"event": 7}`, http.StatusBadRequest, api.CodeBadRequest},
		{"not JSON", "/hooks/lever/acme", `nope`, http.StatusBadRequest, api.CodeBadRequest},
		{"too large", "/hooks/lever/acme", bytes.Repeat([]byte("x"), 1<<20+1), http.StatusRequestEntityTooLarge, api.CodePayloadTooLarge},
		{"too large, chunked", "/hooks/lever/acme", bytes.NewReader(bytes.Repeat([]byte(" "), 1<<20+1)), http.StatusRequestEntityTooLarge, api.CodePayloadTooLarge},
		{"stale", "/hooks/lever/acme", staleDelivery(f), http.StatusUnauthorized, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(request{Method: "POST", Path: tc.path, Body: tc.body, Token: "-"})
			if r.status != tc.status {
				t.Fatalf("%d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code == "" {
				if len(r.body) != 0 {
					t.Errorf("a 401 with a body: %s", r.body)
				}
				return
			}
			if code, _ := r.errorCode(t); code != tc.code {
				t.Errorf("code %s, want %s", code, tc.code)
			}
		})
	}
	if n := len(f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/events"}).json(t)["events"].([]any)); n != 0 {
		t.Errorf("%d events stored from refused deliveries", n)
	}
	m := string(f.must(http.StatusOK, request{Method: "GET", Path: "/metrics", Token: "-"}).body)
	for _, want := range []string{
		`leverflow_webhooks_total{connection="",reason="too_large",result="rejected"} 2`,
		`leverflow_webhooks_total{connection="",reason="unknown_connection",result="rejected"} 1`,
		`leverflow_webhooks_total{connection="acme",reason="stale",result="rejected"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// staleDelivery is a correctly signed delivery triggered two hours ago.
func staleDelivery(f *fixture) []byte {
	f.t.Helper()
	secrets, err := f.conns.WebhookSecrets(f.t.Context(), "", "acme")
	if err != nil {
		f.t.Fatal(err)
	}
	at := time.Now().Add(-2 * time.Hour).UnixMilli()
	token := strings.Repeat("s", 48)
	body, _ := json.Marshal(sandbox.WebhookBody{Event: "candidateHired", TriggeredAt: at, Token: token,
		Signature: sandbox.Sign(secrets["candidateHired"], token, at), Data: map[string]any{"opportunityId": "x"}})
	return body
}

func TestEventsListAndReplay(t *testing.T) {
	t.Parallel()
	f := hookSetup(t)
	f.moveCandidate()
	f.moveCandidate()
	var ids []string
	f.eventually("two events", func() bool {
		list := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/events"}).json(t)["events"].([]any)
		ids = ids[:0]
		for _, e := range list {
			ids = append(ids, e.(map[string]any)["id"].(string))
		}
		return len(ids) == 2
	})
	newest := f.finishedEvent(ids[0])
	f.finishedEvent(ids[1])

	// Paging and filters.
	p := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/events?limit=1", Token: readerToken}).json(t)
	if evs := p["events"].([]any); len(evs) != 1 || evs[0].(map[string]any)["id"] != ids[0] || p["next"] != ids[0] {
		t.Errorf("first page: %v", p)
	}
	p = f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/events?limit=1&after=" + ids[0]}).json(t)
	if evs := p["events"].([]any); len(evs) != 1 || evs[0].(map[string]any)["id"] != ids[1] || p["next"] != nil {
		t.Errorf("second page: %v", p)
	}
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"?type=candidateStageChange&status=routed&source=lever", 2},
		{"?type=candidateHired", 0},
		{"?status=failed", 0},
		{"?connection=other", 0},
		{"?since=" + since, 2},
		{"?until=" + since, 0},
	} {
		if n := len(f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/events" + tc.query}).json(t)["events"].([]any)); n != tc.want {
			t.Errorf("events%s: %d, want %d", tc.query, n, tc.want)
		}
	}
	for _, q := range []string{"?status=lost", "?since=yesterday", "?limit=0", "?since=" + since + "&until=" + since} {
		r := f.do(request{Method: "GET", Path: "/api/v1/events" + q})
		if code, _ := r.errorCode(t); r.status != http.StatusBadRequest || code != api.CodeBadRequest {
			t.Errorf("events%s: %d %s", q, r.status, r.body)
		}
	}
	if r := f.do(request{Method: "GET", Path: "/api/v1/events/nope"}); r.status != http.StatusNotFound {
		t.Errorf("missing event: %d", r.status)
	}

	// Replay one event: a new run of the enabled workflow.
	before := f.runCount()
	if r := f.do(request{Method: "POST", Path: "/api/v1/events/" + ids[0] + "/replay", Token: readerToken}); r.status != http.StatusForbidden {
		t.Errorf("reader replay: %d", r.status)
	}
	rep := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/events/" + ids[0] + "/replay"}).json(t)
	newRuns := rep["new_run_ids"].([]any)
	if len(newRuns) != 1 || rep["replays"].(float64) != 1 || len(rep["runs"].([]any)) != 2 || len(newest["runs"].([]any)) != 1 {
		t.Errorf("replay: %v", rep)
	}
	if n := f.runCount(); n != before+1 {
		t.Errorf("%d runs after a replay, want %d", n, before+1)
	}
	if r := f.do(request{Method: "POST", Path: "/api/v1/events/nope/replay"}); r.status != http.StatusNotFound {
		t.Errorf("replay of a missing event: %d %s", r.status, r.body)
	}

	// Replay by filter.
	res := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/events/replay", Body: `{"connection": "acme", "type": "candidateStageChange", "max": 5}`}).json(t)
	if res["replayed"].(float64) != 2 {
		t.Errorf("replayed: %v", res)
	}
	res = f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/events/replay", Body: `{"connection": "acme", "max": 1}`}).json(t)
	if res["replayed"].(float64) != 1 {
		t.Errorf("replayed with max 1: %v", res)
	}
	if n := f.runCount(); n != before+4 {
		t.Errorf("%d runs after replays, want %d", n, before+4)
	}
	for _, body := range []string{`{"max": 0}`, `{"max": 1001}`, `{"status": "pending"}`, `{"status": "lost"}`, `{"since": "soon"}`, `{"filter": {}}`} {
		r := f.do(request{Method: "POST", Path: "/api/v1/events/replay", Body: body})
		if code, _ := r.errorCode(t); r.status != http.StatusBadRequest || code != api.CodeBadRequest {
			t.Errorf("replay %s: %d %s", body, r.status, r.body)
		}
	}
	if n := f.runCount(); n != before+4 {
		t.Errorf("refused replays started runs: %d", n)
	}
}

func TestNoInbox(t *testing.T) {
	t.Parallel()
	f := setupWith(t, fixtureOptions{noInbox: true})
	for _, req := range []request{
		{Method: "POST", Path: "/hooks/lever/acme", Body: `{}`, Token: "-"},
		{Method: "POST", Path: "/api/v1/events/x/replay"},
		{Method: "POST", Path: "/api/v1/events/replay", Body: `{}`},
	} {
		r := f.do(req)
		code, msg := r.errorCode(t)
		if r.status != http.StatusServiceUnavailable || code != api.CodeUnavailable || !strings.Contains(msg, "without an event inbox") {
			t.Errorf("%s %s: %d %s", req.Method, req.Path, r.status, r.body)
		}
	}
}

func TestTriggerTypes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	list := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/trigger-types", Token: readerToken}).json(t)["trigger_types"].([]any)
	found := map[string]map[string]any{}
	for _, x := range list {
		tt := x.(map[string]any)
		found[tt["type"].(string)] = tt
	}
	stage := found["lever.candidate_stage_changed"]
	if len(list) < 10 || found["api"] == nil || stage == nil || stage["data"] == nil || stage["example"] == nil || stage["needs_connection"] != true {
		t.Errorf("trigger types: %v", list)
	}
	if r := f.do(request{Method: "GET", Path: "/api/v1/trigger-types", Token: "-"}); r.status != http.StatusUnauthorized {
		t.Errorf("without a token: %d", r.status)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	f := setup(t)
	h := f.must(http.StatusOK, request{Method: "GET", Path: "/healthz", Token: "-"}).json(t)
	if checks := h["checks"].(map[string]any); h["status"] != "ok" || checks["database"] != "ok" || checks["engine"] != "ok" {
		t.Errorf("healthz: %v", h)
	}
	f.saveWorkflow("slow", slowWorkflow)
	f.must(http.StatusAccepted, request{Method: "POST", Path: "/api/v1/workflows/slow/runs"})
	r := f.must(http.StatusOK, request{Method: "GET", Path: "/metrics", Token: "-"})
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	for _, want := range []string{"# TYPE leverflow_queue_depth gauge", "leverflow_queue_depth ", `leverflow_http_requests_total{method="GET",route="/healthz",status="200"} 1`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A stopped engine is unhealthy: 503 with the reason.
	if err := f.eng.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	r = f.must(http.StatusServiceUnavailable, request{Method: "GET", Path: "/healthz", Token: "-"})
	if h := r.json(t); h["status"] != "unavailable" || !strings.Contains(h["reason"].(string), "stopped") {
		t.Errorf("unhealthy: %s", r.body)
	}
}
