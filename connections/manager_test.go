package connections

import (
	"errors"
	"strings"
	"testing"

	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

func TestNewConfig(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no store", Config{Key: testKey}, "Config.Store is required"},
		{"short key", Config{Store: f.store, Key: testKey[:16]}, "Key: want 32 bytes"},
		{"bad environment URL", Config{Store: f.store, Key: testKey, Environments: map[string]Environment{"eu": {APIURL: "api.eu.lever.co/v1"}}}, `Environments["eu"].APIURL`},
		{"relative callback", Config{Store: f.store, Key: testKey, CallbackURL: "/api/v1/connections/lever/callback"}, "CallbackURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
	m, err := New(Config{Store: f.store, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Authorize(t.Context(), AuthorizeRequest{Name: "acme", Environment: EnvProduction, ClientID: "a", ClientSecret: "b", Scopes: []string{"users:read:admin"}}); err == nil || !strings.Contains(err.Error(), "LEVERFLOW_BASE_URL") {
		t.Errorf("Authorize without a callback URL = %v, want an error naming LEVERFLOW_BASE_URL", err)
	}
}

func TestReadClaims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, token, account, user string
	}{
		{"lever token", "eyJhbGciOiJIUzI1NiJ9." + base64URL([]byte(`{"https://oauth.lever.co/accountId":"acc-1","https://oauth.lever.co/userId":"usr-1","exp":1}`)) + ".sig", "acc-1", "usr-1"},
		{"opaque token", "opaque-token", "", ""},
		{"bad payload", "a.!!!.c", "", ""},
		{"not json", "a." + base64URL([]byte("nope")) + ".c", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := readClaims(tt.token)
			if c.AccountID != tt.account || c.UserID != tt.user {
				t.Errorf("readClaims = %+v, want account %q user %q", c, tt.account, tt.user)
			}
		})
	}
}

// TestLeverStatsOnlyGrow: LeverStats adds up every client's requests, and
// keeps those of a client dropped when its connection is deleted.
func TestLeverStatsOnlyGrow(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	if _, err := f.m.CreateAPIKey(ctx, APIKeyRequest{Name: "acme", Environment: EnvLocal, APIKey: testAPIKey}); err != nil {
		t.Fatal(err)
	}
	base := f.m.LeverStats().Requests
	cl, err := f.m.Client(ctx, "", "acme")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := cl.GetUser(ctx, sandbox.UserPriya); err != nil {
			t.Fatal(err)
		}
	}
	st := f.m.LeverStats()
	if st.Requests != base+3 || st.ByStatus[200] < 3 {
		t.Fatalf("after 3 calls: %+v (base %d)", st, base)
	}
	if err := f.m.Delete(ctx, "", "acme"); err != nil {
		t.Fatal(err)
	}
	if after := f.m.LeverStats(); after.Requests < st.Requests || after.ByStatus[200] < st.ByStatus[200] {
		t.Errorf("deleting the connection lost its counters: %+v, before %+v", after, st)
	}
}
