package connections

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
)

// TestCallbackBinding: the callback must come from the browser (binding)
// and user that started the authorization (login CSRF).
func TestCallbackBinding(t *testing.T) {
	t.Parallel()
	const binding = "browser-cookie-7d1f0a9e3c"
	tests := []struct {
		name      string
		authorize AuthorizeRequest
		callback  CallbackRequest // Query is filled in
		ok        bool
	}{
		{"same browser", AuthorizeRequest{Binding: binding}, CallbackRequest{Binding: binding}, true},
		{"same browser and user", AuthorizeRequest{UserID: "u1", Binding: binding}, CallbackRequest{Binding: binding, UserID: "u1"}, true},
		{"unbound, as the CLI does", AuthorizeRequest{}, CallbackRequest{}, true},
		{"another browser", AuthorizeRequest{Binding: binding}, CallbackRequest{Binding: "attacker-cookie"}, false},
		{"no cookie", AuthorizeRequest{Binding: binding}, CallbackRequest{}, false},
		{"a cookie on an unbound authorization", AuthorizeRequest{}, CallbackRequest{Binding: binding}, false},
		{"another user", AuthorizeRequest{UserID: "u1", Binding: binding}, CallbackRequest{Binding: binding, UserID: "u2"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			ctx := t.Context()
			req := tt.authorize
			req.Name, req.Environment = "acme", EnvLocal
			u, err := f.m.Authorize(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			cb := tt.callback
			cb.Query = f.consent(u, "accept")
			c, err := f.m.Callback(ctx, cb)
			if tt.ok {
				if err != nil || c.Status != StatusConnected {
					t.Fatalf("Callback = %v, want connected", err)
				}
				return
			}
			if !errors.Is(err, ErrBadState) || !strings.Contains(err.Error(), "started in another browser or session; start connecting again") {
				t.Fatalf("Callback = %v, want ErrBadState naming another browser", err)
			}
			if _, err := f.m.Get(ctx, req.UserID, "acme"); !errors.Is(err, ErrNotFound) {
				t.Errorf("a refused callback stored the connection: %v", err)
			}
		})
	}
}

// TestBindingStoredAsHash: the pending authorization keeps only the
// binding's SHA-256, inside its sealed payload.
func TestBindingStoredAsHash(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	const binding = "browser-cookie-5e6f7a8b9c"
	u, err := f.m.Authorize(ctx, AuthorizeRequest{Name: "acme", Environment: EnvLocal, Binding: binding})
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := url.Parse(u)
	id := hashHex(parsed.Query().Get("state"))
	st, err := f.store.TakeOAuthState(ctx, id, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(st.Payload), binding) {
		t.Error("the binding is stored in clear")
	}
	raw, err := f.m.seal.open(st.Payload, stateAD(id))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), binding) {
		t.Error("the sealed payload holds the binding itself")
	}
	var p statePayload
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	if p.BindingHash != hashHex(binding) {
		t.Errorf("BindingHash = %q, want the SHA-256 of the binding", p.BindingHash)
	}
}
