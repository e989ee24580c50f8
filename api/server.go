package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/leverflow/leverflow/connections"
	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/triggers"
)

// DefaultBodyLimit caps request bodies when Config.BodyLimit is zero.
const DefaultBodyLimit = 1 << 20

// Config configures a Server. Engine, Store, Steps, Connections and Auth
// are required.
type Config struct {
	// Engine saves workflows and starts, reads, cancels and retries runs.
	Engine *engine.Engine
	// Store is the engine's store, for the reads the engine does not
	// offer (workflow versions, run listing). Every write goes through
	// Engine or Connections.
	Store store.Store
	// Steps is the step registry: validation and GET /step-types.
	Steps *steps.Registry
	// Connections owns the Lever connections.
	Connections *connections.Manager
	// Auth checks bearer tokens.
	Auth Authenticator
	// Logger gets one access-log line per request and the causes of 5xx
	// answers, never a header, a body or a secret (default: discard).
	Logger *slog.Logger
	// BodyLimit caps request bodies in bytes (default 1 MiB).
	BodyLimit int64
	// BaseURL is the server's public URL (LEVERFLOW_BASE_URL), e.g.
	// "https://leverflow.example.com": the OAuth callback page posts its
	// message to this origin, and its cookie is Secure under https.
	BaseURL string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Inbox receives Lever webhooks into the event inbox and replays
	// events. Nil: POST /hooks/lever/:connection and the replay routes
	// answer 503 saying the server runs without an inbox.
	Inbox *triggers.Receiver
	// Metrics is served at GET /metrics and counts the HTTP requests. Pass
	// the same value to engine.Options.Observer and to the receiver so
	// runs, steps and webhooks are counted too (default: a new Metrics
	// that counts only what the API sees).
	Metrics *Metrics
	// RateLimit is how many requests per second each token may make on
	// average, with bursts of RateBurst (defaults DefaultRateLimit and
	// DefaultRateBurst; a negative RateLimit turns the limit off). Over it
	// the API answers 429 with Retry-After.
	RateLimit float64
	RateBurst int
	// Editor, when set, is the built editor (web.Dist()): served at / and
	// at every path that is not the API's, the webhooks', /healthz or
	// /metrics. Nil: / answers 404 like any unknown route.
	Editor fs.FS
	// LeverStats, when set, is read at every scrape for the Lever
	// clients' request and rate-limit counters (optional).
	LeverStats LeverStats
}

// Server is the HTTP API. Build it with New; serve Handler.
type Server struct {
	eng       *engine.Engine
	store     store.Store
	steps     *steps.Registry
	conns     *connections.Manager
	auth      Authenticator
	log       *slog.Logger
	bodyLimit int64
	baseURL   *url.URL
	now       func() time.Time
	inbox     *triggers.Receiver
	metrics   *Metrics
	limits    *tokenLimits
	editor    *editorHandler
	router    *gin.Engine
}

// New checks cfg and builds the server with its routes.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Engine == nil:
		return nil, errors.New("api: Config.Engine is required")
	case cfg.Store == nil:
		return nil, errors.New("api: Config.Store is required")
	case cfg.Steps == nil:
		return nil, errors.New("api: Config.Steps is required")
	case cfg.Connections == nil:
		return nil, errors.New("api: Config.Connections is required")
	case cfg.Auth == nil:
		return nil, errors.New("api: Config.Auth is required")
	}
	s := &Server{
		eng: cfg.Engine, store: cfg.Store, steps: cfg.Steps, conns: cfg.Connections, auth: cfg.Auth,
		log: cfg.Logger, bodyLimit: cfg.BodyLimit, now: cfg.Now, inbox: cfg.Inbox, metrics: cfg.Metrics,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.bodyLimit <= 0 {
		s.bodyLimit = DefaultBodyLimit
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	s.limits = newTokenLimits(cfg.RateLimit, cfg.RateBurst, s.now)
	s.metrics.watch(cfg.Store, cfg.LeverStats, s.log)
	if cfg.BaseURL != "" {
		u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("api: Config.BaseURL %q is not an absolute http(s) URL", cfg.BaseURL)
		}
		s.baseURL = u
	}
	if cfg.Editor != nil {
		h, err := newEditorHandler(cfg.Editor)
		if err != nil {
			return nil, err
		}
		s.editor = h
	}
	s.router = s.routes()
	return s, nil
}

// Handler returns the http.Handler serving the API.
func (s *Server) Handler() http.Handler { return s.router }

// routes builds the gin engine. Each resource registers its routes in its
// own file; later phases add theirs here.
func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode) // gin's mode is process-wide; release mode prints nothing
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	r.Use(s.requestID, s.accessLog, s.countRequests, s.recovery, s.renderErrors, s.limitBody)
	r.NoRoute(func(c *gin.Context) {
		if s.editor != nil && s.editor.serve(c) {
			return
		}
		fail(c, notFound("no route %s %s; the routes are listed in /api/v1/openapi.json", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		fail(c, newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "%s is not allowed on %s; allowed: %s",
			c.Request.Method, c.Request.URL.Path, c.Writer.Header().Get("Allow")))
	})

	r.GET("/healthz", s.health)
	r.GET("/metrics", s.serveMetrics())
	r.POST(hookRoute, s.leverHook)
	v1 := r.Group("/api/v1")
	v1.GET("/openapi.json", s.openAPI)
	v1.GET("/connections/lever/callback", s.oauthCallback)
	v1.GET("/connections/lever/authorize", s.authenticate(true), s.rateLimit, requireAdmin, s.oauthAuthorize)
	v1.POST("/connections/lever/authorize", s.authenticate(false), s.rateLimit, requireAdmin, s.oauthAuthorizePost)

	authed := v1.Group("", s.authenticate(false), s.rateLimit)
	admin := authed.Group("", requireAdmin)
	s.workflowRoutes(authed, admin)
	s.runRoutes(authed)
	authed.GET("/step-types", s.listStepTypes)
	authed.GET("/trigger-types", s.listTriggerTypes)
	s.connectionRoutes(authed, admin)
	s.tokenRoutes(admin)
	s.eventRoutes(authed, admin)
	return r
}

// writeJSON answers v as JSON without HTML escaping, so "<<" references in
// workflows stay readable.
func writeJSON(c *gin.Context, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"code":"internal","message":"encoding the answer failed","details":[]}}` + "\n")
	}
	c.Data(status, "application/json; charset=utf-8", buf.Bytes())
}
