package connections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

func TestRefreshOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	before := f.storedSecrets(f.m, "", "acme")
	cl, err := f.m.Client(ctx, "", "acme")
	if err != nil {
		t.Fatal(err)
	}

	f.clock.Advance(56 * time.Minute) // within RefreshBefore of the 1 h expiry
	const callers = 100
	tokens := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			tokens[i], errs[i] = f.m.TokenSource("", "acme")(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if tokens[i] != tokens[0] {
			t.Fatalf("caller %d got another token than caller 0", i)
		}
	}
	if n := f.lever.refreshes.Load(); n != 1 {
		t.Fatalf("token endpoint saw %d refresh grants for %d concurrent callers, want exactly 1", n, callers)
	}
	after := f.storedSecrets(f.m, "", "acme")
	if tokens[0] == before.AccessToken || after.AccessToken != tokens[0] {
		t.Error("the refreshed access token is not the one stored")
	}
	if after.RefreshToken == before.RefreshToken || after.RefreshToken == "" {
		t.Error("the rotated refresh token was not persisted")
	}

	// Past the old token's expiry the client keeps working on the new one,
	// without another refresh.
	f.clock.Advance(10 * time.Minute)
	if _, err := cl.GetUser(ctx, sandbox.UserPriya); err != nil {
		t.Fatalf("calling Lever after the refresh: %v", err)
	}
	if n := f.lever.refreshes.Load(); n != 1 {
		t.Errorf("refresh grants = %d after a call with a fresh token, want still 1", n)
	}
	if !strings.Contains(f.logs.String(), "Lever access token refreshed") {
		t.Error("the refresh was not logged")
	}
}

// TestRefreshAcrossProcesses runs two Managers on one SQLite file (a
// second Store on it). While the first one's refresh grant is in flight
// (it holds the claim), the second one needs a token too: it must wait for
// the first one's tokens instead of sending the same refresh token (which
// rotation would refuse, and which used to turn the connection
// needs_reauth and make the first one discard good tokens).
func TestRefreshAcrossProcesses(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	m2 := f.manager(openStore(t, f.dbPath), nil)
	waiting := make(chan struct{})
	var once sync.Once
	m2.sleep = func(ctx context.Context, d time.Duration) error {
		once.Do(func() { close(waiting) }) // m2 found the claim and waits
		time.Sleep(time.Millisecond)
		return ctx.Err()
	}
	f.clock.Advance(2 * time.Hour)

	type result struct {
		tok string
		err error
	}
	second := make(chan result, 1)
	hook := func() { // runs while m1's grant is at the token endpoint
		go func() {
			tok, err := m2.TokenSource("", "acme")(ctx)
			second <- result{tok, err}
		}()
		select {
		case <-waiting:
		case <-time.After(10 * time.Second):
			t.Error("the second process did not wait for the first one's claim")
		}
	}
	f.lever.beforeRefresh.Store(&hook)
	first, err := f.m.TokenSource("", "acme")(ctx)
	if err != nil {
		t.Fatalf("first process: %v", err)
	}
	r := <-second
	if r.err != nil {
		t.Fatalf("second process: %v", r.err)
	}
	if r.tok != first || first == "" {
		t.Errorf("the second process got another token than the first one's refreshed token")
	}
	if n := f.lever.refreshes.Load(); n != 1 {
		t.Errorf("refresh grants = %d, want exactly 1", n)
	}
	c, _ := f.m.Get(ctx, "", "acme")
	if c.Status != StatusConnected {
		t.Errorf("status = %s (%s), want connected", c.Status, c.StatusMessage)
	}
	stored, err := f.store.GetConnection(ctx, "", "acme")
	if err != nil {
		t.Fatal(err)
	}
	if stored.RefreshClaimUntil != nil || stored.RefreshClaimOwner != "" {
		t.Errorf("claim left after the refresh: until %v by %q", stored.RefreshClaimUntil, stored.RefreshClaimOwner)
	}
	if sec := f.storedSecrets(f.m, "", "acme"); sec.AccessToken != first {
		t.Error("the stored access token is not the refreshed one")
	}
	// Either process now has the token without another refresh.
	for i, m := range []*Manager{f.m, m2} {
		if tok, err := m.TokenSource("", "acme")(ctx); err != nil || tok != first {
			t.Errorf("process %d: token = %v; want the shared refreshed token", i+1, err)
		}
	}
	if n := f.lever.refreshes.Load(); n != 1 {
		t.Errorf("refresh grants = %d, want still 1", n)
	}
}

// TestRefreshTakesOverExpiredClaim: a claim left by a process that died
// holds others off until it expires, then one takes over.
func TestRefreshTakesOverExpiredClaim(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	f.clock.Advance(2 * time.Hour)
	c, err := f.store.GetConnection(ctx, "", "acme")
	if err != nil {
		t.Fatal(err)
	}
	claimEnd := f.clock.Now().Add(claimTTL)
	c.RefreshClaimUntil, c.RefreshClaimOwner = &claimEnd, "dead-process"
	if err := f.store.UpdateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	var slept time.Duration
	f.m.sleep = func(_ context.Context, d time.Duration) error {
		slept += d
		f.clock.Advance(d)
		return nil
	}
	var grantAt time.Time
	hook := func() { grantAt = f.clock.Now() }
	f.lever.beforeRefresh.Store(&hook)
	tok, err := f.m.TokenSource("", "acme")(ctx)
	if err != nil || tok == "" {
		t.Fatalf("TokenSource after the dead claim = %v", err)
	}
	if grantAt.Before(claimEnd) || slept < claimTTL {
		t.Errorf("refreshed at %s after sleeping %s, want no refresh before the claim's end %s", grantAt, slept, claimEnd)
	}
	if n := f.lever.refreshes.Load(); n != 1 {
		t.Errorf("refresh grants = %d, want 1", n)
	}
	if got, _ := f.store.GetConnection(ctx, "", "acme"); got.RefreshClaimOwner != "" || got.Status != StatusConnected {
		t.Errorf("after the takeover: claim owner %q, status %s; want no claim, connected", got.RefreshClaimOwner, got.Status)
	}
}

// TestRefreshSaveOverridesNeedsReauth: when a process that took over an
// expired claim had its (already rotated) refresh token refused and marked
// the connection needs_reauth, the slow claimant's fresh tokens still win.
func TestRefreshSaveOverridesNeedsReauth(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	f.clock.Advance(2 * time.Hour)
	hook := func() { // m's grant is in flight: someone marks the connection
		c, err := f.store.GetConnection(ctx, "", "acme")
		if err != nil {
			t.Error(err)
			return
		}
		m2 := f.manager(f.store, nil)
		if err := m2.markNeedsReauth(ctx, c, "Lever refused to refresh the access token (invalid_grant)"); !errors.Is(err, ErrNeedsReauth) {
			t.Errorf("marking: %v", err)
		}
	}
	f.lever.beforeRefresh.Store(&hook)
	tok, err := f.m.TokenSource("", "acme")(ctx)
	if err != nil {
		t.Fatalf("TokenSource = %v, want the refreshed token", err)
	}
	c, _ := f.m.Get(ctx, "", "acme")
	if c.Status != StatusConnected || len(c.Fix) != 0 {
		t.Errorf("status = %s (%s), want connected: the refreshed tokens are good", c.Status, c.StatusMessage)
	}
	if sec := f.storedSecrets(f.m, "", "acme"); sec.AccessToken != tok {
		t.Error("the refreshed tokens were discarded")
	}
}

func TestRefreshTokenExpiredNeedsReauth(t *testing.T) {
	t.Parallel()
	f := setup(t, func(o *setupOptions) {
		o.sandbox = func(so *sandbox.Options) { so.RefreshTokenTTL = 30 * time.Second }
	})
	ctx := t.Context()
	f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	cl, err := f.m.Client(ctx, "", "acme")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour)

	_, err = cl.GetUser(ctx, sandbox.UserPriya)
	if !errors.Is(err, ErrNeedsReauth) {
		t.Fatalf("call after the refresh token expired = %v, want ErrNeedsReauth", err)
	}
	const prefix = `connection "acme" needs to be reconnected: Lever refused to refresh the access token (invalid_grant): The refresh token has expired`
	const suffix = `. Reconnect it in the editor's Connections page or with GET /api/v1/connections/lever/authorize?name=acme`
	if !strings.Contains(err.Error(), prefix) || !strings.HasSuffix(err.Error(), suffix) {
		t.Errorf("error = %q\nwant %q ... %q", err, prefix, suffix)
	}
	c, _ := f.m.Get(ctx, "", "acme")
	if c.Status != StatusNeedsReauth || !strings.HasPrefix(c.StatusMessage, prefix) || len(c.Fix) == 0 {
		t.Errorf("connection = %+v, want needs_reauth with the message and fix", c)
	}
	_, err = f.m.Client(ctx, "", "acme")
	if !errors.Is(err, ErrNeedsReauth) || err.Error() != c.StatusMessage {
		t.Errorf("Client = %v, want ErrNeedsReauth with the status message", err)
	}
	if _, err := f.m.TokenSource("", "acme")(ctx); !errors.Is(err, ErrNeedsReauth) {
		t.Errorf("TokenSource = %v, want ErrNeedsReauth", err)
	}
	if n := f.lever.refreshes.Load(); n != 1 {
		t.Errorf("refresh grants = %d, want 1: a dead connection is not retried", n)
	}
	if !strings.Contains(f.logs.String(), "Lever connection needs reconnecting") {
		t.Error("needs_reauth was not logged")
	}

	// Reconnecting (no Replace needed for a connection waiting for it)
	// brings it back.
	c = f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	if c.Status != StatusConnected || len(c.Fix) != 0 || c.StatusMessage != "" {
		t.Errorf("after reconnecting: %+v", c)
	}
	if _, err := f.m.Client(ctx, "", "acme"); err != nil {
		t.Errorf("Client after reconnecting: %v", err)
	}
}

func TestRefreshPastStoredExpiry(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	f.clock.Advance(91 * 24 * time.Hour) // past Lever's 90 days without use
	_, err := f.m.TokenSource("", "acme")(t.Context())
	if !errors.Is(err, ErrNeedsReauth) || !strings.Contains(err.Error(), "the Lever authorization expired on 2030-05-30") {
		t.Fatalf("TokenSource = %v, want ErrNeedsReauth naming the expiry", err)
	}
	if n := f.lever.refreshes.Load(); n != 0 {
		t.Errorf("refresh grants = %d, want 0: a token known to be expired is not sent", n)
	}
}

func TestRefreshNetworkErrorIsRetryable(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	f.clock.Advance(2 * time.Hour)
	f.lever.tokenStatus.Store(http.StatusServiceUnavailable)
	_, err := f.m.TokenSource("", "acme")(ctx)
	if err == nil || errors.Is(err, ErrNeedsReauth) || !strings.Contains(err.Error(), "retryable") {
		t.Fatalf("TokenSource during a token endpoint outage = %v, want a retryable error", err)
	}
	if c, _ := f.m.Get(ctx, "", "acme"); c.Status != StatusConnected {
		t.Errorf("status = %s, want connected after a transient failure", c.Status)
	}
	f.lever.tokenStatus.Store(0)
	if _, err := f.m.TokenSource("", "acme")(ctx); err != nil {
		t.Fatalf("TokenSource after the outage: %v", err)
	}
}

func TestTestConnection401(t *testing.T) {
	t.Parallel()
	t.Run("revoked access token is refreshed", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		ctx := t.Context()
		f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
		tok, err := f.m.TokenSource("", "acme")(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.lever.sb.RevokeToken(tok)
		res, err := f.m.Test(ctx, "", "acme")
		if err != nil {
			t.Fatalf("Test with a revoked access token: %v", err)
		}
		if res.Connection.Status != StatusConnected || f.lever.refreshes.Load() != 1 {
			t.Errorf("Test = %+v after %d refreshes; want connected after 1", res.Connection, f.lever.refreshes.Load())
		}
	})
	t.Run("401 after refresh needs reauth", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		ctx := t.Context()
		f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
		f.lever.apiUnauthorized.Store(true)
		_, err := f.m.Test(ctx, "", "acme")
		if !errors.Is(err, ErrNeedsReauth) || !strings.Contains(err.Error(), "Lever refused the connection's authorization (401)") {
			t.Fatalf("Test = %v, want ErrNeedsReauth", err)
		}
		if f.lever.refreshes.Load() != 1 {
			t.Errorf("refresh grants = %d, want 1 attempt before giving up", f.lever.refreshes.Load())
		}
	})
	t.Run("rejected API key needs a new key", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		ctx := t.Context()
		if _, err := f.m.CreateAPIKey(ctx, APIKeyRequest{Name: "acme", Environment: EnvLocal, APIKey: testAPIKey}); err != nil {
			t.Fatal(err)
		}
		f.lever.apiUnauthorized.Store(true)
		_, err := f.m.Test(ctx, "", "acme")
		if !errors.Is(err, ErrNeedsReauth) || !strings.Contains(err.Error(), `connection "acme" needs a new API key`) {
			t.Fatalf("Test = %v, want ErrNeedsReauth asking for a new key", err)
		}
		if c, _ := f.m.Get(ctx, "", "acme"); c.Status != StatusNeedsReauth {
			t.Errorf("status = %s, want needs_reauth", c.Status)
		}
	})
}

func TestExpiryWarning(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	if _, err := f.m.CreateAPIKey(ctx, APIKeyRequest{Name: "keyed", Environment: EnvLocal}); err != nil {
		t.Fatal(err)
	}
	authorized := f.clock.Now()
	rec := &recorder{}
	f.m.log = slog.New(rec)

	// Used every 80 days, the authorization lives its full year.
	for range 4 {
		f.clock.Advance(80 * 24 * time.Hour)
		if _, err := f.m.TokenSource("", "acme")(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := f.m.CheckExpiry(ctx); len(got) != 0 {
		t.Fatalf("CheckExpiry at day 320 = %v, want none", got)
	}
	f.clock.Advance(32 * 24 * time.Hour) // day 352: 13 days left
	end := authorized.Add(RefreshLifetime).Format(time.DateOnly)
	want := fmt.Sprintf("the Lever authorization expires on %s; reconnect before then to keep workflows running", end)

	c, _ := f.m.Get(ctx, "", "acme")
	if len(c.Warnings) != 1 || c.Warnings[0] != want {
		t.Errorf("warnings = %q, want [%q]", c.Warnings, want)
	}
	got, err := f.m.CheckExpiry(ctx)
	if err != nil || len(got) != 1 || got[0].Name != "acme" {
		t.Fatalf("CheckExpiry = %+v, %v; want [acme]", got, err)
	}
	warns := rec.at(slog.LevelWarn)
	if len(warns) != 1 {
		t.Fatalf("warnings logged = %d, want 1", len(warns))
	}
	attrs := map[string]string{}
	warns[0].Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
	if len(attrs) != 3 || attrs["connection"] != "acme" || attrs["user_id"] != "" || attrs["expires_on"] != end {
		t.Errorf("warning attributes = %v, want only connection=acme, user_id= and expires_on=%s", attrs, end)
	}
	if kc, _ := f.m.Get(ctx, "", "keyed"); len(kc.Warnings) != 0 {
		t.Errorf("API key connection warnings = %v, want none", kc.Warnings)
	}
}

// TestCheckExpiryEveryUser: CheckExpiry sees every connected user's
// connections, not only the workspace's.
func TestCheckExpiryEveryUser(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	for _, user := range []string{"u2", "", "u1"} {
		f.connectOAuth(AuthorizeRequest{UserID: user, Name: "acme", Environment: EnvLocal})
	}
	f.clock.Advance(80 * 24 * time.Hour) // 10 of Lever's 90 idle days left
	got, err := f.m.CheckExpiry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, c := range got {
		users = append(users, c.UserID)
	}
	if want := []string{"", "u1", "u2"}; strings.Join(users, ",") != strings.Join(want, ",") {
		t.Errorf("CheckExpiry users = %q, want %q", users, want)
	}
}

func TestIdleExpiryWarning(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	idleEnd := f.clock.Now().Add(RefreshIdleLifetime).Format(time.DateOnly)
	f.clock.Advance(80 * 24 * time.Hour) // unused for 80 of Lever's 90 days
	c, _ := f.m.Get(t.Context(), "", "acme")
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], idleEnd) {
		t.Errorf("warnings = %q, want one naming %s", c.Warnings, idleEnd)
	}
}
