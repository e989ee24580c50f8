package connections

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

func TestCreateAPIKey(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, err := f.m.CreateAPIKey(ctx, APIKeyRequest{Name: "acme", Environment: EnvLocal, APIKey: testAPIKey})
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	if c.Status != StatusConnected || c.Auth != AuthAPIKey || c.Environment != EnvLocal {
		t.Errorf("connection = %+v, want connected api_key local", c)
	}
	want := Account{Name: "northwind-robotics.example", UserID: sandbox.UserPriya, UserEmail: "priya.raman@northwind-robotics.example", SuperAdminID: sandbox.UserPriya}
	if c.Account != want {
		t.Errorf("account = %+v, want %+v", c.Account, want)
	}
	if !c.CreatedAt.Equal(f.clock.Now()) {
		t.Errorf("created_at = %v, want the injected clock's %v", c.CreatedAt, f.clock.Now())
	}
	got, err := f.m.Get(ctx, "", "acme")
	if err != nil || got.Account != want {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	list, err := f.m.List(ctx, "")
	if err != nil || len(list) != 1 || list[0].Name != "acme" {
		t.Fatalf("List = %+v, %v; want [acme]", list, err)
	}
	if other, _ := f.m.List(ctx, "user-7"); len(other) != 0 {
		t.Errorf("List for another user = %+v, want none", other)
	}
	raw, _ := json.Marshal(list)
	for _, field := range []string{`"user_id"`, `"status":"connected"`, `"created_at"`, `"account":{`} {
		if !strings.Contains(string(raw), field) {
			t.Errorf("JSON view %s lacks %s", raw, field)
		}
	}
	if strings.Contains(string(raw), testAPIKey) {
		t.Errorf("JSON view holds the API key: %s", raw)
	}

	cl, err := f.m.Client(ctx, "", "acme")
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	if u, err := cl.GetUser(ctx, sandbox.UserLena); err != nil || u.ID != sandbox.UserLena {
		t.Fatalf("calling Lever through the connection: %+v, %v", u, err)
	}
	again, _ := f.m.Client(ctx, "", "acme")
	if again != cl {
		t.Error("Client built a second client for an unchanged connection")
	}

	res, err := f.m.Test(ctx, "", "acme")
	if err != nil {
		t.Fatalf("Test: %v", err)
	}
	if res.Account != want || res.Connection.Status != StatusConnected || res.Latency <= 0 {
		t.Errorf("Test = %+v", res)
	}

	if err := f.m.Delete(ctx, "", "acme"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := f.m.Get(ctx, "", "acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if _, err := f.m.Client(ctx, "", "acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Client after Delete = %v, want ErrNotFound", err)
	}
	if err := f.m.Delete(ctx, "", "acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
}

func TestCreateAPIKeyBuiltinKeyAndUsers(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	// local has a built-in key; names are unique per user, not globally.
	for _, user := range []string{"", "user-1", "user-2"} {
		if _, err := f.m.CreateAPIKey(ctx, APIKeyRequest{UserID: user, Name: "local", Environment: EnvLocal}); err != nil {
			t.Fatalf("CreateAPIKey for user %q: %v", user, err)
		}
	}
	list, err := f.m.List(ctx, "user-1")
	if err != nil || len(list) != 1 || list[0].UserID != "user-1" {
		t.Fatalf("List(user-1) = %+v, %v", list, err)
	}
}

func TestCreateAPIKeyRejectedKey(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	_, err := f.m.CreateAPIKey(ctx, APIKeyRequest{Name: "acme", Environment: EnvLocal, APIKey: "not-a-key-lever-knows"})
	var aerr *AuthError
	if !errors.As(err, &aerr) {
		t.Fatalf("CreateAPIKey with a bad key = %v, want *AuthError", err)
	}
	if aerr.Code != "invalid_api_key" || !strings.Contains(aerr.Description, "401") ||
		!strings.Contains(aerr.Description, "The request requires authentication") || len(aerr.Fix) == 0 {
		t.Errorf("AuthError = %+v, want invalid_api_key with Lever's reason and fixes", aerr)
	}
	if strings.Contains(err.Error(), "not-a-key-lever-knows") {
		t.Errorf("error repeats the key: %v", err)
	}
	if _, err := f.m.Get(ctx, "", "acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after a refused key = %v, want ErrNotFound (nothing written)", err)
	}
}

func TestCreateAPIKeyBadInput(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tests := []struct {
		name string
		req  APIKeyRequest
		want string
	}{
		{"empty name", APIKeyRequest{Environment: EnvLocal, APIKey: testAPIKey}, "name:"},
		{"upper case name", APIKeyRequest{Name: "Acme", Environment: EnvLocal, APIKey: testAPIKey}, "lowercase letters"},
		{"leading hyphen", APIKeyRequest{Name: "-acme", Environment: EnvLocal, APIKey: testAPIKey}, "starting with a letter or digit"},
		{"name too long", APIKeyRequest{Name: strings.Repeat("a", 64), Environment: EnvLocal, APIKey: testAPIKey}, "1-63"},
		{"unknown environment", APIKeyRequest{Name: "acme", Environment: "staging", APIKey: testAPIKey}, `environment: "staging" is not one of local, production, sandbox`},
		{"missing key", APIKeyRequest{Name: "acme", Environment: EnvProduction}, "api_key: required for the production environment"},
		{"key with colon", APIKeyRequest{Name: "acme", Environment: EnvLocal, APIKey: testAPIKey + ":"}, "api_key: contains a colon"},
		{"key with space", APIKeyRequest{Name: "acme", Environment: EnvLocal, APIKey: "abc def"}, "api_key: contains whitespace"},
		{"control in user id", APIKeyRequest{UserID: "u\n1", Name: "acme", Environment: EnvLocal, APIKey: testAPIKey}, "user_id:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.m.CreateAPIKey(t.Context(), tt.req)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CreateAPIKey = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
	if n := f.lever.sb.Users(); len(n) == 0 {
		t.Fatal("sandbox has no users")
	}
}

func TestReplaceAPIKey(t *testing.T) {
	t.Parallel()
	other := newLever(t, &clock{}, nil)
	f := setup(t, func(o *setupOptions) { o.other = other })
	ctx := t.Context()
	first, err := f.m.CreateAPIKey(ctx, APIKeyRequest{Name: "acme", Environment: EnvLocal, APIKey: testAPIKey})
	if err != nil {
		t.Fatal(err)
	}

	_, err = f.m.CreateAPIKey(ctx, APIKeyRequest{Name: "acme", Environment: EnvLocal, APIKey: testAPIKey})
	if !errors.Is(err, ErrNameTaken) || !strings.Contains(err.Error(), `"replace": true`) {
		t.Fatalf("reusing the name = %v, want ErrNameTaken saying how to replace", err)
	}

	// Same account: replacing needs no confirmation.
	f.clock.Advance(time.Minute)
	same, err := f.m.CreateAPIKey(ctx, APIKeyRequest{Name: "acme", Environment: EnvLocal, APIKey: testAPIKey, Replace: true})
	if err != nil {
		t.Fatalf("replacing with the same account: %v", err)
	}
	if !same.CreatedAt.Equal(first.CreatedAt) || !same.UpdatedAt.After(first.UpdatedAt) {
		t.Errorf("replace: created %v updated %v; want created kept, updated moved", same.CreatedAt, same.UpdatedAt)
	}

	becomeOtherAccount(t, other)
	_, err = f.m.CreateAPIKey(ctx, APIKeyRequest{Name: "acme", Environment: otherEnvironment, APIKey: testAPIKey, Replace: true})
	if !errors.Is(err, ErrDifferentAccount) {
		t.Fatalf("replacing with another account = %v, want ErrDifferentAccount", err)
	}
	for _, want := range []string{"priya.raman@northwind-robotics.example", "olu@globex.example", "confirm_account_change"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	kept, _ := f.m.Get(ctx, "", "acme")
	if kept.Environment != EnvLocal || kept.Account.SuperAdminID != sandbox.UserPriya {
		t.Errorf("after a refused replace the connection is %+v, want it unchanged", kept)
	}

	moved, err := f.m.CreateAPIKey(ctx, APIKeyRequest{Name: "acme", Environment: otherEnvironment, APIKey: testAPIKey, Replace: true, ConfirmAccountChange: true})
	if err != nil {
		t.Fatalf("confirmed replace: %v", err)
	}
	if moved.Environment != otherEnvironment || moved.Account.UserEmail != "olu@globex.example" {
		t.Errorf("confirmed replace = %+v", moved)
	}
	// The cached client follows the replacement.
	cl, err := f.m.Client(ctx, "", "acme")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for u, err := range cl.ListUsers(ctx, client.ListUsersParams{Emails: []string{"olu@globex.example"}}) {
		if err != nil || u.Email != "olu@globex.example" {
			t.Fatalf("client after replace reached %+v, %v; want the other account", u, err)
		}
		found++
	}
	if found != 1 {
		t.Errorf("client after replace found %d users named olu, want 1 (the other account)", found)
	}
}
