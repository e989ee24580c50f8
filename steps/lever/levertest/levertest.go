// Package levertest owns the test kit of the Lever steps: Clients that
// hand out clients for an in-process Lever sandbox, and the example
// sandbox the steps' examples run against (NewExample, Expand). Only tests
// import it.
package levertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// ExampleNow is the example sandbox's stopped clock and the Now of the
// example step runs: 2025-06-02T09:30:00Z.
var ExampleNow = time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)

// Clients maps every connection name to one Lever API root and key.
type Clients struct {
	BaseURL string
	APIKey  string
	// HTTPClient, when set, sends the requests (default http.DefaultClient).
	HTTPClient *http.Client
	// MaxRetries is the client's (0: none, unlike the client's default).
	MaxRetries int
}

// Client implements lever.Clients.
func (c *Clients) Client(_ context.Context, _, _ string) (*client.Client, error) {
	retries := c.MaxRetries
	if retries == 0 {
		retries = -1
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	return client.New(client.Config{BaseURL: c.BaseURL, APIKey: c.APIKey, HTTPClient: hc, MaxRetries: retries,
		RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond})
}

// Serve serves sb on 127.0.0.1 until the test ends and returns Clients for
// it. wrap, when not nil, wraps the sandbox's handler (to inject faults).
func Serve(t testing.TB, sb *sandbox.Sandbox, wrap func(http.Handler) http.Handler) *Clients {
	t.Helper()
	var h http.Handler = sb
	if wrap != nil {
		h = wrap(sb)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close)
	return &Clients{BaseURL: srv.URL + "/v1", APIKey: sb.APIKey(), HTTPClient: srv.Client()}
}

// Example is the sandbox the Lever steps' examples run against.
type Example struct {
	Sandbox *sandbox.Sandbox
	Clients *Clients
	// Vars are the placeholders of the examples: opportunity, contact,
	// email, posting.
	Vars map[string]string
}

// NewExample starts the example sandbox: Lever's sandbox without demo
// candidates or postings (users, stages and archive reasons only), its
// clock stopped at ExampleNow, holding the opportunity of Ada Lovelace
// ({{opportunity}}, contact {{contact}}, email {{email}}) and the draft
// posting "Staff Engineer" ({{posting}}).
func NewExample(t testing.TB) *Example {
	t.Helper()
	sb := sandbox.New(sandbox.Options{Seed: 7, NoSeed: true, DisableRateLimit: true, Now: func() time.Time { return ExampleNow }})
	cl := Serve(t, sb, nil)
	c, err := cl.Client(context.Background(), "", "example")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opp, err := c.CreateOpportunity(ctx, client.CreateOpportunityInput{
		PerformAs: sandbox.UserPriya, Name: "Ada Lovelace", Headline: "Analytical Engines Ltd",
		Location: "London, United Kingdom", Emails: []string{"ada@example.com"},
		Phones: []client.Phone{{Type: "mobile", Value: "+44 20 7946 0000"}},
		Tags:   []string{"Backend"}, Sources: []string{"Referral"}, Origin: client.OriginReferred,
	})
	if err != nil {
		t.Fatalf("creating the example opportunity: %v", err)
	}
	p, err := c.CreatePosting(ctx, client.PostingInput{
		PerformAs: sandbox.UserLena, Text: "Staff Engineer",
		Categories: &client.PostingCategories{Team: "Platform", Location: "Berlin", Commitment: "Full-time"},
	})
	if err != nil {
		t.Fatalf("creating the example posting: %v", err)
	}
	return &Example{Sandbox: sb, Clients: cl, Vars: map[string]string{
		"opportunity": opp.ID, "contact": opp.Contact.ID, "email": "ada@example.com", "posting": p.ID,
	}}
}

// Expand replaces the example placeholders ({{opportunity}}, ...) in raw
// JSON and decodes it.
func (e *Example) Expand(raw json.RawMessage) (any, error) {
	s := string(raw)
	for k, v := range e.Vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("example JSON: %w", err)
	}
	return v, nil
}

// NewID is the placeholder an example output holds where Lever makes up an
// id: it matches any non-empty text, alone or inside a longer string.
const NewID = "{{new id}}"

// Match reports whether got, a step's output decoded from JSON, equals
// want, an expanded example output in which NewID matches any id.
func Match(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !Match(gv, wv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !Match(g[i], w[i]) {
				return false
			}
		}
		return true
	case string:
		g, ok := got.(string)
		if !ok {
			return false
		}
		if !strings.Contains(w, NewID) {
			return g == w
		}
		pre, post, _ := strings.Cut(w, NewID)
		return len(g) > len(pre)+len(post) && strings.HasPrefix(g, pre) && strings.HasSuffix(g, post) &&
			!strings.ContainsAny(g[len(pre):len(g)-len(post)], "/ ")
	}
	return reflect.DeepEqual(got, want)
}
