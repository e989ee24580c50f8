package triggers

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// TestSandboxDeliveryVerifies registers a webhook with the sandbox through
// its API, moves a candidate to another stage and checks the delivery the
// sandbox makes against the signature token it returned at registration.
func TestSandboxDeliveryVerifies(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 5, 21, 13, 4, 58, 412e6, time.UTC)
	sb := sandbox.New(sandbox.Options{Now: func() time.Time { return now }, Seed: 7, DisableRateLimit: true, WebhookBackoff: time.Millisecond})
	api := httptest.NewServer(sb)
	bodies := make(chan []byte, 4)
	var attempts atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, MaxWebhookBody+1))
		if err != nil || r.Header.Get("User-Agent") != "Lever-Webhooks" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		bodies <- b
		if attempts.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(func() { sb.Close(); api.Close(); rcv.Close() })

	c, err := client.New(client.Config{BaseURL: api.URL + "/v1", APIKey: sb.APIKey(), RateLimit: 1000, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	hook, err := c.CreateWebhook(ctx, client.WebhookInput{URL: rcv.URL + "/hooks/lever/acme", Event: client.EventCandidateStageChange})
	if err != nil || hook.Configuration.SignatureToken == "" {
		t.Fatalf("register the webhook: %v %+v", err, hook)
	}
	opp := sb.Opportunities()[0]
	to := sandbox.StagePhone
	if opp.Stage == to {
		to = sandbox.StageOnsite
	}
	if _, err := c.UpdateOpportunityStage(ctx, opp.ID, to, sandbox.UserLena); err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for len(got) < 2 {
		select {
		case b := <-bodies:
			got = append(got, b)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d deliveries, want the first and its retry", len(got))
		}
	}
	body := got[1]
	first, err := ParseLeverWebhook(got[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[0], got[1]) || first.DedupeKey() == "" {
		t.Errorf("the retry is not the same delivery:\n%s\n%s", got[0], got[1])
	}

	ev, err := ParseLeverWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyLeverSignature(ev, hook.Configuration.SignatureToken); err != nil {
		t.Errorf("the sandbox's delivery does not verify: %v", err)
	}
	if err := VerifyLeverSignature(ev, fixtureSignatureToken); !errors.Is(err, ErrBadSignature) {
		t.Errorf("verified with another webhook's token: %v", err)
	}
	if err := CheckFreshness(ev, now, 0); err != nil {
		t.Errorf("CheckFreshness at the sandbox's clock: %v", err)
	}
	if err := CheckFreshness(ev, now.Add(DefaultMaxAge+time.Second), 0); !errors.Is(err, ErrStale) {
		t.Errorf("CheckFreshness an hour later: %v", err)
	}
	if got := Match(ev); !slices.Equal(got, []string{"lever.candidate_stage_changed", "lever.candidate_updated"}) {
		t.Errorf("Match = %v", got)
	}
	want := `{"candidateId":"` + opp.ID + `","contactId":"` + opp.Contact + `","event":"candidateStageChange","fromStageId":"` + opp.Stage +
		`","id":"` + ev.ID + `","opportunityId":"` + opp.ID + `","toStageId":"` + to + `","token":"` + ev.Token + `","triggered_at":"2025-05-21T13:04:58.412Z"}`
	if got := string(TriggerData(ev)); got != want {
		t.Errorf("TriggerData =\n%s\nwant\n%s", got, want)
	}
}
