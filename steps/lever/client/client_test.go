package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tok := func(context.Context) (string, error) { return "t", nil }
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"no credential", Config{}, "one of APIKey or TokenSource"},
		{"both credentials", Config{APIKey: "k", TokenSource: tok}, "not both"},
		{"relative base", Config{APIKey: "k", BaseURL: "api.lever.co/v1"}, "invalid BaseURL"},
		{"defaults", Config{APIKey: "k"}, ""},
		{"sandbox", Config{TokenSource: tok, BaseURL: SandboxURL + "/"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.cfg.BaseURL == "" && c.base != ProductionURL {
				t.Errorf("base = %q", c.base)
			}
			if c.limiter.Limit() != DefaultRateLimit || c.limiter.Burst() != DefaultBurst || c.maxRetries != DefaultMaxRetries {
				t.Errorf("defaults: limit %v burst %d retries %d", c.limiter.Limit(), c.limiter.Burst(), c.maxRetries)
			}
		})
	}
}

func TestAuthHeaders(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string
	}{
		{"basic with empty password", func(c *Config) { c.APIKey = "abc123" },
			[]string{"Basic " + base64.StdEncoding.EncodeToString([]byte("abc123:")), "Basic " + base64.StdEncoding.EncodeToString([]byte("abc123:"))}},
		{"bearer fetched per request", func(c *Config) {
			c.APIKey = ""
			c.TokenSource = func(context.Context) (string, error) { return fmt.Sprintf("tok-%d", calls.Add(1)), nil }
		}, []string{"Bearer tok-1", "Bearer tok-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv, _ := setup(t, status(200, `{"data":{}}`), tt.mutate)
			for range 2 {
				if err := c.Do(context.Background(), "GET", "/stages", nil, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			for i, r := range srv.Requests() {
				if r.Auth != tt.want[i] {
					t.Errorf("request %d Authorization = %q, want %q", i, r.Auth, tt.want[i])
				}
			}
		})
	}
}

func TestTokenSourceErrorNotRetried(t *testing.T) {
	t.Parallel()
	boom := errors.New("refresh failed")
	c, srv, _ := setup(t, status(200, `{}`), func(c *Config) {
		c.APIKey = ""
		c.TokenSource = func(context.Context) (string, error) { return "", boom }
	})
	err := c.Do(context.Background(), "GET", "/stages", nil, nil, nil)
	if !errors.Is(err, boom) || len(srv.Requests()) != 0 || c.Stats().Retries != 0 {
		t.Fatalf("err = %v, requests %d", err, len(srv.Requests()))
	}
}

func TestDoEnvelope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		status int
		body   string
		check  func(t *testing.T, c *Client)
	}{
		{"data into typed", 200, `{"data":{"id":"lead-new","text":"New lead","extra":1}}`, func(t *testing.T, c *Client) {
			var s Stage
			if err := c.Do(ctx, "GET", "/stages/lead-new", nil, nil, &s); err != nil || s != (Stage{"lead-new", "New lead"}) {
				t.Fatalf("stage = %+v, err %v", s, err)
			}
		}},
		{"data into raw message", 201, `{"data": {"applicationId":"a1"}}`, func(t *testing.T, c *Client) {
			var raw json.RawMessage
			if err := c.Do(ctx, "POST", "/x", nil, map[string]int{"a": 1}, &raw); err != nil || string(raw) != `{"applicationId":"a1"}` {
				t.Fatalf("raw = %s, err %v", raw, err)
			}
		}},
		{"204 leaves out untouched", 204, "", func(t *testing.T, c *Client) {
			s := Stage{ID: "keep"}
			if err := c.Do(ctx, "DELETE", "/webhooks/1", nil, nil, &s); err != nil || s.ID != "keep" {
				t.Fatalf("stage = %+v, err %v", s, err)
			}
		}},
		{"no data member decoded whole", 200, `[{"id":"w1"}]`, func(t *testing.T, c *Client) {
			var ws []Webhook
			if err := c.Do(ctx, "PUT", "/webhooks", nil, nil, &ws); err != nil || len(ws) != 1 || ws[0].ID != "w1" {
				t.Fatalf("webhooks = %+v, err %v", ws, err)
			}
		}},
		{"nil out discards", 200, `{"data":{"id":"x"}}`, func(t *testing.T, c *Client) {
			if err := c.Do(ctx, "GET", "/x", nil, nil, nil); err != nil {
				t.Fatal(err)
			}
		}},
		{"malformed body", 200, `{"data":`, func(t *testing.T, c *Client) {
			var s Stage
			if err := c.Do(ctx, "GET", "/x", nil, nil, &s); err == nil || !strings.Contains(err.Error(), "decoding response") {
				t.Fatalf("err = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv, _ := setup(t, status(tt.status, tt.body), nil)
			tt.check(t, c)
			for _, r := range srv.Requests() {
				if !strings.HasPrefix(r.Path, "/v1/") {
					t.Errorf("path %q lost the /v1 root", r.Path)
				}
			}
		})
	}
}

func TestDoSendsJSONBody(t *testing.T) {
	t.Parallel()
	var ct, ua string
	c, srv, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		ct, ua = r.Header.Get("Content-Type"), r.Header.Get("User-Agent")
		writeJSON(w, 201, `{"data":{}}`)
	}, func(c *Config) { c.UserAgent = "lf-test" })
	if err := c.Do(context.Background(), "POST", "/tags", nil, map[string]string{"a": "b"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := srv.Requests()[0].Body; got != `{"a":"b"}` || ct != "application/json" || ua != "lf-test" {
		t.Errorf("body %q content-type %q user-agent %q", got, ct, ua)
	}
}

func TestAPIErrorSentinels(t *testing.T) {
	t.Parallel()
	sentinels := []error{ErrNotFound, ErrUnauthorized, ErrForbidden, ErrRateLimited}
	tests := []struct {
		status    int
		body      string
		want      error
		retryable bool
		text      string
	}{
		{404, `{"code":"ResourceNotFound","message":"/v1/x does not exist"}`, ErrNotFound, false, "lever: GET /x: 404 ResourceNotFound: /v1/x does not exist"},
		{401, `{"code":"UnauthorizedError","message":"The request requires authentication."}`, ErrUnauthorized, false, "lever: GET /x: 401 UnauthorizedError: The request requires authentication."},
		{403, `{"code":"ForbiddenError","message":"no"}`, ErrForbidden, false, "lever: GET /x: 403 ForbiddenError: no"},
		{429, `{"code":"TooManyRequestsError","message":"slow down"}`, ErrRateLimited, true, "lever: GET /x: 429 TooManyRequestsError: slow down"},
		{400, `{"code":"BadRequestError","message":"bad"}`, nil, false, "lever: GET /x: 400 BadRequestError: bad"},
		{503, `<html>maintenance</html>`, nil, true, "lever: GET /x: 503: <html>maintenance</html>"},
		{500, ``, nil, true, "lever: GET /x: 500: Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			c, _, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}, func(c *Config) { c.MaxRetries = -1 })
			err := c.Do(context.Background(), "GET", "/x", nil, nil, nil)
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v", err)
			}
			if apiErr.Status != tt.status || apiErr.Retryable() != tt.retryable || err.Error() != tt.text {
				t.Errorf("err = %q status %d retryable %v", err, apiErr.Status, apiErr.Retryable())
			}
			for _, s := range sentinels {
				if got := errors.Is(err, s); got != (s == tt.want) {
					t.Errorf("errors.Is(err, %v) = %v", s, got)
				}
			}
		})
	}
}

func TestRetry429(t *testing.T) {
	t.Parallel()
	const limited = `{"code":"TooManyRequestsError","message":"You have exceeded your request rate of 10 r/s."}`
	clockNow := newFakeClock().Now()
	tests := []struct {
		name       string
		method     string
		retryAfter string
		check      func(t *testing.T, sleeps []time.Duration)
	}{
		{"retry-after seconds", "GET", "3", func(t *testing.T, s []time.Duration) {
			if len(s) != 1 || s[0] != 3*time.Second {
				t.Errorf("sleeps = %v, want [3s]", s)
			}
		}},
		{"retry-after http date", "GET", clockNow.Add(7 * time.Second).Format(http.TimeFormat), func(t *testing.T, s []time.Duration) {
			if len(s) != 1 || s[0] != 7*time.Second {
				t.Errorf("sleeps = %v, want [7s]", s)
			}
		}},
		{"no retry-after: jittered backoff", "GET", "", func(t *testing.T, s []time.Duration) {
			if len(s) != 1 || s[0] < 0 || s[0] > 100*time.Millisecond {
				t.Errorf("sleeps = %v, want one in [0, RetryBase]", s)
			}
		}},
		{"POST retried on 429", "POST", "1", func(t *testing.T, s []time.Duration) {
			if len(s) != 1 || s[0] != time.Second {
				t.Errorf("sleeps = %v, want [1s]", s)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var headers []string
			if tt.retryAfter != "" {
				headers = []string{"Retry-After", tt.retryAfter}
			}
			c, srv, clock := setup(t, seq(status(429, limited, headers...), status(200, `{"data":{"id":"s1"}}`)),
				func(c *Config) { c.RetryBase = 100 * time.Millisecond })
			var s Stage
			if err := c.Do(context.Background(), tt.method, "/stages", nil, nil, &s); err != nil || s.ID != "s1" {
				t.Fatalf("stage %+v, err %v", s, err)
			}
			if n := len(srv.Requests()); n != 2 {
				t.Errorf("requests = %d, want 2", n)
			}
			st := c.Stats()
			if st.Requests != 2 || st.Retries != 1 || st.ByStatus[429] != 1 || st.ByStatus[200] != 1 {
				t.Errorf("stats = %+v", st)
			}
			tt.check(t, clock.Sleeps())
		})
	}
}

func TestRetryServerErrors(t *testing.T) {
	t.Parallel()
	t.Run("5xx then success", func(t *testing.T) {
		t.Parallel()
		c, srv, clock := setup(t, seq(status(503, ""), status(502, ""), status(200, `{"data":{"id":"s"}}`)), nil)
		if err := c.Do(context.Background(), "GET", "/stages/s", nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		if len(srv.Requests()) != 3 || c.Stats().Retries != 2 || len(clock.Sleeps()) != 2 {
			t.Errorf("requests %d stats %+v", len(srv.Requests()), c.Stats())
		}
	})
	t.Run("exhausted", func(t *testing.T) {
		t.Parallel()
		c, srv, clock := setup(t, status(500, `{"code":"InternalError","message":"oops"}`), func(c *Config) {
			c.MaxRetries = 3
			c.RetryBase = time.Second
			c.RetryMax = 4 * time.Second
		})
		err := c.Do(context.Background(), "PUT", "/contacts/c1", nil, map[string]string{}, nil)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 500 || apiErr.Code != "InternalError" || apiErr.Method != "PUT" || apiErr.Path != "/contacts/c1" {
			t.Fatalf("err = %v", err)
		}
		if n := len(srv.Requests()); n != 4 {
			t.Errorf("requests = %d, want 1 + 3 retries", n)
		}
		ceilings := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
		for i, d := range clock.Sleeps() {
			if d < 0 || d > ceilings[i] {
				t.Errorf("sleep %d = %v, want within [0, %v]", i, d, ceilings[i])
			}
		}
		if st := c.Stats(); st.Retries != 3 || st.ByStatus[500] != 4 {
			t.Errorf("stats = %+v", st)
		}
	})
	t.Run("4xx not retried", func(t *testing.T) {
		t.Parallel()
		c, srv, _ := setup(t, status(404, `{"code":"NotFoundError","message":"gone"}`), nil)
		err := c.Do(context.Background(), "GET", "/opportunities/x", nil, nil, nil)
		if !errors.Is(err, ErrNotFound) || len(srv.Requests()) != 1 {
			t.Fatalf("err = %v, requests %d", err, len(srv.Requests()))
		}
	})
	t.Run("network error retried for GET", func(t *testing.T) {
		t.Parallel()
		c, srv, _ := setup(t, status(200, ""), func(c *Config) { c.MaxRetries = 2 })
		srv.Close()
		err := c.Do(context.Background(), "GET", "/stages", nil, nil, nil)
		var apiErr *APIError
		if err == nil || errors.As(err, &apiErr) {
			t.Fatalf("err = %v, want a transport error", err)
		}
		if st := c.Stats(); st.Requests != 3 || st.ByStatus[0] != 3 {
			t.Errorf("stats = %+v", st)
		}
	})
}

func TestPOSTRetryPolicy(t *testing.T) {
	t.Parallel()
	errHook := errors.New("lookup failed")
	tests := []struct {
		name      string
		opts      func(hookCalls *atomic.Int32) []CallOption
		wantReqs  int
		wantHooks int32
		wantErr   func(error) bool
	}{
		{"plain POST not retried", func(*atomic.Int32) []CallOption { return nil }, 1, 0,
			func(err error) bool { var a *APIError; return errors.As(err, &a) && a.Status == 500 }},
		{"Idempotent retried", func(*atomic.Int32) []CallOption { return []CallOption{Idempotent()} }, 2, 0,
			func(err error) bool { return err == nil }},
		{"BeforeRetry not done: retried", func(n *atomic.Int32) []CallOption {
			return []CallOption{BeforeRetry(func(context.Context) (bool, error) { n.Add(1); return false, nil })}
		}, 2, 1, func(err error) bool { return err == nil }},
		{"BeforeRetry done: stops with nil", func(n *atomic.Int32) []CallOption {
			return []CallOption{BeforeRetry(func(context.Context) (bool, error) { n.Add(1); return true, nil })}
		}, 1, 1, func(err error) bool { return err == nil }},
		{"BeforeRetry error: returned with the attempt's", func(n *atomic.Int32) []CallOption {
			return []CallOption{BeforeRetry(func(context.Context) (bool, error) { n.Add(1); return false, errHook })}
		}, 1, 1, func(err error) bool { var a *APIError; return errors.Is(err, errHook) && errors.As(err, &a) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv, _ := setup(t, seq(status(500, ""), status(201, `{"data":{"id":"o1"}}`)), nil)
			var hooks atomic.Int32
			var o Opportunity
			err := c.Do(context.Background(), "POST", "/opportunities", nil, map[string]string{"name": "x"}, &o, tt.opts(&hooks)...)
			if !tt.wantErr(err) {
				t.Errorf("err = %v", err)
			}
			if n := len(srv.Requests()); n != tt.wantReqs {
				t.Errorf("requests = %d, want %d", n, tt.wantReqs)
			}
			if hooks.Load() != tt.wantHooks {
				t.Errorf("hook calls = %d, want %d", hooks.Load(), tt.wantHooks)
			}
		})
	}
}

func TestBeforeRetryNotCalledOn429(t *testing.T) {
	t.Parallel()
	c, _, _ := setup(t, seq(status(429, ""), status(201, `{"data":{}}`)), nil)
	called := false
	err := c.Do(context.Background(), "POST", "/opportunities", nil, struct{}{}, nil,
		BeforeRetry(func(context.Context) (bool, error) { called = true; return true, nil }))
	if err != nil || called {
		t.Fatalf("err = %v, hook called = %v", err, called)
	}
}

func TestLimiterHoldsRate(t *testing.T) {
	t.Parallel()
	// 1 token/s with a burst of 2: requests 3, 4 and 5 each wait 1 s on the
	// fake clock, which the client reports in Stats.
	c, srv, clock := setup(t, status(200, `{"data":{}}`), func(c *Config) {
		c.RateLimit = 1
		c.Burst = 2
	})
	for range 5 {
		if err := c.Do(context.Background(), "GET", "/stages", nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	st := c.Stats()
	if st.RateLimitWaits != 3 || st.RateLimitWait != 3*time.Second || len(srv.Requests()) != 5 {
		t.Errorf("stats = %+v", st)
	}
	for _, d := range clock.Sleeps() {
		if d != time.Second {
			t.Errorf("sleeps = %v, want 1s each", clock.Sleeps())
		}
	}
}

func TestSharedLimiter(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	shared := rate.NewLimiter(2, 1)
	srv := newServer(t, status(200, `{"data":{}}`))
	var clients []*Client
	for range 2 {
		c, err := New(Config{BaseURL: srv.URL, APIKey: "same-key", Limiter: shared, RateLimit: rate.Inf, Now: clock.Now, Sleep: clock.Sleep})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	for i := range 4 {
		if err := clients[i%2].Do(context.Background(), "GET", "/stages", nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	total := clients[0].Stats().RateLimitWait + clients[1].Stats().RateLimitWait
	if total != 1500*time.Millisecond {
		t.Errorf("total wait = %v, want 1.5s (3 requests after the burst at 2/s)", total)
	}
}

func TestRealLimiterGenerousBound(t *testing.T) {
	t.Parallel()
	// Real clock: 20 requests at 100/s with burst 1 cannot finish in under
	// ~190 ms. Only a lower bound is checked, so a slow machine cannot flake.
	srv := newServer(t, status(200, `{"data":{}}`))
	c, err := New(Config{BaseURL: srv.URL, APIKey: "k", RateLimit: 100, Burst: 1})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 20 {
		if err := c.Do(context.Background(), "GET", "/x", nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Errorf("20 requests at 100/s took %v", el)
	}
}

func TestContextCancellation(t *testing.T) {
	t.Parallel()
	t.Run("during request", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		c, _, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}, nil)
		defer close(release)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- c.Do(ctx, "GET", "/slow", nil, nil, nil) }()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("during backoff with the real sleep", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, status(503, ""))
		c, err := New(Config{BaseURL: srv.URL, APIKey: "k", RetryBase: time.Hour, RetryMax: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var calls atomic.Int32
		c.hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if calls.Add(1) == 1 {
				defer cancel() // the first response arrives, then the caller gives up
			}
			return http.DefaultTransport.RoundTrip(r)
		})
		err = c.Do(ctx, "GET", "/x", nil, nil, nil)
		if !errors.Is(err, context.Canceled) || calls.Load() != 1 {
			t.Fatalf("err = %v, calls %d", err, calls.Load())
		}
	})
	t.Run("while waiting for the limiter", func(t *testing.T) {
		t.Parallel()
		c, srv, _ := setup(t, status(200, `{}`), func(c *Config) {
			c.RateLimit = rate.Every(time.Hour)
			c.Burst = 1
			c.Sleep = sleepCtx
		})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_ = c.Do(ctx, "GET", "/x", nil, nil, nil)
		if err := c.Do(ctx, "GET", "/x", nil, nil, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if len(srv.Requests()) != 1 {
			t.Errorf("requests = %d, want 1", len(srv.Requests()))
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"0", 0}, {"-3", 0}, {"12", 12 * time.Second}, {"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func BenchmarkDo(b *testing.B) {
	srv := newServer(b, status(200, `{"data":{"id":"lead-new","text":"New lead"}}`))
	c, err := New(Config{BaseURL: srv.URL, APIKey: "k", RateLimit: rate.Inf})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var s Stage
		if err := c.Do(ctx, "GET", "/stages/lead-new", nil, nil, &s); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRetryAfterBeyondRetryMaxReturnsAtOnce(t *testing.T) {
	t.Parallel()
	c, srv, clock := setup(t, status(429, `{"code":"TooManyRequestsError","message":"later"}`, "Retry-After", "120"),
		func(c *Config) { c.RetryMax = 10 * time.Second })
	err := c.Do(context.Background(), "GET", "/stages", nil, nil, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, ErrRateLimited) || apiErr.RetryAfter != 2*time.Minute {
		t.Fatalf("err = %v (%+v)", err, apiErr)
	}
	if len(srv.Requests()) != 1 || len(clock.Sleeps()) != 0 {
		t.Errorf("requests %d sleeps %v", len(srv.Requests()), clock.Sleeps())
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	c, _, _ := setup(t, seq(status(503, ""), status(200, `{"data":{"id":"s"}}`)), nil)
	errc := make(chan error, 16)
	for range 16 {
		go func() {
			var s Stage
			errc <- c.Do(context.Background(), "GET", "/stages/s", nil, nil, &s)
		}()
	}
	for range 16 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	if st := c.Stats(); st.Requests != 17 || st.ByStatus[200] != 16 || st.Retries != 1 {
		t.Errorf("stats = %+v", st)
	}
}
