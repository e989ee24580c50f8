package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// API roots.
const (
	ProductionURL = "https://api.lever.co/v1"
	SandboxURL    = "https://api.sandbox.lever.co/v1"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultRateLimit  rate.Limit = 10
	DefaultBurst                 = 20
	DefaultMaxRetries            = 5
	DefaultRetryBase             = 500 * time.Millisecond
	DefaultRetryMax              = 30 * time.Second
	DefaultUserAgent             = "leverflow-lever-client/1"
)

// maxBodyBytes bounds how much of a response body is read.
const maxBodyBytes = 32 << 20

// Config configures a Client. Exactly one of APIKey and TokenSource is
// required; every other field has a default.
type Config struct {
	// BaseURL is the API root, without a trailing slash. Default ProductionURL.
	BaseURL string
	// APIKey is sent as HTTP Basic auth: the key as user, an empty password.
	APIKey string
	// TokenSource returns the OAuth access token; it is called before every
	// attempt, so it may refresh.
	TokenSource func(ctx context.Context) (string, error)
	// HTTPClient defaults to a client with a 60 s timeout.
	HTTPClient *http.Client
	// RateLimit and Burst build the client's own token bucket
	// (default 10/s, burst 20). Use rate.Inf to turn limiting off.
	RateLimit rate.Limit
	Burst     int
	// Limiter, when set, is used instead of RateLimit/Burst. Share one per
	// credential: Lever's bucket is per API key or token.
	Limiter *rate.Limiter
	// MaxRetries is the number of retries after the first attempt
	// (default 5). Negative means no retries.
	MaxRetries int
	// RetryBase and RetryMax bound the exponential back-off with full
	// jitter: attempt n waits a random duration in [0, min(RetryMax,
	// RetryBase*2^n)). Defaults 500 ms and 30 s. A Retry-After header
	// (seconds or HTTP date) replaces the back-off; one longer than
	// RetryMax ends the call at once with the *APIError, whose RetryAfter
	// tells the caller when to come back.
	RetryBase, RetryMax time.Duration
	// UserAgent defaults to DefaultUserAgent.
	UserAgent string
	// Now and Sleep are injectable for tests. Sleep must return ctx.Err()
	// when ctx ends first. They drive both back-off and the token bucket.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client calls Lever's v1 API. It is safe for concurrent use.
type Client struct {
	base       string
	apiKey     string
	token      func(ctx context.Context) (string, error)
	hc         *http.Client
	limiter    *rate.Limiter
	maxRetries int
	retryBase  time.Duration
	retryMax   time.Duration
	userAgent  string
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	stats Stats
}

// Stats counts what a Client did since it was built.
type Stats struct {
	// Requests is the number of HTTP attempts sent, retries included.
	Requests int64
	// ByStatus counts attempts by HTTP status; 0 counts network errors.
	ByStatus map[int]int64
	// Retries is the number of attempts that were retries.
	Retries int64
	// RateLimitWaits is the number of attempts that had to wait for the
	// token bucket, and RateLimitWait the total time they waited.
	RateLimitWaits int64
	RateLimitWait  time.Duration
	// BackoffWait is the total time slept between retries.
	BackoffWait time.Duration
}

// New validates cfg, applies defaults and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.APIKey == "" && cfg.TokenSource == nil {
		return nil, errors.New("lever client: one of APIKey or TokenSource is required")
	}
	if cfg.APIKey != "" && cfg.TokenSource != nil {
		return nil, errors.New("lever client: set APIKey or TokenSource, not both")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = ProductionURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("lever client: invalid BaseURL %q: want an absolute http(s) URL", cfg.BaseURL)
	}
	c := &Client{
		base:       base,
		apiKey:     cfg.APIKey,
		token:      cfg.TokenSource,
		hc:         cfg.HTTPClient,
		limiter:    cfg.Limiter,
		maxRetries: cfg.MaxRetries,
		retryBase:  cfg.RetryBase,
		retryMax:   cfg.RetryMax,
		userAgent:  cfg.UserAgent,
		now:        cfg.Now,
		sleep:      cfg.Sleep,
		stats:      Stats{ByStatus: map[int]int64{}},
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 60 * time.Second}
	}
	if c.limiter == nil {
		limit, burst := cfg.RateLimit, cfg.Burst
		if limit == 0 {
			limit = DefaultRateLimit
		}
		if burst <= 0 {
			burst = DefaultBurst
		}
		c.limiter = rate.NewLimiter(limit, burst)
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.retryBase <= 0 {
		c.retryBase = DefaultRetryBase
	}
	if c.retryMax <= 0 {
		c.retryMax = DefaultRetryMax
	}
	if c.retryMax < c.retryBase {
		c.retryMax = c.retryBase
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	return c, nil
}

// Stats returns a copy of the client's counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.ByStatus = make(map[int]int64, len(c.stats.ByStatus))
	for k, v := range c.stats.ByStatus {
		s.ByStatus[k] = v
	}
	return s
}

// CallOption changes how one call is retried.
type CallOption func(*callOptions)

type callOptions struct {
	idempotent  bool
	beforeRetry func(ctx context.Context) (done bool, err error)
}

// Idempotent marks a POST as safe to repeat, so 5xx and network errors are
// retried as for GET. Only use it when a second write is harmless.
func Idempotent() CallOption {
	return func(o *callOptions) { o.idempotent = true }
}

// BeforeRetry makes a POST retryable on 5xx and network errors, and calls
// fn before each such retry so the caller can check whether the failed
// attempt already wrote (Lever has no idempotency keys). If fn reports
// done, Do stops and returns nil without decoding anything into out: fn is
// expected to have captured the existing result itself. If fn fails, Do
// returns that error joined with the attempt's error. fn is not called
// before retrying a 429, which never writes.
func BeforeRetry(fn func(ctx context.Context) (done bool, err error)) CallOption {
	return func(o *callOptions) { o.beforeRetry = fn }
}

// Do sends one API call and decodes the response's "data" member into out.
//
// path is relative to the API root ("/opportunities/abc"); query may be nil.
// body, when not nil, is sent as JSON. out may be nil (the body is
// discarded), a pointer to a typed value, or *json.RawMessage. A 204 or an
// empty body leaves out untouched; a body that is not an object with a
// "data" member is decoded whole. Non-2xx responses return *APIError.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any, opts ...CallOption) error {
	raw, _, err := c.call(ctx, method, path, query, body, opts)
	if err != nil || out == nil || len(raw) == 0 {
		return err
	}
	data := raw
	if raw[0] == '{' {
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			return fmt.Errorf("lever: %s %s: decoding response: %w", method, path, err)
		}
		if env.Data != nil {
			data = env.Data
		}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("lever: %s %s: decoding response data: %w", method, path, err)
	}
	return nil
}

// call runs the request with rate limiting and retries and returns the body
// of the successful response (nil for 204).
// Raw sends one API call like Do and returns the HTTP status and the whole
// response body, envelope included, for callers that pass Lever's answer
// through as it is (a generic "call any endpoint" step). status is 0 when
// a BeforeRetry hook reported that an earlier attempt already wrote.
func (c *Client) Raw(ctx context.Context, method, path string, query url.Values, body any, opts ...CallOption) (status int, raw []byte, err error) {
	raw, status, err = c.call(ctx, method, path, query, body, opts)
	return status, raw, err
}

func (c *Client) call(ctx context.Context, method, path string, query url.Values, body any, opts []CallOption) ([]byte, int, error) {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	method = strings.ToUpper(method)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, 0, fmt.Errorf("lever: %s %s: encoding request body: %w", method, path, err)
		}
	}
	retryWrites := method != http.MethodPost || o.idempotent || o.beforeRetry != nil

	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.count(func(s *Stats) { s.Retries++ })
		}
		raw, status, retryAfter, err := c.attempt(ctx, method, path, target, payload)
		if err == nil {
			return raw, status, nil
		}
		if ctx.Err() != nil {
			return nil, 0, fmt.Errorf("lever: %s %s: %w", method, path, ctx.Err())
		}
		// Only 429, 5xx and transport errors are worth another try.
		var apiErr *APIError
		isAPI := errors.As(err, &apiErr)
		if isAPI && !apiErr.Retryable() {
			return nil, 0, err
		}
		if status == 0 && errors.Is(err, errSetup) {
			return nil, 0, err
		}
		wrote := status != http.StatusTooManyRequests // a 429 never writes
		if wrote && !retryWrites {
			return nil, 0, err
		}
		if attempt >= c.maxRetries {
			return nil, 0, err
		}
		if retryAfter > c.retryMax {
			// Holding the caller longer than RetryMax is the engine's call:
			// hand back the error with APIError.RetryAfter set.
			return nil, 0, err
		}
		wait := retryAfter
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		c.count(func(s *Stats) { s.BackoffWait += wait })
		if serr := c.sleep(ctx, wait); serr != nil {
			return nil, 0, fmt.Errorf("lever: %s %s: %w (last attempt: %v)", method, path, serr, err)
		}
		if wrote && o.beforeRetry != nil {
			done, herr := o.beforeRetry(ctx)
			if herr != nil {
				return nil, 0, errors.Join(fmt.Errorf("lever: %s %s: before retry: %w", method, path, herr), err)
			}
			if done {
				return nil, 0, nil
			}
		}
	}
}

// errSetup marks failures that happen before anything is sent and that a
// retry cannot fix (bad credentials source, malformed request).
var errSetup = errors.New("request setup failed")

// attempt sends one HTTP request. status is 0 when no response arrived.
func (c *Client) attempt(ctx context.Context, method, path, target string, payload []byte) (raw []byte, status int, retryAfter time.Duration, err error) {
	if err := c.wait(ctx); err != nil {
		return nil, 0, 0, fmt.Errorf("lever: %s %s: waiting for rate limiter: %w", method, path, err)
	}
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("lever: %s %s: %w: %w", method, path, errSetup, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != nil {
		tok, err := c.token(ctx)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("lever: %s %s: getting access token: %w: %w", method, path, errSetup, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	} else {
		req.SetBasicAuth(c.apiKey, "")
	}

	c.count(func(s *Stats) { s.Requests++ })
	resp, err := c.hc.Do(req)
	if err != nil {
		c.count(func(s *Stats) { s.ByStatus[0]++ })
		return nil, 0, 0, fmt.Errorf("lever: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	c.count(func(s *Stats) { s.ByStatus[resp.StatusCode]++ })
	raw, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if rerr != nil {
			// The write may have happened; report it as a transport error
			// carrying the status so POSTs are not blindly retried.
			return nil, resp.StatusCode, 0, fmt.Errorf("lever: %s %s: reading response: %w", method, path, rerr)
		}
		if resp.StatusCode == http.StatusNoContent {
			return nil, resp.StatusCode, 0, nil
		}
		return bytes.TrimSpace(raw), resp.StatusCode, 0, nil
	}
	apiErr := newAPIError(method, path, resp.StatusCode, raw)
	apiErr.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	return nil, resp.StatusCode, apiErr.RetryAfter, apiErr
}

// wait takes one token from the bucket, sleeping with the injected clock.
func (c *Client) wait(ctx context.Context) error {
	now := c.now()
	r := c.reservation(ctx, now)
	if !r.OK() {
		return fmt.Errorf("%w: rate limiter burst is 0", errSetup)
	}
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	c.count(func(s *Stats) {
		s.RateLimitWaits++
		s.RateLimitWait += d
	})
	if err := c.sleep(ctx, d); err != nil {
		r.CancelAt(c.now())
		return err
	}
	return nil
}

// backoff is exponential back-off with full jitter.
func (c *Client) backoff(attempt int) time.Duration {
	ceil := c.retryBase
	for i := 0; i < attempt && ceil < c.retryMax; i++ {
		if ceil > c.retryMax/2 {
			ceil = c.retryMax
			break
		}
		ceil *= 2
	}
	ceil = min(ceil, c.retryMax)
	return time.Duration(rand.Int64N(int64(ceil)))
}

func (c *Client) count(f func(*Stats)) {
	c.mu.Lock()
	f(&c.stats)
	c.mu.Unlock()
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or
// unparsable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		const maxSecs = int64(math.MaxInt64 / time.Second)
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, maxSecs)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func decodeJSON(raw []byte, v any) error { return json.Unmarshal(raw, v) }
