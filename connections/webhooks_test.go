package connections

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

const testReceiver = "http://127.0.0.1:9/hooks/lever/acme"

// sandboxHooks returns the sandbox's webhooks at url by event (failing on
// a duplicate event).
func (f *fixture) sandboxHooks(url string) map[string]sandbox.Webhook {
	f.t.Helper()
	out := map[string]sandbox.Webhook{}
	for _, w := range f.lever.sb.Webhooks() {
		if w.URL != url {
			continue
		}
		if _, dup := out[w.Event]; dup {
			f.t.Errorf("the sandbox has two %s webhooks at %s", w.Event, url)
		}
		out[w.Event] = w
	}
	return out
}

// checkHooks checks that the sandbox delivers exactly events to url, and
// that the manager's tokens and view match the sandbox's webhooks.
func (f *fixture) checkHooks(m *Manager, url string, events []string) {
	f.t.Helper()
	ctx := f.t.Context()
	hooks := f.sandboxHooks(url)
	if got := slices.Sorted(maps.Keys(hooks)); !slices.Equal(got, slices.Sorted(slices.Values(events))) {
		f.t.Fatalf("the sandbox delivers %v to %s, want %v", got, url, events)
	}
	tokens, err := m.WebhookSecrets(ctx, "", "acme")
	if err != nil {
		f.t.Fatal(err)
	}
	if len(tokens) != len(events) {
		f.t.Errorf("WebhookSecrets has %d tokens, want %d", len(tokens), len(events))
	}
	for event, w := range hooks {
		if tokens[event] != w.Configuration.SignatureToken {
			f.t.Errorf("the token of %s is not the sandbox's", event)
		}
	}
	c, err := m.Get(ctx, "", "acme")
	if err != nil {
		f.t.Fatal(err)
	}
	if len(events) == 0 {
		if c.Webhooks != nil {
			f.t.Errorf("the view still has webhooks: %+v", c.Webhooks)
		}
		return
	}
	if c.Webhooks == nil || c.Webhooks.URL != url || len(c.Webhooks.Events) != len(events) {
		f.t.Fatalf("the view's webhooks are %+v, want %d events at %s", c.Webhooks, len(events), url)
	}
	for _, e := range c.Webhooks.Events {
		if hooks[e.Event].ID != e.ID || e.CreatedAt.IsZero() {
			f.t.Errorf("the view's %s webhook is %+v, the sandbox's %s", e.Event, e, hooks[e.Event].ID)
		}
	}
}

func (f *fixture) apiKeyConnection() {
	f.t.Helper()
	if _, err := f.m.CreateAPIKey(f.t.Context(), APIKeyRequest{Name: "acme", Environment: EnvLocal}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) leverClient() *client.Client {
	f.t.Helper()
	cl, err := client.New(client.Config{BaseURL: f.lever.srv.URL + "/v1", APIKey: testAPIKey, HTTPClient: f.lever.srv.Client()})
	if err != nil {
		f.t.Fatal(err)
	}
	return cl
}

func TestRegisterWebhooksIdempotent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	f.apiKeyConnection()
	set, err := f.m.RegisterWebhooks(ctx, "", "acme", testReceiver, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Events) != len(WebhookEvents) || set.URL != testReceiver {
		t.Fatalf("RegisterWebhooks = %+v, want every event", set)
	}
	f.checkHooks(f.m, testReceiver, WebhookEvents)
	before := f.lever.sb.Webhooks()

	again, err := f.m.RegisterWebhooks(ctx, "", "acme", testReceiver, nil)
	if err != nil {
		t.Fatal(err)
	}
	if after := f.lever.sb.Webhooks(); len(after) != len(before) {
		t.Fatalf("registering again: the sandbox has %d webhooks, had %d", len(after), len(before))
	}
	for i, e := range again.Events {
		if e != set.Events[i] {
			t.Errorf("registering again changed %s: %+v, was %+v", e.Event, e, set.Events[i])
		}
	}
	f.checkHooks(f.m, testReceiver, WebhookEvents)
}

func TestRegisterWebhooksReconciles(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	f.apiKeyConnection()
	cl := f.leverClient()
	// Someone else's webhook at another URL is never touched.
	foreign, err := cl.CreateWebhook(ctx, client.WebhookInput{URL: "http://127.0.0.1:9/elsewhere", Event: client.EventCandidateHired})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.RegisterWebhooks(ctx, "", "acme", testReceiver, []string{client.EventCandidateStageChange, client.EventContactCreated}); err != nil {
		t.Fatal(err)
	}
	kept := f.sandboxHooks(testReceiver)[client.EventCandidateStageChange]
	// A webhook at the receiver whose token we never held (a crash after
	// creating it, a registration by hand) is deleted and replaced.
	unheld, err := cl.CreateWebhook(ctx, client.WebhookInput{URL: testReceiver, Event: client.EventApplicationCreated})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		url    string
		events []string
	}{
		{"fewer events, one added", testReceiver, []string{client.EventCandidateStageChange, client.EventApplicationCreated}},
		{"duplicate events given", testReceiver, []string{client.EventCandidateStageChange, client.EventCandidateStageChange}},
		{"another receiver", testReceiver + "2", []string{client.EventCandidateStageChange}},
		{"every event", testReceiver, nil},
	}
	for _, tt := range tests {
		if _, err := f.m.RegisterWebhooks(ctx, "", "acme", tt.url, tt.events); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		want := tt.events
		if want == nil {
			want = WebhookEvents
		}
		f.checkHooks(f.m, tt.url, slices.Compact(slices.Clone(want)))
		for _, w := range f.lever.sb.Webhooks() {
			if w.URL != tt.url && w.ID != foreign.ID {
				t.Errorf("%s: webhook %s (%s at %s) was left behind", tt.name, w.ID, w.Event, w.URL)
			}
			if w.ID == unheld.ID {
				t.Errorf("%s: the unheld webhook was kept", tt.name)
			}
		}
		if tt.name == "duplicate events given" && f.sandboxHooks(testReceiver)[client.EventCandidateStageChange].ID != kept.ID {
			t.Errorf("%s: the held stage change webhook was replaced", tt.name)
		}
	}
	if err := f.m.UnregisterWebhooks(ctx, "", "acme"); err != nil {
		t.Fatal(err)
	}
	f.checkHooks(f.m, testReceiver, nil)
	if got := f.lever.sb.Webhooks(); len(got) != 1 || got[0].ID != foreign.ID {
		t.Fatalf("after unregistering the sandbox has %+v, want only the foreign webhook", got)
	}
	// Unregistering again (and a connection with none) is a no-op.
	if err := f.m.UnregisterWebhooks(ctx, "", "acme"); err != nil {
		t.Fatal(err)
	}
}

func TestWebhooksInvalid(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	f.apiKeyConnection()
	tests := []struct {
		name, conn, url string
		events          []string
		want            error
	}{
		{"unknown event", "acme", testReceiver, []string{"candidateCreated"}, ErrInvalid},
		{"relative URL", "acme", "/hooks/lever/acme", nil, ErrInvalid},
		{"ftp URL", "acme", "ftp://example.com/hooks", nil, ErrInvalid},
		{"bad name", "Acme!", testReceiver, nil, ErrInvalid},
		{"unknown connection", "nope", testReceiver, nil, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.m.RegisterWebhooks(ctx, "", tt.conn, tt.url, tt.events)
			if !errors.Is(err, tt.want) {
				t.Fatalf("RegisterWebhooks = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := f.m.WebhookSecrets(ctx, "", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("WebhookSecrets of an unknown connection = %v, want ErrNotFound", err)
	}
	if err := f.m.UnregisterWebhooks(ctx, "", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("UnregisterWebhooks of an unknown connection = %v, want ErrNotFound", err)
	}
	tokens, err := f.m.WebhookSecrets(ctx, "", "acme")
	if err != nil || tokens == nil || len(tokens) != 0 {
		t.Errorf("WebhookSecrets with none registered = %v, %v; want an empty map", tokens, err)
	}
	if n := len(f.lever.sb.Webhooks()); n != 0 {
		t.Errorf("refused registrations left %d webhooks", n)
	}
}

// TestRegisterWebhooksConcurrent runs registrations at once in one
// process and in two (two Managers on one SQLite file): no duplicates in
// Lever, and every token the store keeps is the one Lever signs with.
func TestRegisterWebhooksConcurrent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.apiKeyConnection()
	other := f.manager(openStore(t, f.dbPath), nil)
	managers := []*Manager{f.m, f.m, other, other}
	var wg sync.WaitGroup
	errs := make([]error, len(managers))
	for i, m := range managers {
		wg.Go(func() {
			_, errs[i] = m.RegisterWebhooks(t.Context(), "", "acme", testReceiver, nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("registration %d: %v", i, err)
		}
	}
	if n := len(f.lever.sb.Webhooks()); n != len(WebhookEvents) {
		t.Errorf("the sandbox has %d webhooks, want %d", n, len(WebhookEvents))
	}
	f.checkHooks(f.m, testReceiver, WebhookEvents)
	f.checkHooks(other, testReceiver, WebhookEvents)
	if p := readPublic(mustConn(t, f)); p.WebhookClaimOwner != "" || p.WebhookClaimUntil != nil {
		t.Errorf("a webhook claim was left behind: %q", p.WebhookClaimOwner)
	}
}

func mustConn(t *testing.T, f *fixture) *store.Connection {
	t.Helper()
	c, err := f.store.GetConnection(t.Context(), "", "acme")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWebhooksKeepTokenRefresh interleaves a registration and an OAuth
// token refresh both ways: the stored secrets end with the refreshed
// tokens and every webhook token.
func TestWebhooksKeepTokenRefresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// during installs the interleaving: it runs the other change in
		// the middle of the first.
		during func(f *fixture, second *Manager)
		first  func(f *fixture) error
	}{
		{
			name: "refresh during registration",
			during: func(f *fixture, second *Manager) {
				hook := func(r *http.Request) bool {
					if r.Method != http.MethodPost || r.URL.Path != "/v1/webhooks" {
						return false
					}
					f.clock.Advance(56 * time.Minute) // the access token is due for refresh
					if _, err := second.TokenSource("", "acme")(f.t.Context()); err != nil {
						f.t.Errorf("refresh: %v", err)
					}
					return true
				}
				f.lever.beforeAPI.Store(&hook)
			},
			first: func(f *fixture) error {
				_, err := f.m.RegisterWebhooks(f.t.Context(), "", "acme", testReceiver, nil)
				return err
			},
		},
		{
			name: "registration during refresh",
			during: func(f *fixture, second *Manager) {
				hook := func() {
					if _, err := second.RegisterWebhooks(f.t.Context(), "", "acme", testReceiver, nil); err != nil {
						f.t.Errorf("register: %v", err)
					}
				}
				f.lever.beforeRefresh.Store(&hook)
			},
			// A forced refresh (Lever refused the access token), so the
			// registration's calls still work with the old one.
			first: func(f *fixture) error {
				_, err := f.m.accessToken(f.t.Context(), connKey{"", "acme"}, "", f.storedSecrets(f.m, "", "acme").AccessToken)
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
			second := f.manager(openStore(t, f.dbPath), nil)
			before := f.storedSecrets(f.m, "", "acme")
			tt.during(f, second)
			if err := tt.first(f); err != nil {
				t.Fatal(err)
			}
			after := f.storedSecrets(f.m, "", "acme")
			if f.lever.refreshes.Load() != 1 || after.RefreshToken == before.RefreshToken || after.AccessToken == before.AccessToken {
				t.Fatalf("%d refreshes; the stored tokens are not the refreshed ones", f.lever.refreshes.Load())
			}
			f.checkHooks(f.m, testReceiver, WebhookEvents)
			// The stored refresh token is the live one: another refresh works.
			f.clock.Advance(56 * time.Minute)
			if _, err := second.TokenSource("", "acme")(t.Context()); err != nil {
				t.Fatalf("refreshing with the stored token: %v", err)
			}
			f.checkHooks(second, testReceiver, WebhookEvents)
		})
	}
}

func TestDeleteUnregistersWebhooks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		leverFails  bool
		wantInLever int
	}{
		{"Lever answers", false, 0},
		{"Lever refuses: deleted anyway", true, len(WebhookEvents)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			ctx := t.Context()
			f.apiKeyConnection()
			if _, err := f.m.RegisterWebhooks(ctx, "", "acme", testReceiver, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := f.m.WebhookSecrets(ctx, "", "acme"); err != nil { // fill the cache
				t.Fatal(err)
			}
			f.lever.apiUnauthorized.Store(tt.leverFails)
			if err := f.m.Delete(ctx, "", "acme"); err != nil {
				t.Fatal(err)
			}
			if n := len(f.lever.sb.Webhooks()); n != tt.wantInLever {
				t.Errorf("the sandbox has %d webhooks after the delete, want %d", n, tt.wantInLever)
			}
			if _, err := f.m.WebhookSecrets(ctx, "", "acme"); !errors.Is(err, ErrNotFound) {
				t.Errorf("WebhookSecrets after the delete = %v, want ErrNotFound", err)
			}
			if warned := strings.Contains(f.logs.String(), "could not unregister"); warned != tt.leverFails {
				t.Errorf("warned about unregistering: %v, want %v", warned, tt.leverFails)
			}
		})
	}
}

// TestWebhookSecretsCache checks the cache follows this process's changes
// at once and other processes' within webhookCacheTTL.
func TestWebhookSecretsCache(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	f.apiKeyConnection()
	other := f.manager(openStore(t, f.dbPath), nil)
	if _, err := f.m.RegisterWebhooks(ctx, "", "acme", testReceiver, []string{client.EventCandidateHired}); err != nil {
		t.Fatal(err)
	}
	first, _ := f.m.WebhookSecrets(ctx, "", "acme")
	first[client.EventCandidateHired] = "changed by the caller"
	if again, _ := f.m.WebhookSecrets(ctx, "", "acme"); again[client.EventCandidateHired] == "changed by the caller" {
		t.Fatal("WebhookSecrets returned the cache itself")
	}
	if _, err := other.RegisterWebhooks(ctx, "", "acme", testReceiver, []string{client.EventContactCreated}); err != nil {
		t.Fatal(err)
	}
	if stale, _ := f.m.WebhookSecrets(ctx, "", "acme"); len(stale) != 1 || stale[client.EventCandidateHired] == "" {
		t.Fatalf("within the TTL the cache is %v, want the old token", slices.Collect(maps.Keys(stale)))
	}
	f.clock.Advance(webhookCacheTTL)
	f.checkHooks(f.m, testReceiver, []string{client.EventContactCreated})
	if err := f.m.UnregisterWebhooks(ctx, "", "acme"); err != nil {
		t.Fatal(err)
	}
	f.checkHooks(f.m, testReceiver, nil) // at once: this process's change
}

// TestWebhookTokensNotInClear registers, reregisters and unregisters
// webhooks, then searches the SQLite file, its WAL, the logs and the views
// for any signature token the sandbox issued.
func TestWebhookTokensNotInClear(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	f.apiKeyConnection()
	var tokens []string
	collect := func() {
		for _, w := range f.lever.sb.Webhooks() {
			tokens = append(tokens, w.Configuration.SignatureToken)
		}
	}
	if _, err := f.m.RegisterWebhooks(ctx, "", "acme", testReceiver, nil); err != nil {
		t.Fatal(err)
	}
	collect()
	set, err := f.m.RegisterWebhooks(ctx, "", "acme", testReceiver+"2", []string{client.EventCandidateHired})
	if err != nil {
		t.Fatal(err)
	}
	collect()
	if _, err := f.m.WebhookSecrets(ctx, "", "acme"); err != nil {
		t.Fatal(err)
	}
	c, err := f.m.Get(ctx, "", "acme")
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.m.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	views, _ := json.Marshal([]any{c, list, set})
	if !bytes.Contains(views, []byte(testReceiver+"2")) {
		t.Fatal("the views do not show the webhooks at all")
	}
	if err := f.m.UnregisterWebhooks(ctx, "", "acme"); err != nil {
		t.Fatal(err)
	}
	places := map[string][]byte{"logs": []byte(f.logs.String()), "views": views}
	for _, suffix := range []string{"", "-wal"} {
		raw, err := os.ReadFile(f.dbPath + suffix)
		if err != nil {
			t.Fatal(err)
		}
		places["database"+suffix] = raw
	}
	if !strings.Contains(f.logs.String(), "Lever webhooks registered") {
		t.Fatal("the logs do not mention the registration")
	}
	if len(tokens) != len(WebhookEvents)+1 {
		t.Fatalf("collected %d tokens", len(tokens))
	}
	for _, tok := range tokens {
		if len(tok) < 16 {
			t.Fatalf("token %q is too short to search for", tok)
		}
		for where, data := range places {
			for _, form := range []string{tok, jsonEscaped(tok)} {
				if bytes.Contains(data, []byte(form)) {
					t.Errorf("%s holds a signature token in clear", where)
				}
			}
		}
	}
	var rec recorder
	s := secrets{Webhooks: map[string]webhookSecret{"candidateHired": {ID: "w1", Token: tokens[0]}}}
	slog.New(&rec).Info("x", "s", s)
	for _, r := range rec.at(slog.LevelInfo) {
		r.Attrs(func(a slog.Attr) bool {
			if strings.Contains(a.Value.Resolve().String(), tokens[0]) {
				t.Error("a logged secrets value shows a signature token")
			}
			return true
		})
	}
}

// BenchmarkWebhookSecrets is the receiver's token lookup for every
// delivery: cached (a map copy) and uncached (a SQLite read, an AES-GCM
// open and a JSON decode).
func BenchmarkWebhookSecrets(b *testing.B) {
	f := setup(b)
	ctx := b.Context()
	if _, err := f.m.CreateAPIKey(ctx, APIKeyRequest{Name: "acme", Environment: EnvLocal}); err != nil {
		b.Fatal(err)
	}
	if _, err := f.m.RegisterWebhooks(ctx, "", "acme", testReceiver, nil); err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.m.WebhookSecrets(ctx, "", "acme"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		k := connKey{"", "acme"}
		for b.Loop() {
			f.m.forgetWebhooks(k)
			if _, err := f.m.WebhookSecrets(ctx, "", "acme"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
