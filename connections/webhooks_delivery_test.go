package connections_test

// An external test: connections sits below triggers, so only a test
// outside the package may check it against the webhook receiver's
// verification (triggers imports nothing of connections).

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/leverflow/leverflow/connections"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
	"github.com/leverflow/leverflow/triggers"
)

// TestWebhookEventsAreTriggers: the default events are exactly the Lever
// events of the webhook-delivered trigger types.
func TestWebhookEventsAreTriggers(t *testing.T) {
	t.Parallel()
	var want []string
	for _, typ := range triggers.Types() {
		if typ.Delivery == triggers.DeliveryWebhook || typ.Delivery == triggers.DeliveryWebhookPoll {
			want = append(want, typ.LeverEvents...)
		}
	}
	want = slices.Compact(slices.Sorted(slices.Values(want)))
	got := slices.Sorted(slices.Values(connections.WebhookEvents))
	if !slices.Equal(got, want) {
		t.Fatalf("WebhookEvents = %v, triggers' webhook events are %v", got, want)
	}
}

// TestWebhookDeliveryVerifies registers every event for a connection to
// the sandbox, moves a candidate to another stage there, and checks the
// delivery reaching the receiver verifies with the token WebhookSecrets
// gives for its event.
func TestWebhookDeliveryVerifies(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sb := sandbox.New(sandbox.Options{Seed: 1, DisableRateLimit: true})
	t.Cleanup(sb.Close)
	lever := httptest.NewServer(sb)
	t.Cleanup(lever.Close)
	st, err := gormstore.Open(ctx, gormstore.Config{DSN: filepath.Join(t.TempDir(), "leverflow.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	app := sb.OAuthClient()
	m, err := connections.New(connections.Config{
		Store: st,
		Key:   make([]byte, 32),
		Environments: map[string]connections.Environment{
			connections.EnvLocal: connections.LocalEnvironment(lever.URL, app.ID, app.Secret, sb.APIKey()),
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreateAPIKey(ctx, connections.APIKeyRequest{Name: "acme", Environment: connections.EnvLocal}); err != nil {
		t.Fatal(err)
	}

	type result struct {
		event string
		err   error
	}
	got := make(chan result, 16)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := triggers.ParseLeverWebhook(body)
		if err != nil {
			got <- result{err: err}
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		tokens, err := m.WebhookSecrets(r.Context(), "", r.PathValue("name"))
		if err == nil {
			err = triggers.VerifyLeverSignature(ev, tokens[ev.Event])
		}
		got <- result{ev.Event, err}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	}))
	t.Cleanup(receiver.Close)
	mux := http.NewServeMux()
	mux.Handle("POST /hooks/lever/{name}", receiver.Config.Handler)
	receiver.Config.Handler = mux

	if _, err := m.RegisterWebhooks(ctx, "", "acme", receiver.URL+"/hooks/lever/acme", nil); err != nil {
		t.Fatal(err)
	}
	cl, err := m.Client(ctx, "", "acme")
	if err != nil {
		t.Fatal(err)
	}
	page, err := cl.OpportunitiesPage(ctx, client.ListOpportunitiesParams{ListOptions: client.ListOptions{Limit: 1}})
	if err != nil || len(page.Data) == 0 {
		t.Fatalf("no opportunity in the sandbox: %v", err)
	}
	stage := sandbox.StagePhone
	if page.Data[0].Stage.ID == stage {
		stage = sandbox.StageOnsite
	}
	if _, err := cl.UpdateOpportunityStage(ctx, page.Data[0].ID, stage, sandbox.UserLena); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r.err != nil || r.event != client.EventCandidateStageChange {
			t.Fatalf("delivery of %q: %v", r.event, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery reached the receiver")
	}
	if !sb.WaitIdle(5 * time.Second) {
		t.Fatal("the sandbox kept delivering")
	}
	for _, d := range sb.Deliveries() {
		if !d.OK() {
			t.Errorf("delivery of %s answered %d", d.Event, d.StatusCode)
		}
	}
}
