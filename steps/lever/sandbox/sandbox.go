package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Sandbox. The zero value is usable.
type Options struct {
	// Now is the clock for timestamps and token expiry (default time.Now).
	// The rate limiter always uses the real clock so a frozen Now does not
	// freeze refills.
	Now func() time.Time
	// Seed makes the seed data and generated ids deterministic.
	Seed int64
	// RateLimit is the refill rate of each credential's bucket in
	// requests per second (default 10).
	RateLimit float64
	// Burst is the bucket capacity (default 20).
	Burst int
	// DisableRateLimit turns the limiter off.
	DisableRateLimit bool
	// RetryAfter makes 429 responses carry a Retry-After header (whole
	// seconds). Lever sends none, so the default is off.
	RetryAfter bool
	// APIKeys are the accepted Basic-auth keys. When empty one key is
	// generated; APIKey returns the first accepted key either way.
	APIKeys []string
	// LimitedKeys are further accepted API keys that lack the
	// confidential-data grant: asking them for confidentiality=confidential
	// or all, or for a confidential opportunity or posting, is a 403.
	LimitedKeys []string
	// HTTPClient delivers webhooks (default: a client with a 10s timeout).
	HTTPClient *http.Client
	// WebhookRetries is how many times a failed delivery is retried
	// (default 5; negative means no retry).
	WebhookRetries int
	// WebhookBackoff is the delay before the first retry; it doubles for
	// each further retry (default 1s).
	WebhookBackoff time.Duration
	// NoSeed starts with only the catalogs (stages, archive reasons) and
	// users, without postings or opportunities.
	NoSeed bool

	// OAuthClients are the apps registered for the OAuth
	// authorization-code flow (/oauth/authorize, /oauth/token). When empty
	// one built-in client named "Leverflow (built-in)" is generated whose
	// empty RedirectURIs accept any http://127.0.0.1 or http://localhost
	// callback; OAuthClient returns the first client either way.
	OAuthClients []OAuthClient
	// AccessTokenTTL is the lifetime of an OAuth access token
	// (default 1h, like Lever's).
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is how long after the authorization a refresh token
	// (and every token rotated from it) stops working (default 365 days).
	RefreshTokenTTL time.Duration
	// RefreshIdleTTL is how long an unused refresh token stays valid
	// (default 90 days).
	RefreshIdleTTL time.Duration
}

// Sandbox is an in-memory Lever v1 API. It is safe for concurrent use.
type Sandbox struct {
	opts    Options
	now     func() time.Time
	retries int
	backoff time.Duration
	client  *http.Client

	mu        sync.Mutex
	rng       *mrand.Rand
	keys      []string
	tokens    map[string]time.Time // bearer token -> expiry
	opps      map[string]*opp
	contacts  map[string]*Contact
	postings  map[string]*Posting
	users     map[string]*User
	stages    []Stage
	reasons   []ArchiveReason
	tagSet    map[string]bool
	sourceSet map[string]bool
	webhooks  map[string]*Webhook
	whOrder   []string
	deleted   map[string]*DeletedOpportunity
	oauth     oauthState

	rlMu    sync.Mutex
	buckets map[string]*bucket

	dMu        sync.Mutex
	deliveries []Delivery
	inflight   int

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New builds a sandbox filled with deterministic seed data.
func New(o Options) *Sandbox {
	s := &Sandbox{opts: o}
	s.now = o.Now
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.RateLimit <= 0 {
		s.opts.RateLimit = 10
	}
	if s.opts.Burst <= 0 {
		s.opts.Burst = 20
	}
	s.retries = o.WebhookRetries
	if s.retries == 0 {
		s.retries = 5
	}
	if s.retries < 0 {
		s.retries = 0
	}
	s.backoff = o.WebhookBackoff
	if s.backoff <= 0 {
		s.backoff = time.Second
	}
	// Lever counts a 3xx answer as a failed delivery, so redirects are
	// never followed.
	c := http.Client{Timeout: 10 * time.Second}
	if o.HTTPClient != nil {
		c = *o.HTTPClient
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.client = &c
	seed := uint64(o.Seed)
	s.rng = mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s.keys = append([]string(nil), o.APIKeys...)
	if len(s.keys) == 0 {
		s.keys = []string{randomString(40)}
	}
	s.tokens = map[string]time.Time{}
	s.opps = map[string]*opp{}
	s.contacts = map[string]*Contact{}
	s.postings = map[string]*Posting{}
	s.users = map[string]*User{}
	s.tagSet = map[string]bool{}
	s.sourceSet = map[string]bool{}
	s.webhooks = map[string]*Webhook{}
	s.buckets = map[string]*bucket{}
	s.deleted = map[string]*DeletedOpportunity{}
	s.initOAuth()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.seed()
	return s
}

// Close stops webhook deliveries in flight (and their retries) and waits
// for their goroutines. Later events are not delivered.
func (s *Sandbox) Close() {
	// emit checks the context and adds to wg under mu, so no delivery can
	// start once cancel has run under mu.
	s.mu.Lock()
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
}

// APIKey returns an accepted API key (the generated one when
// Options.APIKeys was empty).
func (s *Sandbox) APIKey() string { return s.keys[0] }

// IssueToken issues a Bearer access token valid for ttl (measured on
// Options.Now).
func (s *Sandbox) IssueToken(ttl time.Duration) string {
	t := randomString(48)
	s.mu.Lock()
	s.tokens[t] = s.now().Add(ttl)
	s.mu.Unlock()
	return t
}

// RevokeToken makes a Bearer token invalid: one from IssueToken or an
// OAuth access token from /oauth/token.
func (s *Sandbox) RevokeToken(token string) {
	s.mu.Lock()
	delete(s.tokens, token)
	if c, err := parseJWT(token); err == nil && c.JTI != "" {
		s.oauth.revoked[c.JTI] = true
	}
	s.mu.Unlock()
}

// ---------------------------------------------------------------- errors

type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func badRequest(format string, a ...any) *apiError {
	return &apiError{http.StatusBadRequest, "BadRequestError", fmt.Sprintf(format, a...)}
}

func notFound(kind, id string) *apiError {
	return &apiError{http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("%s %s was not found", kind, id)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]string{"code": e.code, "message": e.message})
}

type objectEnvelope struct {
	Data any `json:"data"`
}

type listEnvelope struct {
	Data    any    `json:"data"`
	HasNext bool   `json:"hasNext"`
	Next    string `json:"next,omitempty"`
}

// ---------------------------------------------------------------- auth & rate limit

type bucket struct {
	tokens float64
	last   time.Time
}

// authenticate returns the credential identity or nil error.
func (s *Sandbox) authenticate(r *http.Request) (string, *apiError) {
	unauth := &apiError{http.StatusUnauthorized, "UnauthorizedError", "The request requires authentication."}
	h := r.Header.Get("Authorization")
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok {
		return "", unauth
	}
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return "", unauth
		}
		user, pass, _ := strings.Cut(string(raw), ":")
		if pass != "" || user == "" {
			return "", unauth
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, k := range s.keys {
			if subtle.ConstantTimeCompare([]byte(k), []byte(user)) == 1 {
				return "key:" + k, nil
			}
		}
		for _, k := range s.opts.LimitedKeys {
			if subtle.ConstantTimeCompare([]byte(k), []byte(user)) == 1 {
				return "limited:" + k, nil
			}
		}
	case "bearer":
		s.mu.Lock()
		exp, ok := s.tokens[rest]
		s.mu.Unlock()
		if ok && s.now().Before(exp) {
			return "bearer:" + rest, nil
		}
		if !ok && strings.Count(rest, ".") == 2 {
			return s.authenticateJWT(r, rest)
		}
	}
	return "", unauth
}

// allow takes one token from the credential's bucket; when empty it
// returns how long until the next token.
func (s *Sandbox) allow(cred string) (bool, time.Duration) {
	if s.opts.DisableRateLimit {
		return true, 0
	}
	now := time.Now()
	s.rlMu.Lock()
	defer s.rlMu.Unlock()
	b := s.buckets[cred]
	burst := float64(s.opts.Burst)
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		s.buckets[cred] = b
	}
	b.tokens = math.Min(burst, b.tokens+now.Sub(b.last).Seconds()*s.opts.RateLimit)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / s.opts.RateLimit * float64(time.Second))
	return false, wait
}

// ---------------------------------------------------------------- routing

// ServeHTTP implements http.Handler: the OAuth endpoints under /oauth and
// the API under /v1.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/oauth/authorize":
		s.serveAuthorize(w, r)
		return
	case "/oauth/token":
		s.serveToken(w, r)
		return
	}
	cred, aerr := s.authenticate(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if ok, wait := s.allow(cred); !ok {
		if s.opts.RetryAfter {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		}
		writeError(w, &apiError{http.StatusTooManyRequests, "TooManyRequestsError",
			fmt.Sprintf("You have exceeded your request rate of %s r/s.", strconv.FormatFloat(s.opts.RateLimit, 'f', -1, 64))})
		return
	}
	var status int
	var body any
	var err error
	if strings.HasPrefix(cred, "limited:") {
		err = s.checkConfidential(r)
	}
	if err == nil {
		status, body, err = s.route(r)
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{http.StatusInternalServerError, "InternalServerError", err.Error()}
		}
		writeError(w, ae)
		return
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, body)
}

// checkConfidential refuses confidential data to a credential without the
// grant.
func (s *Sandbox) checkConfidential(r *http.Request) error {
	forbidden := &apiError{http.StatusForbidden, "ForbiddenError", "This API key does not have access to confidential data."}
	if c := r.URL.Query().Get("confidentiality"); c == "confidential" || c == "all" {
		return forbidden
	}
	seg := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/v1/"), "/"), "/")
	if len(seg) < 2 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch seg[0] {
	case "opportunities":
		if o := s.opps[seg[1]]; o != nil && o.confidentiality == "confidential" {
			return forbidden
		}
	case "postings":
		if p := s.postings[seg[1]]; p != nil && p.Confidentiality == "confidential" {
			return forbidden
		}
	}
	return nil
}

func (s *Sandbox) route(r *http.Request) (int, any, error) {
	notExist := &apiError{http.StatusNotFound, "ResourceNotFound", r.URL.Path + " does not exist"}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		return 0, nil, notExist
	}
	seg := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	for _, p := range seg {
		if p == "" {
			return 0, nil, notExist
		}
	}
	m := r.Method
	n := len(seg)
	q := r.URL.Query()
	switch seg[0] {
	case "opportunities":
		switch {
		case n == 1 && m == http.MethodGet:
			return s.listOpportunities(q)
		case n == 1 && m == http.MethodPost:
			return s.createOpportunity(r)
		case n == 2 && m == http.MethodGet && seg[1] == "deleted":
			return s.listDeletedOpportunities(q)
		case n == 2 && m == http.MethodGet:
			return s.getOpportunity(seg[1], q)
		case n == 3 && m == http.MethodPut && seg[2] == "stage":
			return s.putStage(r, seg[1])
		case n == 3 && m == http.MethodPut && seg[2] == "archived":
			return s.putArchived(r, seg[1])
		case n == 3 && m == http.MethodPost && listOps[seg[2]] != "":
			return s.editList(r, seg[1], seg[2])
		case n == 3 && m == http.MethodGet && seg[2] == "applications":
			return s.listApplications(seg[1])
		case n == 4 && m == http.MethodGet && seg[2] == "applications":
			return s.getApplication(seg[1], seg[3])
		}
	case "contacts":
		switch {
		case n == 2 && m == http.MethodGet:
			return s.getContact(seg[1])
		case n == 2 && m == http.MethodPut:
			return s.putContact(r, seg[1])
		}
	case "postings":
		switch {
		case n == 1 && m == http.MethodGet:
			return s.listPostings(q)
		case n == 1 && m == http.MethodPost:
			return s.createPosting(r)
		case n == 2 && m == http.MethodGet:
			return s.getPosting(seg[1], q)
		case n == 2 && m == http.MethodPost:
			return s.updatePosting(r, seg[1])
		case n == 3 && m == http.MethodGet && seg[2] == "apply":
			return s.getApplyQuestions(seg[1])
		case n == 3 && m == http.MethodPost && seg[2] == "apply":
			return s.applyToPosting(r, seg[1])
		}
	case "users":
		switch {
		case n == 1 && m == http.MethodGet:
			return s.listUsers(q)
		case n == 1 && m == http.MethodPost:
			return s.createUser(r)
		case n == 2 && m == http.MethodGet:
			return s.getUser(seg[1])
		case n == 2 && m == http.MethodPut:
			return s.putUser(r, seg[1])
		case n == 3 && m == http.MethodPost && (seg[2] == "deactivate" || seg[2] == "reactivate"):
			return s.setUserActive(seg[1], seg[2] == "reactivate")
		}
	case "stages":
		switch {
		case n == 1 && m == http.MethodGet:
			return s.listStages(q)
		case n == 2 && m == http.MethodGet:
			return s.getStage(seg[1])
		}
	case "archive_reasons":
		switch {
		case n == 1 && m == http.MethodGet:
			return s.listArchiveReasons(q)
		case n == 2 && m == http.MethodGet:
			return s.getArchiveReason(seg[1])
		}
	case "tags", "sources":
		if n == 1 && m == http.MethodGet {
			return s.listCounts(q, seg[0])
		}
	case "webhooks":
		switch {
		case n == 1 && m == http.MethodGet:
			return s.listWebhooks(q)
		case n == 1 && m == http.MethodPost:
			return s.createWebhook(r)
		case n == 1 && m == http.MethodPut:
			return s.putWebhooks(r)
		case n == 2 && m == http.MethodDelete:
			return s.deleteWebhook(seg[1])
		}
	}
	return 0, nil, notExist
}

// ---------------------------------------------------------------- request helpers

// values returns every value of a repeatable parameter, in both the
// name=a&name=b and name[]=a forms.
func values(q map[string][]string, name string) []string {
	var out []string
	for _, v := range append(append([]string(nil), q[name]...), q[name+"[]"]...) {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func readBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		return badRequest("Could not read request body")
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return badRequest("Request body must be a JSON object")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return badRequest("Invalid JSON body: %v", err)
	}
	return nil
}

// performAs checks the perform_as parameter; required makes a missing one
// a 400.
func (s *Sandbox) performAs(r *http.Request, required bool) (*string, error) {
	id := r.URL.Query().Get("perform_as")
	if id == "" {
		if required {
			return nil, badRequest("Missing required parameter: perform_as")
		}
		return nil, nil
	}
	u, ok := s.users[id]
	if !ok {
		return nil, badRequest("perform_as: user %s does not exist", id)
	}
	if u.DeactivatedAt != nil {
		return nil, badRequest("perform_as: user %s is deactivated", id)
	}
	return &id, nil
}

// lookupOpp returns a stored opportunity or a 404; call with mu held.
func (s *Sandbox) lookupOpp(id string) (*opp, error) {
	o, ok := s.opps[id]
	if !ok {
		return nil, notFound("Opportunity", id)
	}
	return o, nil
}

// lookupPosting returns a stored posting or a 404; call with mu held.
func (s *Sandbox) lookupPosting(id string) (*Posting, error) {
	p, ok := s.postings[id]
	if !ok {
		return nil, notFound("Posting", id)
	}
	return p, nil
}

// preamble runs the checks a write handler starts with, in Lever's order
// and with mu held: the perform_as parameter (a missing one is a 400 when
// performAsRequired), then the JSON body decoded into body (skipped when
// body is nil). It returns the acting user id, nil when none was given.
func (s *Sandbox) preamble(r *http.Request, performAsRequired bool, body any) (*string, error) {
	performAs, err := s.performAs(r, performAsRequired)
	if err != nil {
		return nil, err
	}
	if body != nil {
		if err := readBody(r, body); err != nil {
			return nil, err
		}
	}
	return performAs, nil
}

func parseMillis(q map[string][]string, name string) (*int64, error) {
	v := q[name]
	if len(v) == 0 || v[0] == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil {
		return nil, badRequest("Invalid value for %s: must be a timestamp in milliseconds", name)
	}
	return &n, nil
}

func parseBool(q map[string][]string, name string) (*bool, error) {
	v := q[name]
	if len(v) == 0 || v[0] == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v[0])
	if err != nil {
		return nil, badRequest("Invalid value for %s: must be true or false", name)
	}
	return &b, nil
}

func inRange(ts int64, start, end *int64) bool {
	return (start == nil || ts >= *start) && (end == nil || ts <= *end)
}

// ---------------------------------------------------------------- ids

const hexdigits = "0123456789abcdef"

// newID returns a UUID v4 drawn from the seeded generator; call with mu held.
func (s *Sandbox) newID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			sb.WriteByte('-')
		}
		sb.WriteByte(hexdigits[c>>4])
		sb.WriteByte(hexdigits[c&15])
	}
	return sb.String()
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomString returns n cryptographically random lowercase alphanumerics.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

func ptr[T any](v T) *T { return &v }

func (s *Sandbox) nowMs() int64 { return s.now().UnixMilli() }
