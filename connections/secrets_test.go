package connections

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestNoSecretInClear puts every kind of secret through the manager (an
// API key, a custom app's client secret in a finished and in a pending
// authorization, access and refresh tokens before and after a refresh, a
// needs_reauth failure) and then searches the SQLite file, its WAL, every
// log line and every returned view for them.
func TestNoSecretInClear(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	if _, err := f.m.CreateAPIKey(ctx, APIKeyRequest{Name: "keyed", Environment: EnvLocal, APIKey: testAPIKey}); err != nil {
		t.Fatal(err)
	}
	f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal, ClientID: customClientID, ClientSecret: customSecret, Scopes: []string{"users:read:admin"}})
	// A pending authorization holds the client secret too.
	if _, err := f.m.Authorize(ctx, AuthorizeRequest{Name: "pending", Environment: EnvLocal, ClientID: customClientID, ClientSecret: customSecret, Scopes: []string{"users:read:admin"}}); err != nil {
		t.Fatal(err)
	}
	first := f.storedSecrets(f.m, "", "acme")
	f.clock.Advance(2 * time.Hour)
	if _, err := f.m.TokenSource("", "acme")(ctx); err != nil {
		t.Fatal(err)
	}
	second := f.storedSecrets(f.m, "", "acme")
	if _, err := f.m.Test(ctx, "", "acme"); err != nil {
		t.Fatal(err)
	}
	// A failure path logs too.
	f.lever.apiUnauthorized.Store(true)
	_, _ = f.m.Test(ctx, "", "acme")
	_, _ = f.m.Test(ctx, "", "keyed")
	views, err := f.m.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	viewJSON, _ := json.Marshal(views)

	secretsByName := map[string]string{
		"API key":                testAPIKey,
		"client secret":          customSecret,
		"first access token":     first.AccessToken,
		"first refresh token":    first.RefreshToken,
		"second access token":    second.AccessToken,
		"second refresh token":   second.RefreshToken,
		"built-in client secret": builtinSecret,
	}
	for name, s := range secretsByName {
		if len(s) < 16 {
			t.Fatalf("%s %q is too short to search for", name, s)
		}
	}
	if first.AccessToken == second.AccessToken || first.RefreshToken == second.RefreshToken {
		t.Fatal("the refresh did not rotate the tokens")
	}

	places := map[string][]byte{"logs": []byte(f.logs.String()), "views": viewJSON}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		raw, err := os.ReadFile(f.dbPath + suffix)
		if err != nil && suffix != "-shm" {
			t.Fatalf("reading %s: %v", f.dbPath+suffix, err)
		}
		places["database"+suffix] = raw
	}
	if len(places["database-wal"]) == 0 && len(places["database"]) == 0 {
		t.Fatal("the database files are empty")
	}
	// The connections are really in the files (sealed), so the search is
	// not vacuous.
	dbAll := append(bytes.Clone(places["database"]), places["database-wal"]...)
	if !bytes.Contains(dbAll, []byte("northwind-robotics.example")) {
		t.Fatal("the database files do not hold the connections at all")
	}
	if !strings.Contains(string(places["logs"]), `connection=acme`) {
		t.Fatal("the logs do not mention the connection at all")
	}
	for where, data := range places {
		for name, s := range secretsByName {
			for _, form := range []string{s, jsonEscaped(s)} {
				if bytes.Contains(data, []byte(form)) {
					t.Errorf("%s holds the %s in clear", where, name)
				}
			}
		}
	}
}

func jsonEscaped(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

func TestSecretsNeverFormat(t *testing.T) {
	t.Parallel()
	s := secrets{APIKey: testAPIKey, AccessToken: "access-token-value"}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), s.String()} {
		if strings.Contains(out, testAPIKey) || strings.Contains(out, "access-token-value") {
			t.Errorf("formatted secrets reveal a secret: %s", out)
		}
	}
}
