package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store"
)

// connectionTests are the subtests of connections and pending OAuth states.
var connectionTests = []subtest{
	{"ConnectionRoundTrip", testConnectionRoundTrip},
	{"ConnectionDuplicateName", testConnectionDuplicateName},
	{"ListConnections", testListConnections},
	{"UpdateConnection", testUpdateConnection},
	{"UpdateConnectionStaleRevision", testUpdateConnectionStale},
	{"ConcurrentUpdateConnection", testConcurrentUpdateConnection},
	{"ConnectionNotFound", testConnectionNotFound},
	{"ConnectionRecreatedRevision", testConnectionRecreatedRevision},
	{"ListAllConnections", testListAllConnections},
	{"ConnectionRefreshClaim", testConnectionRefreshClaim},
	{"OAuthStateTakeOnce", testOAuthStateTakeOnce},
	{"OAuthStateExpired", testOAuthStateExpired},
	{"OAuthStateSweepsExpired", testOAuthStateSweep},
	{"OAuthStateDuplicate", testOAuthStateDuplicate},
}

// sub is e for the subtest t (its helpers fail t, not the parent).
func (e *env) sub(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// conn returns a fully set connection of user named name.
func (e *env) conn(userID, name string) *store.Connection {
	return &store.Connection{
		UserID:           userID,
		Name:             name,
		Provider:         "lever",
		Environment:      "sandbox",
		Auth:             "oauth",
		Status:           "connected",
		StatusMessage:    "",
		Public:           json.RawMessage(`{"account":"Acme","scopes":["opportunities:read:admin"]}`),
		Secrets:          []byte{0, 1, 2, 0, 255, 0},
		AccessExpiresAt:  tp(e.now.Add(time.Hour)),
		RefreshExpiresAt: tp(e.now.Add(30 * 24 * time.Hour)),
		CreatedAt:        e.now,
		UpdatedAt:        e.now,
	}
}

func (e *env) createConn(c *store.Connection) *store.Connection {
	e.t.Helper()
	if err := e.st.CreateConnection(e.ctx, c); err != nil {
		e.t.Fatalf("CreateConnection %q/%q: %v", c.UserID, c.Name, err)
	}
	return c
}

func (e *env) getConn(userID, name string) *store.Connection {
	e.t.Helper()
	c, err := e.st.GetConnection(e.ctx, userID, name)
	if err != nil {
		e.t.Fatalf("GetConnection %q/%q: %v", userID, name, err)
	}
	return c
}

// wantOptTime checks an optional time: nil stays nil, a set one
// round-trips to the microsecond in UTC.
func wantOptTime(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Errorf("%s = %s, want nil", what, got)
		}
		return
	}
	wantTime(t, what, got, *want)
}

// wantConn checks that got holds every field of want.
func wantConn(t *testing.T, got, want *store.Connection) {
	t.Helper()
	type text struct{ field, got, want string }
	for _, f := range []text{
		{"UserID", got.UserID, want.UserID},
		{"Name", got.Name, want.Name},
		{"Provider", got.Provider, want.Provider},
		{"Environment", got.Environment, want.Environment},
		{"Auth", got.Auth, want.Auth},
		{"Status", got.Status, want.Status},
		{"StatusMessage", got.StatusMessage, want.StatusMessage},
		{"Public", string(got.Public), string(want.Public)},
	} {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.field, f.got, f.want)
		}
	}
	if !bytes.Equal(got.Secrets, want.Secrets) {
		t.Errorf("Secrets = %x, want %x", got.Secrets, want.Secrets)
	}
	if got.Revision != want.Revision {
		t.Errorf("Revision = %d, want %d", got.Revision, want.Revision)
	}
	wantOptTime(t, "AccessExpiresAt", got.AccessExpiresAt, want.AccessExpiresAt)
	wantOptTime(t, "RefreshExpiresAt", got.RefreshExpiresAt, want.RefreshExpiresAt)
	wantOptTime(t, "RefreshClaimUntil", got.RefreshClaimUntil, want.RefreshClaimUntil)
	if got.RefreshClaimOwner != want.RefreshClaimOwner {
		t.Errorf("RefreshClaimOwner = %q, want %q", got.RefreshClaimOwner, want.RefreshClaimOwner)
	}
	wantTime(t, "CreatedAt", &got.CreatedAt, want.CreatedAt)
	wantTime(t, "UpdatedAt", &got.UpdatedAt, want.UpdatedAt)
}

func testConnectionRoundTrip(t *testing.T, e *env) {
	zone := time.FixedZone("UTC-7", -7*3600)
	tests := []struct {
		name string
		conn func() *store.Connection
	}{
		{"oauth with both expiries and binary secrets", func() *store.Connection { return e.conn("", "acme") }},
		{"api key with no expiry, no public JSON, no secrets", func() *store.Connection {
			c := e.conn("", "plain")
			c.Auth, c.Environment, c.Status, c.StatusMessage = "api_key", "production", "needs_reauth", "log into Lever again"
			c.Public, c.Secrets, c.AccessExpiresAt, c.RefreshExpiresAt = nil, nil, nil, nil
			return c
		}},
		{"access expiry only, times in another zone", func() *store.Connection {
			c := e.conn("", "zoned")
			c.AccessExpiresAt = tp(time.Date(2031, 2, 3, 4, 5, 6, 789012345, zone))
			c.RefreshExpiresAt = nil
			c.CreatedAt = e.now.In(zone)
			c.UpdatedAt = e.now.Add(time.Microsecond).In(zone)
			return c
		}},
		{"with a refresh claim", func() *store.Connection {
			c := e.conn("", "claimed")
			c.RefreshClaimUntil = tp(e.now.Add(30 * time.Second))
			c.RefreshClaimOwner = "host-1/4242/abc"
			return c
		}},
		{"a connected user's", func() *store.Connection {
			c := e.conn("user-42", "acme")
			c.Secrets = []byte{0}
			return c
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.sub(t)
			c := tc.conn()
			want := *c
			e.createConn(c)
			if c.Revision <= 0 {
				t.Errorf("CreateConnection set Revision = %d, want a positive one", c.Revision)
			}
			want.Revision = c.Revision
			wantConn(t, e.getConn(c.UserID, c.Name), &want)
		})
	}
}

func testConnectionDuplicateName(t *testing.T, e *env) {
	orig := e.createConn(e.conn("", "acme"))
	dup := e.conn("", "acme")
	dup.Environment, dup.Secrets = "production", []byte("other account")
	wantErr(t, e.st.CreateConnection(e.ctx, dup), store.ErrConflict)
	want := *orig
	wantConn(t, e.getConn("", "acme"), &want)

	other := e.conn("user-1", "acme")
	other.Secrets = []byte("user one's")
	e.createConn(other)
	if got := e.getConn("user-1", "acme"); !bytes.Equal(got.Secrets, other.Secrets) {
		t.Errorf("user-1's acme Secrets = %q, want %q", got.Secrets, other.Secrets)
	}
	if got := e.getConn("", "acme"); !bytes.Equal(got.Secrets, orig.Secrets) {
		t.Errorf("the workspace's acme changed when user-1 made theirs: Secrets = %x", got.Secrets)
	}
}

func testListConnections(t *testing.T, e *env) {
	var acme *store.Connection
	for _, c := range []struct{ user, name string }{
		{"", "zeta"}, {"", "acme"}, {"u1", "beta"}, {"", "acme-sandbox"}, {"u1", "alpha"}, {"u2", "acme"},
	} {
		created := e.createConn(e.conn(c.user, c.name))
		if c.user == "" && c.name == "acme" {
			acme = created
		}
	}
	tests := []struct {
		user string
		want []string
	}{
		{"", []string{"acme", "acme-sandbox", "zeta"}},
		{"u1", []string{"alpha", "beta"}},
		{"u2", []string{"acme"}},
		{"nobody", nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("user %q", tc.user), func(t *testing.T) {
			got, err := e.st.ListConnections(e.ctx, tc.user)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range got {
				if c.UserID != tc.user {
					t.Errorf("listed %q of user %q among user %q's", c.Name, c.UserID, tc.user)
				}
				names = append(names, c.Name)
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("names = %q, want %q", names, tc.want)
			}
		})
	}
	got, err := e.st.ListConnections(e.ctx, "")
	if err != nil || len(got) == 0 {
		t.Fatalf("ListConnections: %v, %d connections", err, len(got))
	}
	want := *e.conn("", "acme")
	want.Revision = acme.Revision
	wantConn(t, got[0], &want)
}

func testUpdateConnection(t *testing.T, e *env) {
	c := e.createConn(e.conn("", "acme"))
	first := c.Revision
	created := c.CreatedAt
	c.Provider, c.Environment, c.Auth = "lever2", "production", "api_key"
	c.Status, c.StatusMessage = "needs_reauth", "the refresh token was revoked"
	c.Public = json.RawMessage(`{"account":"Acme Inc"}`)
	c.Secrets = []byte{9, 0, 9}
	c.AccessExpiresAt, c.RefreshExpiresAt = nil, tp(e.now.Add(48*time.Hour))
	c.CreatedAt = e.now.Add(-time.Hour) // not written
	c.UpdatedAt = e.now.Add(time.Minute)
	if err := e.st.UpdateConnection(e.ctx, c); err != nil {
		t.Fatalf("UpdateConnection: %v", err)
	}
	if c.Revision != first+1 {
		t.Errorf("UpdateConnection set Revision = %d, want %d (one more than the created %d)", c.Revision, first+1, first)
	}
	want := *c
	want.CreatedAt = created
	wantConn(t, e.getConn("", "acme"), &want)

	// The new revision is the one to write over next.
	c.StatusMessage = ""
	if err := e.st.UpdateConnection(e.ctx, c); err != nil {
		t.Fatalf("second UpdateConnection: %v", err)
	}
	if got := e.getConn("", "acme"); got.Revision != first+2 || c.Revision != first+2 || got.StatusMessage != "" {
		t.Errorf("after the second update: stored revision %d, c.Revision %d, message %q; want %d, %d, empty",
			got.Revision, c.Revision, got.StatusMessage, first+2, first+2)
	}
}

func testUpdateConnectionStale(t *testing.T, e *env) {
	c := e.createConn(e.conn("", "acme"))
	first := c.Revision
	stale := *c
	c.Secrets = []byte("fresh tokens")
	if err := e.st.UpdateConnection(e.ctx, c); err != nil {
		t.Fatal(err)
	}
	stored := *c
	stale.Secrets, stale.Status = []byte("stale tokens"), "error"
	wantErr(t, e.st.UpdateConnection(e.ctx, &stale), store.ErrConflict)
	if stale.Revision != first {
		t.Errorf("a refused update changed the caller's Revision to %d, want %d", stale.Revision, first)
	}
	wantConn(t, e.getConn("", "acme"), &stored)

	ahead := *c
	ahead.Revision = c.Revision + 99
	wantErr(t, e.st.UpdateConnection(e.ctx, &ahead), store.ErrConflict)
	wantConn(t, e.getConn("", "acme"), &stored)
}

func testConcurrentUpdateConnection(t *testing.T, e *env) {
	c := e.createConn(e.conn("", "acme"))
	const workers = 8
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		winner []string
	)
	for w := range workers {
		mine := *c
		mine.Secrets = fmt.Appendf(nil, "tokens of w%d", w)
		wg.Go(func() {
			err := e.st.UpdateConnection(e.ctx, &mine)
			switch {
			case err == nil:
				mu.Lock()
				winner = append(winner, string(mine.Secrets))
				mu.Unlock()
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("UpdateConnection: %v, want nil or ErrConflict", err)
			}
		})
	}
	wg.Wait()
	if len(winner) != 1 {
		t.Fatalf("%d concurrent updates of revision %d won (%q), want exactly 1", len(winner), c.Revision, winner)
	}
	got := e.getConn("", "acme")
	if got.Revision != c.Revision+1 || string(got.Secrets) != winner[0] {
		t.Errorf("stored revision %d with Secrets %q, want revision %d with the winner's %q", got.Revision, got.Secrets, c.Revision+1, winner[0])
	}
}

func testConnectionNotFound(t *testing.T, e *env) {
	deleted := e.createConn(e.conn("u1", "acme"))
	missing := e.conn("", "acme") // same name, other user
	missing.Revision = deleted.Revision

	_, err := e.st.GetConnection(e.ctx, "", "acme")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, e.st.UpdateConnection(e.ctx, missing), store.ErrNotFound)
	wantErr(t, e.st.DeleteConnection(e.ctx, "", "acme"), store.ErrNotFound)
	if _, err := e.st.GetConnection(e.ctx, "u1", "acme"); err != nil {
		t.Fatalf("user u1's connection was touched by calls on the workspace's: %v", err)
	}

	if err := e.st.DeleteConnection(e.ctx, "u1", "acme"); err != nil {
		t.Fatalf("DeleteConnection: %v", err)
	}
	_, err = e.st.GetConnection(e.ctx, "u1", "acme")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, e.st.DeleteConnection(e.ctx, "u1", "acme"), store.ErrNotFound)
	gone := e.conn("u1", "acme")
	gone.Revision = deleted.Revision
	wantErr(t, e.st.UpdateConnection(e.ctx, gone), store.ErrNotFound)

	// The name is free again, with a revision it never had.
	again := e.createConn(e.conn("u1", "acme"))
	if again.Revision <= deleted.Revision {
		t.Errorf("re-created connection Revision = %d, want more than the deleted one's %d", again.Revision, deleted.Revision)
	}
}

// testConnectionRecreatedRevision: an update prepared against a deleted
// connection must not land on a new one created under the same name (the
// ABA problem), whatever revision the old one had reached.
func testConnectionRecreatedRevision(t *testing.T, e *env) {
	c := e.createConn(e.conn("", "acme"))
	var stale []store.Connection // a copy read at every revision the old one had
	stale = append(stale, *c)
	for i := range 3 {
		c.StatusMessage = fmt.Sprintf("update %d", i)
		if err := e.st.UpdateConnection(e.ctx, c); err != nil {
			t.Fatal(err)
		}
		stale = append(stale, *c)
	}
	last := c.Revision
	if err := e.st.DeleteConnection(e.ctx, "", "acme"); err != nil {
		t.Fatal(err)
	}
	fresh := e.conn("", "acme")
	fresh.Secrets = []byte("the new account's")
	e.createConn(fresh)
	if fresh.Revision <= last {
		t.Errorf("re-created connection starts at revision %d, want more than the deleted one's last %d", fresh.Revision, last)
	}
	want := *fresh
	for _, old := range stale {
		old.Secrets, old.Status = []byte("tokens of the deleted account"), "needs_reauth"
		wantErr(t, e.st.UpdateConnection(e.ctx, &old), store.ErrConflict)
	}
	wantConn(t, e.getConn("", "acme"), &want)

	// Deleted and created again at once, twice: still never a revision
	// seen before.
	seen := map[int64]bool{want.Revision: true}
	for range 2 {
		if err := e.st.DeleteConnection(e.ctx, "", "acme"); err != nil {
			t.Fatal(err)
		}
		again := e.createConn(e.conn("", "acme"))
		if seen[again.Revision] || again.Revision <= want.Revision {
			t.Errorf("re-created connection got revision %d again (after %d)", again.Revision, want.Revision)
		}
		seen[again.Revision] = true
		want = *again
	}
}

func testListAllConnections(t *testing.T, e *env) {
	if got, err := e.st.ListAllConnections(e.ctx); err != nil || len(got) != 0 {
		t.Fatalf("ListAllConnections of an empty store = %d connections, %v; want none", len(got), err)
	}
	created := map[string]*store.Connection{}
	for _, c := range []struct{ user, name string }{
		{"u2", "acme"}, {"", "zeta"}, {"u1", "beta"}, {"", "acme"}, {"u1", "alpha"},
	} {
		created[c.user+"/"+c.name] = e.createConn(e.conn(c.user, c.name))
	}
	got, err := e.st.ListAllConnections(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range got {
		keys = append(keys, c.UserID+"/"+c.Name)
	}
	if want := []string{"/acme", "/zeta", "u1/alpha", "u1/beta", "u2/acme"}; !slices.Equal(keys, want) {
		t.Fatalf("ListAllConnections = %q, want %q", keys, want)
	}
	for i, c := range got {
		want := *created[keys[i]]
		wantConn(t, c, &want)
	}
}

// testConnectionRefreshClaim: a claim is written and cleared by
// UpdateConnection like any other field, under the revision check.
func testConnectionRefreshClaim(t *testing.T, e *env) {
	c := e.createConn(e.conn("", "acme"))
	other := *c
	c.RefreshClaimUntil, c.RefreshClaimOwner = tp(e.now.Add(30*time.Second)), "process-a"
	if err := e.st.UpdateConnection(e.ctx, c); err != nil {
		t.Fatalf("claiming: %v", err)
	}
	want := *c
	wantConn(t, e.getConn("", "acme"), &want)

	// A second process that read the connection before the claim cannot
	// claim it too.
	other.RefreshClaimUntil, other.RefreshClaimOwner = tp(e.now.Add(30*time.Second)), "process-b"
	wantErr(t, e.st.UpdateConnection(e.ctx, &other), store.ErrConflict)
	wantConn(t, e.getConn("", "acme"), &want)

	c.Secrets, c.RefreshClaimUntil, c.RefreshClaimOwner = []byte("new tokens"), nil, ""
	if err := e.st.UpdateConnection(e.ctx, c); err != nil {
		t.Fatalf("saving and releasing: %v", err)
	}
	want = *c
	wantConn(t, e.getConn("", "acme"), &want)
}

func (e *env) state(id string, ttl time.Duration) *store.OAuthState {
	e.t.Helper()
	s := &store.OAuthState{
		ID:        id,
		UserID:    "user-7",
		Payload:   []byte{0, 's', 'e', 'a', 'l', 'e', 'd', 0},
		ExpiresAt: e.now.Add(ttl),
		CreatedAt: e.now,
	}
	if err := e.st.SaveOAuthState(e.ctx, s); err != nil {
		e.t.Fatalf("SaveOAuthState %s: %v", id, err)
	}
	return s
}

func testOAuthStateTakeOnce(t *testing.T, e *env) {
	want := e.state("state-1", 10*time.Minute)
	got, err := e.st.TakeOAuthState(e.ctx, "state-1", e.now.Add(time.Minute))
	if err != nil {
		t.Fatalf("TakeOAuthState: %v", err)
	}
	if got.ID != want.ID || got.UserID != want.UserID || !bytes.Equal(got.Payload, want.Payload) {
		t.Errorf("took %+v, want %+v", got, want)
	}
	wantTime(t, "ExpiresAt", &got.ExpiresAt, want.ExpiresAt)
	wantTime(t, "CreatedAt", &got.CreatedAt, want.CreatedAt)
	_, err = e.st.TakeOAuthState(e.ctx, "state-1", e.now.Add(time.Minute))
	wantErr(t, err, store.ErrNotFound)
	_, err = e.st.TakeOAuthState(e.ctx, "never-issued", e.now)
	wantErr(t, err, store.ErrNotFound)
}

func testOAuthStateExpired(t *testing.T, e *env) {
	tests := []struct {
		name string
		at   time.Duration // after e.now; the state lives 10 minutes
		ok   bool
	}{
		{"just before expiry", 10*time.Minute - time.Microsecond, true},
		{"at expiry", 10 * time.Minute, false},
		{"long after expiry", 24 * time.Hour, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.sub(t)
			id := fmt.Sprintf("state-%d", i)
			e.state(id, 10*time.Minute)
			_, err := e.st.TakeOAuthState(e.ctx, id, e.now.Add(tc.at))
			if tc.ok {
				if err != nil {
					t.Fatalf("TakeOAuthState: %v, want the state", err)
				}
				return
			}
			wantErr(t, err, store.ErrNotFound)
			// The expired state was deleted: not even an earlier clock finds it.
			_, err = e.st.TakeOAuthState(e.ctx, id, e.now)
			wantErr(t, err, store.ErrNotFound)
		})
	}
}

func testOAuthStateSweep(t *testing.T, e *env) {
	e.state("short", time.Minute)
	e.state("edge", 2*time.Minute) // expires at the very take below
	e.state("long", time.Hour)
	e.state("other", time.Hour)
	if _, err := e.st.TakeOAuthState(e.ctx, "long", e.now.Add(2*time.Minute)); err != nil {
		t.Fatalf("TakeOAuthState long: %v", err)
	}
	// "short" and "edge" had expired at the take above, which deleted
	// them: taking them with a clock at which they would still be valid
	// finds nothing.
	for _, id := range []string{"short", "edge"} {
		_, err := e.st.TakeOAuthState(e.ctx, id, e.now)
		wantErr(t, err, store.ErrNotFound)
	}
	// "other" had not expired and stays.
	if _, err := e.st.TakeOAuthState(e.ctx, "other", e.now.Add(2*time.Minute)); err != nil {
		t.Fatalf("TakeOAuthState other: %v (a live state was swept)", err)
	}
}

func testOAuthStateDuplicate(t *testing.T, e *env) {
	first := e.state("state-1", 10*time.Minute)
	dup := &store.OAuthState{ID: "state-1", Payload: []byte("someone else's"), ExpiresAt: e.now.Add(time.Hour), CreatedAt: e.now}
	wantErr(t, e.st.SaveOAuthState(e.ctx, dup), store.ErrConflict)
	got, err := e.st.TakeOAuthState(e.ctx, "state-1", e.now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Payload, first.Payload) || got.UserID != first.UserID {
		t.Errorf("after a refused duplicate the state holds %q of %q, want the first %q of %q",
			got.Payload, got.UserID, first.Payload, first.UserID)
	}
}
