package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/leverflow/leverflow/engine/store"
)

// TokenPrefix starts every token NewToken makes, so a leaked one is easy
// to recognise (and to search for in logs and repositories).
const TokenPrefix = "lf_"

// Token usage is recorded at most this often per token.
const touchEvery = time.Minute

// touchTimeout bounds one asynchronous usage write.
const touchTimeout = 5 * time.Second

// maxTokenName is the longest token name accepted.
const maxTokenName = 100

// NewToken makes an API token: "lf_" and 32 random bytes in unpadded
// base64url (46 characters in all), with the lowercase hex SHA-256 the
// store keeps (HashToken). Show the token once; keep only the hash.
func NewToken() (token, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("api: reading random bytes: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken returns the lowercase hex SHA-256 of a token, as the store
// keeps it (store.Token.Hash).
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// StoreTokens authenticates the tokens kept in the store (leverflow token
// create, POST /api/v1/tokens) by the SHA-256 of the bearer token. An
// unknown token is ErrInvalidToken, a revoked one ErrRevokedToken. A
// token issued to a connected user (store.Token.UserID set) is refused as
// invalid here: it is for the SDK routes, never the workspace's API.
//
// Each use is recorded (store.TouchToken) at most once a minute per
// token, in the background: a slow or failing write is logged and never
// delays or fails the request. It is safe for concurrent use.
type StoreTokens struct {
	store store.Store
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	touched map[string]time.Time // token id -> last write of its usage
	wg      sync.WaitGroup
}

// NewStoreTokens returns StoreTokens reading st. logger gets the failures
// of usage writes (nil: discard); now is the clock (nil: time.Now).
func NewStoreTokens(st store.Store, logger *slog.Logger, now func() time.Time) *StoreTokens {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &StoreTokens{store: st, log: logger, now: now, touched: map[string]time.Time{}}
}

// Authenticate implements Authenticator.
func (s *StoreTokens) Authenticate(ctx context.Context, bearerToken string) (Principal, error) {
	t, err := s.store.GetTokenByHash(ctx, HashToken(bearerToken))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrInvalidToken
	}
	if err != nil {
		return Principal{}, fmt.Errorf("looking up the token: %w", err)
	}
	if t.UserID != "" {
		return Principal{}, ErrInvalidToken
	}
	if t.RevokedAt != nil {
		return Principal{}, ErrRevokedToken
	}
	s.touch(t)
	return Principal{TokenID: t.ID, Name: t.Name, Admin: t.Admin}, nil
}

// touch records the token's use in the background unless it was recorded
// less than a minute ago.
func (s *StoreTokens) touch(t *store.Token) {
	now := s.now()
	s.mu.Lock()
	last, seen := s.touched[t.ID]
	if !seen && t.LastUsedAt != nil {
		last, seen = *t.LastUsedAt, true
	}
	if seen && now.Sub(last) < touchEvery {
		s.mu.Unlock()
		return
	}
	s.touched[t.ID] = now
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), touchTimeout)
		defer cancel()
		if err := s.store.TouchToken(ctx, t.ID, now.UTC()); err != nil {
			s.log.Warn("recording a token's use failed", "token_id", t.ID, "error", err)
		}
	}()
}

// Wait waits for the usage writes in flight (for a clean shutdown).
func (s *StoreTokens) Wait() { s.wg.Wait() }

// Chain tries each Authenticator in order and returns the first principal
// one accepts. A token one of them knows as revoked is ErrRevokedToken; a
// token none knows, ErrInvalidToken; any other error stops the chain.
// Compose the static admin token with the store's tokens as
// Chain(static, storeTokens).
func Chain(auths ...Authenticator) Authenticator { return chain(auths) }

type chain []Authenticator

func (c chain) Authenticate(ctx context.Context, bearerToken string) (Principal, error) {
	revoked := false
	for _, a := range c {
		p, err := a.Authenticate(ctx, bearerToken)
		switch {
		case err == nil:
			return p, nil
		case errors.Is(err, ErrRevokedToken):
			revoked = true
		case errors.Is(err, ErrInvalidToken):
		default:
			return Principal{}, err
		}
	}
	if revoked {
		return Principal{}, ErrRevokedToken
	}
	return Principal{}, ErrInvalidToken
}

func (s *Server) tokenRoutes(admin *gin.RouterGroup) {
	admin.GET("/tokens", s.listTokens)
	admin.POST("/tokens", s.createToken)
	admin.DELETE("/tokens/:id", s.revokeToken)
}

// TokenView is a token as GET /tokens and leverflow token list --json
// show it: never the token, never its hash.
type TokenView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Admin      bool       `json:"admin"`
	UserID     string     `json:"user_id,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// TokenViewOf is the view of t.
func TokenViewOf(t *store.Token) TokenView {
	return TokenView{ID: t.ID, Name: t.Name, Admin: t.Admin, UserID: t.UserID, CreatedAt: t.CreatedAt,
		LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt}
}

type tokenList struct {
	Tokens []TokenView `json:"tokens"`
}

// createTokenRequest is the body of POST /tokens.
type createTokenRequest struct {
	Name  string `json:"name"`
	Admin bool   `json:"admin"`
}

// createdToken is the answer of POST /tokens: the only time the token is
// shown.
type createdToken struct {
	TokenView
	Token string `json:"token"`
}

// listTokens is GET /tokens: every token, revoked ones too, newest first.
func (s *Server) listTokens(c *gin.Context) {
	list, err := s.store.ListTokens(c.Request.Context())
	if err != nil {
		fail(c, fmt.Errorf("listing tokens: %w", err))
		return
	}
	out := tokenList{Tokens: make([]TokenView, 0, len(list))}
	for _, t := range list {
		out.Tokens = append(out.Tokens, TokenViewOf(t))
	}
	writeJSON(c, http.StatusOK, out)
}

// createToken is POST /tokens {name, admin}: 201 with the token, shown
// this once (Cache-Control: no-store).
func (s *Server) createToken(c *gin.Context) {
	var req createTokenRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || utf8.RuneCountInString(req.Name) > maxTokenName {
		fail(c, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest,
			Message: fmt.Sprintf("name: give the token a name of 1 to %d characters that says who uses it (\"ci\", \"reporting\")", maxTokenName),
			Details: []any{detail{Path: "name", Message: fmt.Sprintf("must be 1 to %d characters", maxTokenName)}}})
		return
	}
	token, hash := NewToken()
	t := &store.Token{ID: uuid.Must(uuid.NewV7()).String(), Name: req.Name, Hash: hash, Admin: req.Admin, CreatedAt: s.now().UTC()}
	if err := s.store.CreateToken(c.Request.Context(), t); err != nil {
		fail(c, fmt.Errorf("creating token %q: %w", req.Name, err))
		return
	}
	s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "token created", slog.String("request_id", requestID(c)),
		slog.String("new_token_id", t.ID), slog.Bool("admin", t.Admin))
	c.Header("Cache-Control", "no-store")
	c.Header("Location", "/api/v1/tokens/"+t.ID)
	writeJSON(c, http.StatusCreated, createdToken{TokenView: TokenViewOf(t), Token: token})
}

// revokeToken is DELETE /tokens/:id: 204; the token is refused from now
// on (401 "the token was revoked"). Revoking a revoked token is a 204 too.
func (s *Server) revokeToken(c *gin.Context) {
	id := c.Param("id")
	err := s.store.RevokeToken(c.Request.Context(), id, s.now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		fail(c, notFound("no token %q; GET /api/v1/tokens lists them (the token given at start-up cannot be revoked: unset LEVERFLOW_ADMIN_TOKEN)", id))
		return
	}
	if err != nil {
		fail(c, fmt.Errorf("revoking token %s: %w", id, err))
		return
	}
	s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "token revoked", slog.String("request_id", requestID(c)),
		slog.String("revoked_token_id", id))
	c.Status(http.StatusNoContent)
}
