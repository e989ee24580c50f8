package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// Sentinel errors an Authenticator returns for a token it refuses; both
// answer 401.
var (
	// ErrInvalidToken: the token is unknown (mistyped, or never issued).
	ErrInvalidToken = errors.New("invalid token")
	// ErrRevokedToken: the token was issued and then revoked.
	ErrRevokedToken = errors.New("revoked token")
)

// Principal is who a request acts as.
type Principal struct {
	// TokenID identifies the token (never the token itself); it is logged.
	TokenID string
	// Name is the token's label ("admin", "ci").
	Name string
	// Admin tokens may change workflows and connections; other tokens may
	// read and start runs.
	Admin bool
}

// Authenticator checks a bearer token. It returns ErrInvalidToken or
// ErrRevokedToken for a token it refuses; any other error is a 500.
// StaticTokens is the implementation for tokens given at start-up; a
// store-backed one (leverflow token create) comes later.
type Authenticator interface {
	Authenticate(ctx context.Context, bearerToken string) (Principal, error)
}

// StaticTokens accepts a fixed set of tokens (LEVERFLOW_ADMIN_TOKEN). It
// keeps only their SHA-256 hashes and compares them in constant time,
// checking every entry whatever matches. It is safe for concurrent use
// once built.
type StaticTokens struct {
	entries []staticToken
}

type staticToken struct {
	hash      [sha256.Size]byte
	principal Principal
}

// NewStaticTokens returns StaticTokens accepting each of adminTokens as an
// admin named "admin". Empty tokens are refused.
func NewStaticTokens(adminTokens ...string) (*StaticTokens, error) {
	st := &StaticTokens{}
	for _, tok := range adminTokens {
		if err := st.Add("admin", tok, true); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// Add accepts one more token under name.
func (s *StaticTokens) Add(name, token string, admin bool) error {
	if strings.TrimSpace(token) == "" {
		return fmt.Errorf("adding static token %q: the token is empty", name)
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return fmt.Errorf("adding static token %q: the token contains whitespace", name)
	}
	h := sha256.Sum256([]byte(token))
	s.entries = append(s.entries, staticToken{hash: h, principal: Principal{
		TokenID: "static-" + hex.EncodeToString(h[:6]),
		Name:    name,
		Admin:   admin,
	}})
	return nil
}

// Authenticate implements Authenticator.
func (s *StaticTokens) Authenticate(_ context.Context, bearerToken string) (Principal, error) {
	h := sha256.Sum256([]byte(bearerToken))
	var found Principal
	ok := 0
	for _, e := range s.entries {
		if subtle.ConstantTimeCompare(h[:], e.hash[:]) == 1 {
			found, ok = e.principal, 1
		}
	}
	if ok == 0 {
		return Principal{}, ErrInvalidToken
	}
	return found, nil
}

const principalKey = "leverflow.principal"

// authenticate requires a valid bearer token and stores the Principal on
// the request. allowQuery also accepts ?access_token= (for links a browser
// navigates to); the access log never records the query.
func (s *Server) authenticate(allowQuery bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		token, found := bearerToken(c.GetHeader("Authorization"))
		if !found && allowQuery {
			token = c.Query("access_token")
			found = token != ""
		}
		if !found {
			if c.GetHeader("Authorization") != "" {
				fail(c, newError(http.StatusUnauthorized, CodeUnauthorized, "the Authorization header must be \"Bearer <token>\""))
				return
			}
			fail(c, newError(http.StatusUnauthorized, CodeUnauthorized, "this endpoint needs a token: send \"Authorization: Bearer <token>\" (the admin token is printed by leverflow serve on first start, or set with LEVERFLOW_ADMIN_TOKEN)"))
			return
		}
		p, err := s.auth.Authenticate(c.Request.Context(), token)
		switch {
		case errors.Is(err, ErrRevokedToken):
			fail(c, newError(http.StatusUnauthorized, CodeUnauthorized, "the token was revoked; create a new one with leverflow token create"))
			return
		case errors.Is(err, ErrInvalidToken):
			fail(c, newError(http.StatusUnauthorized, CodeUnauthorized, "the token is not valid; check it was copied whole"))
			return
		case err != nil:
			fail(c, fmt.Errorf("authenticating the request: %w", err))
			return
		}
		c.Set(principalKey, p)
		c.Next()
	}
}

// requireAdmin refuses a principal that is not an admin.
func requireAdmin(c *gin.Context) {
	if p, _ := c.Get(principalKey); !p.(Principal).Admin {
		fail(c, newError(http.StatusForbidden, CodeForbidden, "this needs an admin token; the token %q may only read and start runs", p.(Principal).Name))
		return
	}
	c.Next()
}

func bearerToken(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
