package client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// fakeClock is an injected clock whose Sleep advances time instantly and
// records what was asked for, so no test sleeps for real.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	return nil
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// recorded is one request the test server saw.
type recorded struct {
	Method   string
	Path     string
	RawQuery string
	Query    map[string][]string
	Auth     string
	Body     string
}

// server is a real httptest server on 127.0.0.1 that records requests.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func (s *server) Requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

func newServer(t testing.TB, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, recorded{
			Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Query: r.URL.Query(), Auth: r.Header.Get("Authorization"), Body: string(b),
		})
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// setup starts h and returns a client on it with the limiter off and a fake
// clock; mutate adjusts the config.
func setup(t testing.TB, h http.HandlerFunc, mutate func(*Config)) (*Client, *server, *fakeClock) {
	t.Helper()
	srv := newServer(t, h)
	clock := newFakeClock()
	cfg := Config{
		BaseURL:   srv.URL + "/v1",
		APIKey:    "test-key",
		RateLimit: rate.Inf,
		Now:       clock.Now,
		Sleep:     clock.Sleep,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, srv, clock
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	switch b := v.(type) {
	case []byte:
		_, _ = w.Write(b)
	case string:
		_, _ = io.WriteString(w, b)
	default:
		_ = json.NewEncoder(w).Encode(v)
	}
}

// seq serves the given responses in order, repeating the last.
func seq(responses ...func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	var mu sync.Mutex
	i := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		f := responses[min(i, len(responses)-1)]
		i++
		mu.Unlock()
		f(w, r)
	}
}

func status(code int, body string, headers ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if body == "" {
			w.WriteHeader(code)
			return
		}
		writeJSON(w, code, body)
	}
}
