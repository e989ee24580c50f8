package connections

import (
	"errors"
	"strings"
	"testing"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// TestUnauthorizedDuringUse covers a 401 from Lever in the middle of a
// step's calls, through the client Client hands out.
func TestUnauthorizedDuringUse(t *testing.T) {
	t.Parallel()
	t.Run("revoked access token: one refresh, the call succeeds", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		ctx := t.Context()
		f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
		cl, err := f.m.Client(ctx, "", "acme")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.GetUser(ctx, sandbox.UserPriya); err != nil {
			t.Fatal(err)
		}
		revoked := f.storedSecrets(f.m, "", "acme").AccessToken
		f.lever.sb.RevokeToken(revoked)

		// A write with a body: it is sent again with the new token.
		u, err := cl.GetUser(ctx, sandbox.UserPriya)
		if err != nil {
			t.Fatalf("call after the token was revoked: %v", err)
		}
		if u.ID != sandbox.UserPriya {
			t.Errorf("got user %q", u.ID)
		}
		if n := f.lever.refreshes.Load(); n != 1 {
			t.Errorf("refresh grants = %d, want 1", n)
		}
		if now := f.storedSecrets(f.m, "", "acme").AccessToken; now == revoked {
			t.Error("the revoked token is still stored")
		}
		// The cached token is the new one: later calls need no refresh.
		if _, err := cl.GetUser(ctx, sandbox.UserPriya); err != nil {
			t.Fatal(err)
		}
		if n := f.lever.refreshes.Load(); n != 1 {
			t.Errorf("refresh grants = %d after another call, want still 1", n)
		}
		if c, _ := f.m.Get(ctx, "", "acme"); c.Status != StatusConnected {
			t.Errorf("status = %s, want connected", c.Status)
		}
	})
	t.Run("a write with a body is resent", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		ctx := t.Context()
		f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
		cl, err := f.m.Client(ctx, "", "acme")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.GetUser(ctx, sandbox.UserPriya); err != nil {
			t.Fatal(err)
		}
		f.lever.sb.RevokeToken(f.storedSecrets(f.m, "", "acme").AccessToken)
		u, err := cl.CreateUser(ctx, client.UserInput{Name: "Ada Obi", Email: "ada@acme.example", AccessRole: client.RoleInterviewer})
		if err != nil {
			t.Fatalf("POST after the token was revoked: %v", err)
		}
		if u.Email != "ada@acme.example" || f.lever.refreshes.Load() != 1 {
			t.Errorf("created %+v after %d refreshes, want Ada after 1", u, f.lever.refreshes.Load())
		}
	})

	tests := []struct {
		name       string
		apiKey     bool
		want       string
		refreshes  int64
		wantReason string
	}{
		{"OAuth refused even after a refresh", false, `connection "acme" needs to be reconnected: Lever refused the connection's authorization (401)`, 1, "Authorized Apps"},
		{"API key refused", true, `connection "acme" needs a new API key: Lever refused the API key (401)`, 0, "Settings > Integrations and API > API Credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			ctx := t.Context()
			if tt.apiKey {
				if _, err := f.m.CreateAPIKey(ctx, APIKeyRequest{Name: "acme", Environment: EnvLocal, APIKey: testAPIKey}); err != nil {
					t.Fatal(err)
				}
			} else {
				f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
			}
			cl, err := f.m.Client(ctx, "", "acme")
			if err != nil {
				t.Fatal(err)
			}
			f.lever.apiUnauthorized.Store(true)
			_, err = cl.GetUser(ctx, sandbox.UserPriya)
			if !errors.Is(err, ErrNeedsReauth) || !steps.IsPermanent(err) || !errors.Is(err, client.ErrUnauthorized) {
				t.Fatalf("call = %v, want a permanent ErrNeedsReauth matching the 401", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.wantReason) {
				t.Errorf("error = %q, want it to contain %q and %q", err, tt.want, tt.wantReason)
			}
			if n := f.lever.refreshes.Load(); n != tt.refreshes {
				t.Errorf("refresh grants = %d, want %d", n, tt.refreshes)
			}
			c, _ := f.m.Get(ctx, "", "acme")
			if c.Status != StatusNeedsReauth || !strings.HasPrefix(c.StatusMessage, tt.want) || len(c.Fix) == 0 {
				t.Errorf("connection = %s %q (fix %q), want needs_reauth with the message", c.Status, c.StatusMessage, c.Fix)
			}
			if _, err := f.m.Client(ctx, "", "acme"); !errors.Is(err, ErrNeedsReauth) {
				t.Errorf("Client afterwards = %v, want ErrNeedsReauth", err)
			}
			sec := f.storedSecrets(f.m, "", "acme")
			logs := f.logs.String()
			for _, secret := range []string{testAPIKey, sec.AccessToken, sec.RefreshToken} {
				if secret != "" && strings.Contains(logs, secret) {
					t.Error("a secret was logged")
				}
			}
		})
	}
}
