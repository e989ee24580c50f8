package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestRateLimitPerToken: a token over its burst gets 429 with Retry-After
// and the error shape, while another token is still served.
func TestRateLimitPerToken(t *testing.T) {
	f := setupWith(t, fixtureOptions{rate: 0.5, burst: 3})
	for range 3 {
		f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/step-types"})
	}
	r := f.do(request{Method: "GET", Path: "/api/v1/step-types"})
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("4th request in a burst of 3: status %d, want 429", r.status)
	}
	body := r.json(t)
	e, _ := body["error"].(map[string]any)
	if e["code"] != "rate_limited" || !strings.Contains(e["message"].(string), "retry after") {
		t.Errorf("error = %v", e)
	}
	if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 || secs > 2 {
		t.Errorf("Retry-After = %q, want 1-2 seconds", r.header.Get("Retry-After"))
	}
	// Another token has its own bucket.
	f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/step-types", Token: readerToken})
	// A negative limit turns it off.
	g := setupWith(t, fixtureOptions{rate: -1})
	for range 120 {
		g.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/trigger-types"})
	}
}
