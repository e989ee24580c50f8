package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store"
)

// tokenTests are the subtests of API tokens.
var tokenTests = []subtest{
	{"TokenRoundTrip", testTokenRoundTrip},
	{"TokenDuplicate", testTokenDuplicate},
	{"ListTokensNewestFirst", testListTokens},
	{"RevokeToken", testRevokeToken},
	{"TouchToken", testTouchToken},
}

// eventTests are the subtests of the event inbox.
var eventTests = []subtest{
	{"EventRoundTrip", testEventRoundTrip},
	{"InsertEventDedupe", testInsertEventDedupe},
	{"InsertEventDuplicateID", testInsertEventDuplicateID},
	{"ListEventsByDedupeKey", testListEventsByDedupeKey},
	{"ConcurrentInsertEventDedupe", testConcurrentInsertEventDedupe},
	{"ListEventsFilters", testListEventsFilters},
	{"ListEventsKeysetPaging", testListEventsKeysetPaging},
	{"FinishEvent", testFinishEvent},
	{"ListPendingEvents", testListPendingEvents},
}

func hashOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (e *env) token(id string, created time.Time) *store.Token {
	e.t.Helper()
	tok := &store.Token{ID: id, Name: "token " + id, Hash: hashOf("secret-" + id), CreatedAt: created}
	if err := e.st.CreateToken(e.ctx, tok); err != nil {
		e.t.Fatalf("CreateToken %s: %v", id, err)
	}
	return tok
}

func (e *env) tokenByHash(hash string) *store.Token {
	e.t.Helper()
	tok, err := e.st.GetTokenByHash(e.ctx, hash)
	if err != nil {
		e.t.Fatalf("GetTokenByHash: %v", err)
	}
	return tok
}

func testTokenRoundTrip(t *testing.T, e *env) {
	for _, tc := range []struct {
		name string
		tok  store.Token
	}{
		{"admin", store.Token{ID: "t1", Name: "ci", Hash: hashOf("a"), Admin: true, CreatedAt: e.now}},
		{"connected user", store.Token{ID: "t2", Name: "", Hash: hashOf("b"), UserID: "user-9", CreatedAt: e.now,
			LastUsedAt: tp(e.now.Add(time.Second)), RevokedAt: tp(e.now.Add(time.Hour))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.tok
			if err := e.st.CreateToken(e.ctx, &in); err != nil {
				t.Fatalf("CreateToken: %v", err)
			}
			got := e.sub(t).tokenByHash(tc.tok.Hash)
			if got.ID != in.ID || got.Name != in.Name || got.Hash != in.Hash || got.Admin != in.Admin || got.UserID != in.UserID {
				t.Errorf("GetTokenByHash = %+v, want %+v", got, in)
			}
			wantTime(t, "CreatedAt", &got.CreatedAt, in.CreatedAt)
			wantOptTime(t, "LastUsedAt", got.LastUsedAt, in.LastUsedAt)
			wantOptTime(t, "RevokedAt", got.RevokedAt, in.RevokedAt)
		})
	}
	_, err := e.st.GetTokenByHash(e.ctx, hashOf("unknown"))
	wantErr(t, err, store.ErrNotFound)
}

func testTokenDuplicate(t *testing.T, e *env) {
	first := e.token("t1", e.now)
	for _, tc := range []struct {
		name string
		tok  store.Token
	}{
		{"same id", store.Token{ID: "t1", Hash: hashOf("other"), CreatedAt: e.now}},
		{"same hash", store.Token{ID: "t2", Hash: first.Hash, CreatedAt: e.now}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, e.st.CreateToken(e.ctx, &tc.tok), store.ErrConflict)
		})
	}
	toks, err := e.st.ListTokens(e.ctx)
	if err != nil || len(toks) != 1 {
		t.Errorf("ListTokens = %d tokens, %v; want 1", len(toks), err)
	}
}

func testListTokens(t *testing.T, e *env) {
	e.token("b", e.now.Add(time.Second))
	e.token("a", e.now.Add(2*time.Second))
	e.token("c", e.now)
	if err := e.st.RevokeToken(e.ctx, "a", e.now); err != nil {
		t.Fatal(err)
	}
	toks, err := e.st.ListTokens(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tok := range toks {
		got = append(got, tok.ID)
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("ListTokens = %v, want %v (newest first, revoked included)", got, want)
	}
}

func testRevokeToken(t *testing.T, e *env) {
	tok := e.token("t1", e.now)
	first := e.now.Add(time.Minute)
	if err := e.st.RevokeToken(e.ctx, "t1", first); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	got := e.tokenByHash(tok.Hash)
	wantOptTime(t, "RevokedAt", got.RevokedAt, &first)
	// Revoking again keeps the first time.
	if err := e.st.RevokeToken(e.ctx, "t1", first.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeToken again: %v", err)
	}
	got = e.tokenByHash(tok.Hash)
	wantOptTime(t, "RevokedAt after a second revoke", got.RevokedAt, &first)
	wantErr(t, e.st.RevokeToken(e.ctx, "nope", e.now), store.ErrNotFound)
}

func testTouchToken(t *testing.T, e *env) {
	tok := e.token("t1", e.now)
	if got := e.tokenByHash(tok.Hash); got.LastUsedAt != nil {
		t.Fatalf("a new token has LastUsedAt %s", got.LastUsedAt)
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"first use", e.now.Add(time.Second), e.now.Add(time.Second)},
		{"later use", e.now.Add(time.Minute), e.now.Add(time.Minute)},
		{"an older touch committed late", e.now.Add(30 * time.Second), e.now.Add(time.Minute)},
	} {
		if err := e.st.TouchToken(e.ctx, "t1", tc.at); err != nil {
			t.Fatalf("%s: TouchToken: %v", tc.name, err)
		}
		got := e.tokenByHash(tok.Hash)
		wantOptTime(t, tc.name+": LastUsedAt", got.LastUsedAt, &tc.want)
	}
	wantErr(t, e.st.TouchToken(e.ctx, "nope", e.now), store.ErrNotFound)
}

// event returns an event of the acme connection, received at e.now plus
// the given offset.
func (e *env) event(dedupe string, after time.Duration) *store.Event {
	return &store.Event{
		ID:         newID(),
		Source:     store.EventSourceLever,
		Connection: "acme",
		Type:       "candidateHired",
		DedupeKey:  dedupe,
		Payload:    json.RawMessage(`{"event":"candidateHired","data":{"opportunityId":"o1"}}`),
		ReceivedAt: e.now.Add(after),
	}
}

func (e *env) insertEvent(ev *store.Event) *store.Event {
	e.t.Helper()
	got, inserted, err := e.st.InsertEvent(e.ctx, ev)
	if err != nil || !inserted {
		e.t.Fatalf("InsertEvent %s = inserted %v, %v; want inserted", ev.ID, inserted, err)
	}
	return got
}

func (e *env) getEvent(id string) *store.Event {
	e.t.Helper()
	ev, err := e.st.GetEvent(e.ctx, id)
	if err != nil {
		e.t.Fatalf("GetEvent %s: %v", id, err)
	}
	return ev
}

func eventIDs(evs []*store.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

func wantEvent(t *testing.T, got, want *store.Event) {
	t.Helper()
	if got.ID != want.ID || got.Source != want.Source || got.Connection != want.Connection || got.UserID != want.UserID ||
		got.Type != want.Type || got.DedupeKey != want.DedupeKey || string(got.Payload) != string(want.Payload) ||
		got.Status != want.Status || got.Error != want.Error || !slices.Equal(got.RunIDs, want.RunIDs) || got.Replays != want.Replays {
		t.Errorf("event = %+v, want %+v", got, want)
	}
	wantTime(t, "ReceivedAt", &got.ReceivedAt, want.ReceivedAt)
	wantOptTime(t, "RoutedAt", got.RoutedAt, want.RoutedAt)
}

func testEventRoundTrip(t *testing.T, e *env) {
	ev := e.event("delivery-1", 0)
	ev.UserID = "user-7"
	got := e.insertEvent(ev)
	want := *ev
	want.Status = store.EventPending
	wantEvent(t, got, &want)
	wantEvent(t, e.getEvent(ev.ID), &want)

	set := e.event("", time.Second)
	set.Status, set.Error, set.RunIDs, set.RoutedAt, set.Replays = store.EventFailed, "boom", []string{"r1", "r2"}, tp(e.now), 2
	e.insertEvent(set)
	wantEvent(t, e.getEvent(set.ID), set)

	_, err := e.st.GetEvent(e.ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
}

func testInsertEventDedupe(t *testing.T, e *env) {
	first := e.insertEvent(e.event("k1", 0))
	for _, tc := range []struct {
		name      string
		change    func(ev *store.Event)
		wantFirst bool
	}{
		{"same key", func(*store.Event) {}, true},
		{"same key, other payload", func(ev *store.Event) { ev.Payload = json.RawMessage(`{"other":true}`) }, true},
		{"other key", func(ev *store.Event) { ev.DedupeKey = "k2" }, false},
		{"other source", func(ev *store.Event) { ev.Source = store.EventSourcePoll }, false},
		{"other connection", func(ev *store.Event) { ev.Connection = "other" }, false},
		{"other user", func(ev *store.Event) { ev.UserID = "user-1" }, false},
		{"no key", func(ev *store.Event) { ev.DedupeKey = "" }, false},
		{"no key again", func(ev *store.Event) { ev.DedupeKey = "" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := e.event("k1", time.Minute)
			tc.change(ev)
			got, inserted, err := e.st.InsertEvent(e.ctx, ev)
			if err != nil {
				t.Fatalf("InsertEvent: %v", err)
			}
			if tc.wantFirst {
				if inserted || got.ID != first.ID || string(got.Payload) != string(first.Payload) {
					t.Errorf("InsertEvent = %s (inserted %v), want the first event %s, not inserted", got.ID, inserted, first.ID)
				}
				if _, err := e.st.GetEvent(e.ctx, ev.ID); err == nil {
					t.Error("the duplicate event was written")
				}
				return
			}
			if !inserted || got.ID != ev.ID {
				t.Errorf("InsertEvent = %s (inserted %v), want %s inserted", got.ID, inserted, ev.ID)
			}
		})
	}
}

func testListEventsByDedupeKey(t *testing.T, e *env) {
	mine := e.insertEvent(e.event("k1", 0))
	other := e.event("k1", time.Second)
	other.UserID = "user-1"
	theirs := e.insertEvent(other)
	e.insertEvent(e.event("k2", 2*time.Second))
	for _, tc := range []struct {
		name string
		f    store.EventFilter
		want []string
	}{
		{"the workspace's", store.EventFilter{Source: store.EventSourceLever, Connection: "acme", DedupeKey: "k1"}, []string{mine.ID}},
		{"a user's", store.EventFilter{Source: store.EventSourceLever, Connection: "acme", DedupeKey: "k1", UserID: "user-1"}, []string{theirs.ID}},
		{"another connection's", store.EventFilter{Source: store.EventSourceLever, Connection: "other", DedupeKey: "k1"}, nil},
		{"an unknown key", store.EventFilter{Source: store.EventSourceLever, Connection: "acme", DedupeKey: "k9"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.st.ListEvents(e.ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if ids := eventIDs(got); !slices.Equal(ids, tc.want) {
				t.Errorf("ListEvents = %v, want %v", ids, tc.want)
			}
		})
	}
}

func testInsertEventDuplicateID(t *testing.T, e *env) {
	first := e.insertEvent(e.event("k1", 0))
	dup := e.event("k2", 0)
	dup.ID = first.ID
	_, _, err := e.st.InsertEvent(e.ctx, dup)
	wantErr(t, err, store.ErrConflict)
}

func testConcurrentInsertEventDedupe(t *testing.T, e *env) {
	const n = 16
	var wg sync.WaitGroup
	type result struct {
		id       string
		inserted bool
		err      error
	}
	results := make([]result, n)
	evs := make([]*store.Event, n)
	for i := range evs {
		evs[i] = e.event("burst", time.Duration(i)*time.Millisecond)
	}
	for i := range n {
		wg.Go(func() {
			got, inserted, err := e.st.InsertEvent(e.ctx, evs[i])
			results[i] = result{err: err, inserted: inserted}
			if got != nil {
				results[i].id = got.ID
			}
		})
	}
	wg.Wait()
	winner := ""
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("InsertEvent %d: %v", i, r.err)
		}
		if r.inserted {
			if winner != "" {
				t.Fatalf("two events of one dedupe key were inserted: %s and %s", winner, r.id)
			}
			winner = r.id
		}
	}
	if winner == "" {
		t.Fatal("no event was inserted")
	}
	for i, r := range results {
		if r.id != winner {
			t.Errorf("InsertEvent %d returned %s, want the one inserted, %s", i, r.id, winner)
		}
	}
}

func testListEventsFilters(t *testing.T, e *env) {
	var all []*store.Event // newest first
	for i, c := range []struct {
		source, conn, typ string
		status            store.EventStatus
	}{
		{store.EventSourceLever, "acme", "candidateHired", store.EventPending},
		{store.EventSourcePoll, "acme", "postingCreated", store.EventRouted},
		{store.EventSourceLever, "other", "candidateHired", store.EventUnmatched},
		{store.EventSourceAPI, "", "custom", store.EventRouted},
		{store.EventSourceLever, "acme", "candidateStageChange", store.EventFailed},
	} {
		ev := e.event("", time.Duration(i)*time.Hour)
		ev.Source, ev.Connection, ev.Type, ev.Status = c.source, c.conn, c.typ, c.status
		all = append([]*store.Event{e.insertEvent(ev)}, all...)
	}
	for _, tc := range []struct {
		name string
		f    store.EventFilter
		want []*store.Event
	}{
		{"all newest first", store.EventFilter{}, all},
		{"source", store.EventFilter{Source: store.EventSourceLever}, []*store.Event{all[0], all[2], all[4]}},
		{"connection", store.EventFilter{Connection: "acme"}, []*store.Event{all[0], all[3], all[4]}},
		{"type", store.EventFilter{Type: "candidateHired"}, []*store.Event{all[2], all[4]}},
		{"status", store.EventFilter{Status: store.EventRouted}, []*store.Event{all[1], all[3]}},
		{"received after (inclusive)", store.EventFilter{ReceivedAfter: e.now.Add(3 * time.Hour)}, all[:2]},
		{"received before (exclusive)", store.EventFilter{ReceivedBefore: e.now.Add(time.Hour)}, all[4:]},
		{"window", store.EventFilter{ReceivedAfter: e.now.Add(time.Hour), ReceivedBefore: e.now.Add(3 * time.Hour)}, all[2:4]},
		{"source and connection", store.EventFilter{Source: store.EventSourceLever, Connection: "acme"}, []*store.Event{all[0], all[4]}},
		{"after", store.EventFilter{After: all[1].ID}, all[2:]},
		{"limit", store.EventFilter{Limit: 2}, all[:2]},
		{"no match", store.EventFilter{Type: "nope"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.st.ListEvents(e.ctx, tc.f)
			if err != nil {
				t.Fatalf("ListEvents: %v", err)
			}
			if !slices.Equal(eventIDs(got), eventIDs(tc.want)) {
				t.Errorf("ListEvents = %v, want %v", eventIDs(got), eventIDs(tc.want))
			}
		})
	}
}

func testListEventsKeysetPaging(t *testing.T, e *env) {
	var want []string
	for i := range 7 {
		want = append([]string{e.insertEvent(e.event(fmt.Sprint(i), 0)).ID}, want...)
	}
	var got []string
	after := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("paging does not end")
		}
		evs, err := e.st.ListEvents(e.ctx, store.EventFilter{Limit: 3, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) > 3 {
			t.Fatalf("page of %d events, want at most 3", len(evs))
		}
		if len(evs) == 0 {
			break
		}
		got = append(got, eventIDs(evs)...)
		after = evs[len(evs)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged ids = %v, want %v", got, want)
	}
}

func testFinishEvent(t *testing.T, e *env) {
	ev := e.insertEvent(e.event("k", 0))
	for _, tc := range []struct {
		name        string
		res         store.EventResult
		wantStatus  store.EventStatus
		wantRuns    []string
		wantError   string
		wantReplays int
	}{
		{"routed", store.EventResult{Status: store.EventRouted, RunIDs: []string{"r1", "r2"}, At: e.now.Add(time.Second)},
			store.EventRouted, []string{"r1", "r2"}, "", 0},
		{"replay appends", store.EventResult{Status: store.EventRouted, RunIDs: []string{"r2", "r3"}, Replay: true, At: e.now.Add(2 * time.Second)},
			store.EventRouted, []string{"r1", "r2", "r3"}, "", 1},
		{"failed replay", store.EventResult{Status: store.EventFailed, Error: "workflow wf: invalid", Replay: true, At: e.now.Add(3 * time.Second)},
			store.EventFailed, []string{"r1", "r2", "r3"}, "workflow wf: invalid", 2},
		{"routing again replaces", store.EventResult{Status: store.EventUnmatched, At: e.now.Add(4 * time.Second)},
			store.EventUnmatched, nil, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.st.FinishEvent(e.ctx, ev.ID, tc.res); err != nil {
				t.Fatalf("FinishEvent: %v", err)
			}
			got := e.sub(t).getEvent(ev.ID)
			if got.Status != tc.wantStatus || !slices.Equal(got.RunIDs, tc.wantRuns) || got.Error != tc.wantError || got.Replays != tc.wantReplays {
				t.Errorf("event = status %s, runs %v, error %q, replays %d; want %s, %v, %q, %d",
					got.Status, got.RunIDs, got.Error, got.Replays, tc.wantStatus, tc.wantRuns, tc.wantError, tc.wantReplays)
			}
			wantOptTime(t, "RoutedAt", got.RoutedAt, &tc.res.At)
		})
	}
	wantErr(t, e.st.FinishEvent(e.ctx, "nope", store.EventResult{Status: store.EventRouted, At: e.now}), store.ErrNotFound)
	if err := e.st.FinishEvent(e.ctx, ev.ID, store.EventResult{Status: "done", At: e.now}); err == nil {
		t.Error("FinishEvent with an unknown status succeeded")
	}
}

func testListPendingEvents(t *testing.T, e *env) {
	var pending []string
	for i := range 5 {
		// Inserted newest first: ids and receipt times disagree, and the
		// order must follow the receipt time.
		ev := e.insertEvent(e.event("", time.Duration(5-i)*time.Minute))
		pending = append([]string{ev.ID}, pending...)
	}
	routed := e.insertEvent(e.event("", 0))
	if err := e.st.FinishEvent(e.ctx, routed.ID, store.EventResult{Status: store.EventRouted, At: e.now}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		before time.Time
		limit  int
		want   []string
	}{
		{"all oldest first", e.now.Add(time.Hour), 0, pending},
		{"limit", e.now.Add(time.Hour), 2, pending[:2]},
		{"received before", e.now.Add(3 * time.Minute), 0, pending[:2]},
		{"none yet", e.now, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.st.ListPendingEvents(e.ctx, tc.before, tc.limit)
			if err != nil {
				t.Fatalf("ListPendingEvents: %v", err)
			}
			if !slices.Equal(eventIDs(got), tc.want) {
				t.Errorf("ListPendingEvents = %v, want %v", eventIDs(got), tc.want)
			}
		})
	}
}
