package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinels matched with errors.Is against an *APIError, by HTTP status.
// Lever publishes no list of error codes, so branch on these, never on
// APIError.Code.
var (
	ErrNotFound     = errors.New("lever: not found")          // 404
	ErrUnauthorized = errors.New("lever: unauthorized")       // 401
	ErrForbidden    = errors.New("lever: forbidden")          // 403
	ErrRateLimited  = errors.New("lever: rate limit reached") // 429
)

// APIError is a non-2xx answer from Lever.
type APIError struct {
	Status  int    // HTTP status
	Code    string // Lever's "code", e.g. "ResourceNotFound"; may be empty
	Message string // Lever's "message", or the start of a non-JSON body
	Method  string
	Path    string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

func newAPIError(method, path string, status int, body []byte) *APIError {
	e := &APIError{Status: status, Method: method, Path: path}
	var eb struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &eb) == nil {
		e.Code, e.Message = eb.Code, eb.Message
	}
	if e.Code == "" && e.Message == "" {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		if msg == "" {
			msg = http.StatusText(status)
		}
		e.Message = msg
	}
	return e
}

// Error reads like "lever: POST /opportunities: 400 BadRequestError: <message>".
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lever: %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Retryable reports whether the same request may succeed later: 429 and
// every 5xx. Whether a POST may be repeated is a separate question; see
// Idempotent and BeforeRetry.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Is matches the status sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	}
	return false
}
