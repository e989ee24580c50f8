package lever_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/lever"
	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/levertest"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

var testNow = time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)

type env struct {
	sb  *sandbox.Sandbox
	reg *steps.Registry
}

// setup serves a seeded sandbox (clock stopped at testNow) and registers
// the Lever steps against it; wrap may inject faults in front of it.
func setup(t *testing.T, wrap func(http.Handler) http.Handler, retries int) *env {
	t.Helper()
	sb := sandbox.New(sandbox.Options{Seed: 42, DisableRateLimit: true, Now: func() time.Time { return testNow }})
	cl := levertest.Serve(t, sb, wrap)
	cl.MaxRetries = retries
	reg := steps.NewRegistry()
	if err := lever.Register(reg, cl); err != nil {
		t.Fatal(err)
	}
	return &env{sb: sb, reg: reg}
}

func (e *env) run(t *testing.T, typ string, attempt int, input map[string]any) (any, error) {
	t.Helper()
	spec, ok := e.reg.Lookup(typ)
	if !ok {
		t.Fatalf("no step type %s", typ)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return spec.Run(ctx, &steps.Request{RunID: "r", StepID: "s", Key: "s", Attempt: attempt, Connection: "acme",
		Input: input, Now: testNow, StartedAt: testNow})
}

// failAfterWrite lets requests matching match reach the sandbox but answers
// the client 502, the first n times.
func failAfterWrite(match func(*http.Request) bool, n int32) (func(http.Handler) http.Handler, *atomic.Int32) {
	var hits atomic.Int32
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if match(r) && hits.Add(1) <= n {
				next.ServeHTTP(discard{}, r)
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			next.ServeHTTP(w, r)
		})
	}, &hits
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func isPost(path string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Path == path }
}

func TestCreateNeverDuplicates(t *testing.T) {
	t.Parallel()
	oppInput := map[string]any{"perform_as": sandbox.UserPriya, "name": "Grace Hopper", "emails": []any{"grace@example.com"}}
	postInput := map[string]any{"perform_as": sandbox.UserLena, "text": "Compiler Engineer", "team": "Platform"}
	tests := []struct {
		name    string
		typ     string
		path    string
		input   map[string]any
		retries int // the client's retries within one attempt
		attempt int // the step attempt that succeeds
		count   func(*sandbox.Sandbox, string) int
	}{
		{"opportunity: retry inside the call", "lever.create_opportunity", "/v1/opportunities", oppInput, 2, 1, countOpps},
		{"opportunity: the next step attempt", "lever.create_opportunity", "/v1/opportunities", oppInput, -1, 2, countOpps},
		{"posting: retry inside the call", "lever.create_posting", "/v1/postings", postInput, 2, 1, countPostings},
		{"posting: the next step attempt", "lever.create_posting", "/v1/postings", postInput, -1, 2, countPostings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wrap, hits := failAfterWrite(isPost(tt.path), 1)
			e := setup(t, wrap, tt.retries)
			name := "Grace Hopper"
			if tt.typ == "lever.create_posting" {
				name = "Compiler Engineer"
			}
			var out any
			var err error
			if tt.attempt == 2 {
				_, err = e.run(t, tt.typ, 1, tt.input)
				if err == nil || steps.IsPermanent(err) {
					t.Fatalf("attempt 1: err = %v, want a retryable error", err)
				}
			}
			out, err = e.run(t, tt.typ, tt.attempt, tt.input)
			if err != nil {
				t.Fatalf("attempt %d: %v", tt.attempt, err)
			}
			if got := tt.count(e.sb, name); got != 1 {
				t.Errorf("the sandbox holds %d of %q, want exactly 1", got, name)
			}
			if hits.Load() != 1 {
				t.Errorf("%d POSTs reached the sandbox, want 1", hits.Load())
			}
			m := out.(map[string]any)
			if id, _ := m["id"].(string); id == "" || (m["name"] != name && m["text"] != name) {
				t.Errorf("output %v is not the created object", m)
			}
		})
	}
}

// TestCreateOpportunityKnownEmailNeverDuplicates: for an email Lever
// already knows, Lever files the opportunity under the stored contact and
// keeps that contact's name, not the input's. The next attempt must still
// find the first attempt's opportunity.
func TestCreateOpportunityKnownEmailNeverDuplicates(t *testing.T) {
	t.Parallel()
	wrap, hits := failAfterWrite(isPost("/v1/opportunities"), 1)
	e := setup(t, wrap, -1)
	known := e.sb.Opportunities()[0]
	contact, _ := e.sb.Contact(known.Contact)
	perContact := func() int {
		n := 0
		for _, o := range e.sb.Opportunities() {
			if o.Contact == known.Contact {
				n++
			}
		}
		return n
	}
	before := perContact()
	input := map[string]any{"perform_as": sandbox.UserPriya, "name": "A Different Spelling", "emails": []any{contact.Emails[0]}}
	if _, err := e.run(t, "lever.create_opportunity", 1, input); err == nil || steps.IsPermanent(err) {
		t.Fatalf("attempt 1: err = %v, want a retryable error", err)
	}
	out, err := e.run(t, "lever.create_opportunity", 2, input)
	if err != nil {
		t.Fatalf("attempt 2: %v", err)
	}
	if got := perContact(); got != before+1 || hits.Load() != 1 {
		t.Errorf("the contact has %d opportunities (was %d) after %d POSTs; want exactly one more from one POST", got, before, hits.Load())
	}
	if m := out.(map[string]any); m["contact"] != known.Contact {
		t.Errorf("output %v is not the opportunity the first attempt made", m)
	}
}

// TestRequestPostIsNotRepeated: a lever.request POST answered 502 after it
// wrote fails permanently (the engine will not run it again), saying why;
// a GET answered 502 stays retryable.
func TestRequestPostIsNotRepeated(t *testing.T) {
	t.Parallel()
	wrap, hits := failAfterWrite(func(r *http.Request) bool {
		return strings.HasSuffix(r.URL.Path, "/addTags") || r.URL.Path == "/v1/stages"
	}, 2)
	e := setup(t, wrap, -1)
	opp := e.sb.Opportunities()[0]
	_, err := e.run(t, "lever.request", 1, map[string]any{"method": "POST", "path": "/opportunities/" + opp.ID + "/addTags", "body": map[string]any{"tags": []any{"once"}}})
	if err == nil || !steps.IsPermanent(err) || !strings.Contains(err.Error(), "was not repeated because it may already have written") {
		t.Fatalf("POST after a 502: err = %v, want a permanent error saying it was not repeated", err)
	}
	_, err = e.run(t, "lever.request", 1, map[string]any{"path": "/stages"})
	if err == nil || steps.IsPermanent(err) {
		t.Fatalf("GET after a 502: err = %v, want a retryable error", err)
	}
	if hits.Load() != 2 {
		t.Errorf("%d requests reached the sandbox, want 2", hits.Load())
	}
}

func countOpps(sb *sandbox.Sandbox, name string) int {
	n := 0
	for _, o := range sb.Opportunities() {
		if o.Name == name {
			n++
		}
	}
	return n
}

func countPostings(sb *sandbox.Sandbox, text string) int {
	n := 0
	for _, p := range sb.Postings() {
		if p.Text == text {
			n++
		}
	}
	return n
}

func TestUpdateContactMerges(t *testing.T) {
	t.Parallel()
	e := setup(t, nil, 0)
	opp := e.sb.Opportunities()[0]
	before, _ := e.sb.Contact(opp.Contact)
	out, err := e.run(t, "lever.update_contact", 1, map[string]any{"contact_id": opp.Contact, "headline": "Babbage & Co"})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := e.sb.Contact(opp.Contact)
	if after.Headline != "Babbage & Co" || out.(map[string]any)["headline"] != "Babbage & Co" {
		t.Errorf("headline = %q, output %v", after.Headline, out)
	}
	if after.Name != before.Name || strings.Join(after.Emails, ",") != strings.Join(before.Emails, ",") ||
		len(after.Phones) != len(before.Phones) || (before.Location == nil) != (after.Location == nil) ||
		before.Location != nil && before.Location.Name != after.Location.Name {
		t.Errorf("fields not given changed:\n before %+v\n after  %+v", before, after)
	}
}

func TestErrorsFromLever(t *testing.T) {
	t.Parallel()
	status := func(code int, retryAfter string) func(http.Handler) http.Handler {
		return func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if retryAfter != "" {
					w.Header().Set("Retry-After", retryAfter)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(code)
				_, _ = w.Write([]byte(`{"code": "X", "message": "status ` + http.StatusText(code) + `"}`))
			})
		}
	}
	tests := []struct {
		name       string
		wrap       func(http.Handler) http.Handler
		id         string
		permanent  bool
		retryAfter time.Duration
		msg        string
		is         error
	}{
		{"404 is permanent with Lever's message", nil, "nope", true, 0, "Lever answered 404 ResourceNotFound: Opportunity nope was not found", client.ErrNotFound},
		{"403 is permanent", status(403, ""), "x", true, 0, "Lever answered 403 X: status Forbidden", client.ErrForbidden},
		{"429 with Retry-After is retried after it", status(429, "120"), "x", false, 2 * time.Minute, "Lever answered 429 X", client.ErrRateLimited},
		{"429 without Retry-After is retryable", status(429, ""), "x", false, 0, "Lever answered 429 X", client.ErrRateLimited},
		{"503 is retryable", status(503, ""), "x", false, 0, "Lever answered 503 X", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, tt.wrap, -1)
			_, err := e.run(t, "lever.get_opportunity", 1, map[string]any{"opportunity_id": tt.id})
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.msg)
			}
			if steps.IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v", steps.IsPermanent(err), tt.permanent)
			}
			if d, _ := steps.RetryAfterOf(err); d != tt.retryAfter {
				t.Errorf("retry after = %v, want %v", d, tt.retryAfter)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false", tt.is)
			}
		})
	}
}

type clientsFunc func(ctx context.Context, userID, connection string) (*client.Client, error)

func (f clientsFunc) Client(ctx context.Context, userID, connection string) (*client.Client, error) {
	return f(ctx, userID, connection)
}

func TestConnectionErrors(t *testing.T) {
	t.Parallel()
	retryable := &steps.Error{Err: errors.New("token refresh timed out")}
	tests := []struct {
		name      string
		clients   lever.Clients
		msg       string
		permanent bool
	}{
		{"no Clients", nil, "no Lever connections are configured in this process", true},
		{"unknown connection", clientsFunc(func(context.Context, string, string) (*client.Client, error) {
			return nil, errors.New("no such connection")
		}), `connection "acme": no such connection`, true},
		{"a retryable error stays retryable", clientsFunc(func(context.Context, string, string) (*client.Client, error) {
			return nil, retryable
		}), `connection "acme": token refresh timed out`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := steps.NewRegistry()
			if err := lever.Register(reg, tt.clients); err != nil {
				t.Fatal(err)
			}
			spec, _ := reg.Lookup("lever.get_user")
			_, err := spec.Run(context.Background(), &steps.Request{Connection: "acme", Attempt: 1, Input: map[string]any{"user_id": "u"}})
			if err == nil || !strings.Contains(err.Error(), tt.msg) || steps.IsPermanent(err) != tt.permanent {
				t.Fatalf("err = %v (permanent %v), want %q (permanent %v)", err, steps.IsPermanent(err), tt.msg, tt.permanent)
			}
		})
	}
}

func decode(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestUsersDirectory(t *testing.T) {
	t.Parallel()
	e := setup(t, nil, 0)
	out, err := e.run(t, "lever.get_users", 1, map[string]any{"include_deactivated": true, "all_pages": true, "limit": 3.0})
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, out)
	if m["count"] != float64(len(e.sb.Users())) || m["has_next"] != false || m["next"] != "" {
		t.Fatalf("count %v has_next %v next %v; the sandbox has %d users", m["count"], m["has_next"], m["next"], len(e.sb.Users()))
	}
	seen := map[string]map[string]any{}
	for _, it := range m["items"].([]any) {
		u := it.(map[string]any)
		seen[u["id"].(string)] = u
	}
	tests := []struct {
		id, first, last, role, status, license string
	}{
		{sandbox.UserPriya, "Priya", "Raman", "super admin", "active", "paid"},
		{sandbox.UserLena, "Lena", "Fischer", "team member", "active", "paid"},
	}
	for _, tt := range tests {
		u := seen[tt.id]
		if u["first_name"] != tt.first || u["last_name"] != tt.last || u["role"] != tt.role || u["status"] != tt.status || u["license_status"] != tt.license {
			t.Errorf("user %s: %v", tt.id, u)
		}
		if _, err := time.Parse(time.RFC3339, u["created_at"].(string)); err != nil {
			t.Errorf("created_at: %v", err)
		}
	}
	var deactivated, interviewers int
	for _, u := range seen {
		if u["status"] == "deactivated" {
			deactivated++
		}
		if u["role"] == "interviewer" {
			interviewers++
			if u["license_status"] != "free" {
				t.Errorf("interviewer %v is not free", u["name"])
			}
		}
	}
	if deactivated == 0 || interviewers == 0 {
		t.Errorf("deactivated %d, interviewers %d: want some of each", deactivated, interviewers)
	}
}

func TestListPagingCap(t *testing.T) {
	t.Parallel()
	e := setup(t, nil, 0)
	total := len(e.sb.Users())
	out, err := e.run(t, "lever.get_users", 1, map[string]any{"include_deactivated": true, "all_pages": true, "limit": 3.0, "max_items": 4.0})
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, out)
	if m["count"] != 4.0 || m["has_next"] != true || m["next"] == "" {
		t.Fatalf("capped: count %v has_next %v next %q", m["count"], m["has_next"], m["next"])
	}
	rest, err := e.run(t, "lever.get_users", 1, map[string]any{"include_deactivated": true, "all_pages": true, "offset": m["next"]})
	if err != nil {
		t.Fatal(err)
	}
	r := decode(t, rest)
	if r["count"] != float64(total-4) || r["has_next"] != false {
		t.Fatalf("rest: count %v has_next %v, want %d and false", r["count"], r["has_next"], total-4)
	}
	first := m["items"].([]any)[3].(map[string]any)["id"]
	for _, it := range r["items"].([]any) {
		if it.(map[string]any)["id"] == first {
			t.Errorf("the continuation repeats %v", first)
		}
	}
}

func TestInputErrors(t *testing.T) {
	t.Parallel()
	e := setup(t, nil, 0)
	tests := []struct {
		name, typ string
		input     map[string]any
		msg       string
	}{
		{"limit above 100", "lever.get_opportunities", map[string]any{"limit": 101.0}, "input.limit: must be from 1 to 100"},
		{"max_items above 10000", "lever.get_postings", map[string]any{"all_pages": true, "max_items": 10001.0}, "input.max_items: must be from 1 to 10000"},
		{"bad time filter", "lever.get_opportunities", map[string]any{"created_at_start": "yesterday"}, "input.created_at_start: must be an RFC 3339 time"},
		{"empty tags", "lever.add_opportunity_tags", map[string]any{"opportunity_id": "x", "tags": []any{}}, "input.tags: must hold at least one tag"},
		{"empty id from a reference", "lever.get_opportunity", map[string]any{"opportunity_id": ""}, "input.opportunity_id: must not be empty"},
		{"id with a slash", "lever.get_contact", map[string]any{"contact_id": "a/../b"}, "is not a Lever id"},
		{"absolute path", "lever.request", map[string]any{"path": "https://evil.example/v1/x"}, "input.path: must not hold a scheme or host"},
		{"relative path", "lever.request", map[string]any{"path": "stages"}, `input.path: must start with "/"`},
		{"dot-dot", "lever.request", map[string]any{"path": "/a/../b"}, `must not hold "." or ".." segments`},
		{"query of objects", "lever.request", map[string]any{"path": "/stages", "query": map[string]any{"a": map[string]any{}}}, "input.query.a: must be text or a list of text"},
		{"nothing to change", "lever.update_contact", map[string]any{"contact_id": "c"}, "input: nothing to change"},
		{"no person", "lever.create_opportunity", map[string]any{"perform_as": sandbox.UserPriya}, "input: an opportunity needs a person"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.run(t, tt.typ, 1, tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.msg) || !steps.IsPermanent(err) {
				t.Fatalf("err = %v (permanent %v), want a permanent error containing %q", err, steps.IsPermanent(err), tt.msg)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	t.Parallel()
	e := setup(t, nil, 0)
	out, err := e.run(t, "lever.request", 1, map[string]any{"path": "/opportunities", "query": map[string]any{"limit": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, out)
	if m["status"] != 200.0 || len(m["data"].([]any)) != 2 || m["has_next"] != true || m["next"] == "" {
		t.Fatalf("list: %v", m)
	}
	out, err = e.run(t, "lever.request", 1, map[string]any{"path": "/users/" + sandbox.UserPriya})
	if err != nil {
		t.Fatal(err)
	}
	m = decode(t, out)
	if m["data"].(map[string]any)["name"] != "Priya Raman" || m["has_next"] != false {
		t.Fatalf("object: %v", m)
	}
	opp := e.sb.Opportunities()[0]
	out, err = e.run(t, "lever.request", 1, map[string]any{"method": "POST", "path": "/opportunities/" + opp.ID + "/addTags", "body": map[string]any{"tags": []any{"via-request"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.sb.Opportunity(opp.ID); !strings.Contains(strings.Join(got.Tags, ","), "via-request") {
		t.Errorf("tags after POST: %v", got.Tags)
	}
	// A create answers 201, passed through as Lever sent it.
	out, err = e.run(t, "lever.request", 1, map[string]any{"method": "POST", "path": "/opportunities",
		"query": map[string]any{"perform_as": sandbox.UserPriya},
		"body":  map[string]any{"name": "Request Created", "emails": []any{"request.created@example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	m = decode(t, out)
	if m["status"] != 201.0 || m["data"].(map[string]any)["name"] != "Request Created" {
		t.Fatalf("create: %v", m)
	}
}
