package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/leverflow/leverflow/connections"
	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/steps/lever/client"
)

// Error codes of the error body {"error": {"code", "message", "details"}}.
// Each code has one HTTP status.
const (
	CodeBadRequest           = "bad_request"            // 400
	CodeUnauthorized         = "unauthorized"           // 401
	CodeForbidden            = "forbidden"              // 403
	CodeNotFound             = "not_found"              // 404
	CodeMethodNotAllowed     = "method_not_allowed"     // 405
	CodeConflict             = "conflict"               // 409
	CodePayloadTooLarge      = "payload_too_large"      // 413
	CodeUnsupportedMediaType = "unsupported_media_type" // 415
	CodeInvalidWorkflow      = "invalid_workflow"       // 422
	CodeRateLimited          = "rate_limited"           // 429
	CodeInternal             = "internal"               // 500
	CodeBadGateway           = "bad_gateway"            // 502: Lever could not be reached or failed
	CodeUnavailable          = "unavailable"            // 503: a part the request needs is missing or down
)

// Error is an API error: the status, the code and a message a user can
// act on, with optional details (workflow problems as {path, message}).
// Handlers return it (or a sentinel that errorFrom maps to it).
type Error struct {
	Status  int
	Code    string
	Message string
	Details []any
	// Err is the cause, logged for 5xx answers and never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error errorPayload `json:"error"`
}

type errorPayload struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details []any  `json:"details"`
}

func newError(status int, code, format string, a ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, a...)}
}

func badRequest(format string, a ...any) *Error {
	return newError(http.StatusBadRequest, CodeBadRequest, format, a...)
}

func notFound(format string, a ...any) *Error {
	return newError(http.StatusNotFound, CodeNotFound, format, a...)
}

func conflict(format string, a ...any) *Error {
	return newError(http.StatusConflict, CodeConflict, format, a...)
}

func unavailable(format string, a ...any) *Error {
	return newError(http.StatusServiceUnavailable, CodeUnavailable, format, a...)
}

// errorFrom maps any error to the API error answered for it. Sentinels of
// the engine, the store and connections map to their statuses; anything
// unknown is a 500 whose message hides the cause (it is logged instead).
//
// connections.ErrNeedsReauth is a 409 conflict: the request is fine but
// the connection is in a state (needs reconnecting) that refuses it; the
// message says how to reconnect.
func errorFrom(err error) *Error {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return newError(http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
			"the request body is larger than the limit of %d bytes", tooLarge.Limit)
	}
	var invalid *engine.InvalidError
	if errors.As(err, &invalid) {
		e := newError(http.StatusUnprocessableEntity, CodeInvalidWorkflow, "the workflow has %d problem(s); see details", len(invalid.Problems))
		for _, p := range invalid.Problems {
			e.Details = append(e.Details, p)
		}
		return e
	}
	var authErr *connections.AuthError
	if errors.As(err, &authErr) {
		return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: authErr.Error(),
			Details: []any{authErr}}
	}
	switch {
	case errors.Is(err, engine.ErrInvalidArgument):
		return badRequest("%s", err)
	case errors.Is(err, engine.ErrInvalidWorkflow):
		return newError(http.StatusUnprocessableEntity, CodeInvalidWorkflow, "%s", err)
	case errors.Is(err, connections.ErrNeedsReauth):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: err.Error(),
			Details: []any{map[string]string{"reason": "needs_reauth"}}}
	case errors.Is(err, connections.ErrNotFound):
		return notFound("%s", err)
	case errors.Is(err, connections.ErrNameTaken):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: err.Error(),
			Details: []any{map[string]string{"reason": "name_taken"}}}
	case errors.Is(err, connections.ErrDifferentAccount):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: err.Error(),
			Details: []any{map[string]string{"reason": "account_change"}}}
	case errors.Is(err, connections.ErrInvalid), errors.Is(err, connections.ErrBadState):
		return badRequest("%s", err)
	case errors.Is(err, store.ErrNotFound):
		return notFound("%s", err)
	case errors.Is(err, store.ErrConflict):
		return conflict("%s", err)
	}
	var leverErr *client.APIError
	if errors.As(err, &leverErr) {
		return &Error{Status: http.StatusBadGateway, Code: CodeBadGateway, Message: leverErr.Error(), Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error", Err: err}
}

// fail records err on the request for renderErrors and stops the chain.
func fail(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}

// renderErrors is the one middleware that turns errors recorded with fail
// (c.Error) into the error body, once the handlers are done.
func (s *Server) renderErrors(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() {
		return
	}
	s.writeError(c, errorFrom(c.Errors.Last().Err))
}

// writeError answers e in the error shape; a 5xx is logged with its cause.
func (s *Server) writeError(c *gin.Context, e *Error) {
	if e.Status >= 500 {
		msg := e.Message
		if e.Code == CodeInternal {
			msg = "internal error; the server log has the cause under request id " + requestID(c)
		}
		s.log.LogAttrs(c.Request.Context(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(c)), slog.String("route", routeOf(c)),
			slog.String("code", e.Code), slog.Any("error", e.Err))
		e = &Error{Status: e.Status, Code: e.Code, Message: msg, Details: e.Details}
	}
	switch e.Status {
	case http.StatusUnauthorized:
		v := `Bearer realm="leverflow"`
		if c.GetHeader("Authorization") != "" {
			v += `, error="invalid_token"`
		}
		c.Header("WWW-Authenticate", v)
	}
	details := e.Details
	if details == nil {
		details = []any{}
	}
	writeJSON(c, e.Status, errorBody{Error: errorPayload{Code: e.Code, Message: e.Message, Details: details}})
}
