package triggers

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// TestSandboxDeliveryStartsRuns: the sandbox delivers a signed
// candidateStageChange to an HTTP endpoint that calls ReceiveLever; it
// starts one run of each enabled workflow on that trigger and connection,
// and the same delivery again is a 200 duplicate that starts nothing.
func TestSandboxDeliveryStartsRuns(t *testing.T) {
	t.Parallel()
	in := newInbox(t, nil)
	in.workflow("wf-a", "lever.candidate_stage_changed", "acme", true)
	in.workflow("wf-b", "lever.candidate_stage_changed", "acme", true)
	in.workflow("wf-disabled", "lever.candidate_stage_changed", "acme", false)
	in.workflow("wf-other", "lever.candidate_stage_changed", "other", true)
	in.workflow("wf-interview", "lever.interview_created", "acme", true)
	in.start()

	sb := sandbox.New(sandbox.Options{Now: in.clock.Now, Seed: 7, DisableRateLimit: true, WebhookBackoff: time.Millisecond})
	api := httptest.NewServer(sb)
	type answer struct {
		status  int
		receipt Receipt
	}
	answers := make(chan answer, 16)
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, ok := strings.CutPrefix(r.URL.Path, "/hooks/lever/")
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxWebhookBody+1))
		if !ok || err != nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		rc, err := in.rcv.ReceiveLever(r.Context(), "", conn, body)
		status := HTTPStatus(err)
		a := answer{status: status}
		if rc != nil {
			a.receipt = *rc
		}
		answers <- a
		w.WriteHeader(status)
	}))
	t.Cleanup(func() { sb.Close(); api.Close(); hooks.Close() })

	c, err := client.New(client.Config{BaseURL: api.URL + "/v1", APIKey: sb.APIKey(), RateLimit: 1000, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	hook, err := c.CreateWebhook(in.ctx, client.WebhookInput{URL: hooks.URL + "/hooks/lever/acme", Event: client.EventCandidateStageChange})
	if err != nil {
		t.Fatal(err)
	}
	// The connection's secrets are what the sandbox returned.
	in.secrets.set("", "acme", EventCandidateStageChange, hook.Configuration.SignatureToken)

	opp := sb.Opportunities()[0]
	to := sandbox.StagePhone
	if opp.Stage == to {
		to = sandbox.StageOnsite
	}
	if _, err := c.UpdateOpportunityStage(in.ctx, opp.ID, to, sandbox.UserLena); err != nil {
		t.Fatal(err)
	}
	if !sb.WaitIdle(10 * time.Second) {
		t.Fatal("the sandbox did not deliver")
	}
	first := <-answers
	if first.status != http.StatusOK || first.receipt.Duplicate || first.receipt.EventID == "" {
		t.Fatalf("the delivery was answered %+v", first)
	}
	ev := in.waitRouted(first.receipt.EventID)
	runs := in.runs(ev.ID)
	want := []string{RunID(ev.ID, "wf-a", 0, ev.ReceivedAt), RunID(ev.ID, "wf-b", 0, ev.ReceivedAt)}
	if ev.Status != store.EventRouted || !slices.Equal(sorted(ev.RunIDs), sorted(want)) || !slices.Equal(runIDsOf(runs), sorted(want)) {
		t.Fatalf("routed as %+v, runs %v; want %v", ev, runIDsOf(runs), want)
	}
	if ev.Source != store.EventSourceLever || ev.Connection != "acme" || ev.Type != EventCandidateStageChange || !ev.ReceivedAt.Equal(testNow) {
		t.Errorf("stored as %+v", ev)
	}
	deliveries := sb.Deliveries()
	if len(deliveries) != 1 || !bytes.Equal(deliveries[0].Body, ev.Payload) {
		t.Fatalf("the stored payload is not the delivery: %d deliveries", len(deliveries))
	}
	lev, err := ParseLeverWebhook(deliveries[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	if ev.DedupeKey != lev.Token {
		t.Errorf("dedupe key %q, want the token", ev.DedupeKey)
	}
	for _, r := range runs["wf-a"] {
		if r.TriggerType != "lever.candidate_stage_changed" || r.EventID != ev.ID || string(r.Trigger) != string(TriggerData(lev)) {
			t.Errorf("run %s: type %q event %q trigger %s", r.ID, r.TriggerType, r.EventID, r.Trigger)
		}
		var trig map[string]any
		if err := json.Unmarshal(r.Trigger, &trig); err != nil || trig["opportunityId"] != opp.ID || trig["toStageId"] != to {
			t.Errorf("trigger %s: %v", r.Trigger, err)
		}
	}

	// Lever delivers the same body again (a rerun): 200, a duplicate of
	// the first event, no new run.
	resp, err := http.Post(hooks.URL+"/hooks/lever/acme", "application/json", bytes.NewReader(deliveries[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	again := <-answers
	if resp.StatusCode != http.StatusOK || !again.receipt.Duplicate || again.receipt.EventID != ev.ID {
		t.Errorf("the same delivery again: %d %+v", resp.StatusCode, again)
	}
	if got := in.runs(ev.ID); !slices.Equal(runIDsOf(got), sorted(want)) {
		t.Errorf("runs after the duplicate: %v", runIDsOf(got))
	}
	if evs := in.allEvents(); len(evs) != 1 {
		t.Errorf("%d events, want 1", len(evs))
	}
	accepted, dups, rejected := in.metrics.snapshot()
	if !slices.Equal(accepted, []string{"acme"}) || !slices.Equal(dups, []string{"acme"}) || len(rejected) != 0 {
		t.Errorf("metrics: accepted %v duplicates %v rejected %v", accepted, dups, rejected)
	}

	// A tampered copy (another signature) is refused with 401.
	tampered := bytes.Replace(deliveries[0].Body, []byte(lev.Signature), []byte(strings.Repeat("0", 64)), 1)
	resp, err = http.Post(hooks.URL+"/hooks/lever/acme", "application/json", bytes.NewReader(tampered))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	<-answers
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a bad signature was answered %d", resp.StatusCode)
	}
}
