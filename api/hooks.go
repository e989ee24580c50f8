package api

import (
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/leverflow/leverflow/triggers"
)

// hookRoute is where Lever delivers a connection's webhooks; register it
// as <base URL>/hooks/lever/<connection name>.
const hookRoute = "/hooks/lever/:connection"

// hookAnswer is the answer to an accepted delivery.
type hookAnswer struct {
	EventID   string `json:"event_id"`
	Duplicate bool   `json:"duplicate"`
}

// leverHook is POST /hooks/lever/:connection, Lever's webhook delivery.
// It needs no token: the receiver checks the delivery's signature with the
// connection's signature token. The body is capped at
// triggers.MaxWebhookBody (413). The answer, 200 {event_id, duplicate},
// comes only once the event is committed to the inbox; its runs start
// right after. A delivery whose signature does not verify, or that is
// stale, is a 401 with no body at all, so a prober learns nothing; 400 is
// a malformed body, 404 an unknown connection (or one without webhooks),
// and 503 a failure to store the event (Lever retries).
func (s *Server) leverHook(c *gin.Context) {
	if s.inbox == nil {
		fail(c, errNoInbox())
		return
	}
	conn := c.Param("connection")
	ctx := c.Request.Context()
	log := s.log.With(slog.String("request_id", requestID(c)), slog.String("connection", conn))
	if c.Request.ContentLength > triggers.MaxWebhookBody {
		s.hookTooLarge(c, log)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, triggers.MaxWebhookBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.hookTooLarge(c, log)
			return
		}
		fail(c, badRequest("reading the webhook body: %v", err))
		return
	}
	receipt, err := s.inbox.ReceiveLever(ctx, "", conn, body)
	if err == nil {
		result := "accepted"
		if receipt.Duplicate {
			result = "duplicate"
		}
		log.LogAttrs(ctx, slog.LevelInfo, "Lever webhook "+result, slog.String("event_id", receipt.EventID))
		writeJSON(c, http.StatusOK, hookAnswer{EventID: receipt.EventID, Duplicate: receipt.Duplicate})
		return
	}
	status := triggers.HTTPStatus(err)
	log.LogAttrs(ctx, slog.LevelWarn, "Lever webhook rejected", slog.Int("status", status))
	switch status {
	case http.StatusUnauthorized:
		c.AbortWithStatus(http.StatusUnauthorized) // nothing else: no body, no hint
	case http.StatusRequestEntityTooLarge:
		fail(c, newError(status, CodePayloadTooLarge, "the webhook body is larger than %d bytes", triggers.MaxWebhookBody))
	case http.StatusBadRequest:
		fail(c, badRequest("%v", err))
	case http.StatusNotFound:
		fail(c, notFound("no connection %q with Lever webhooks: connect it and register its webhooks first", conn))
	default:
		fail(c, &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Message: "the delivery could not be stored; Lever delivers it again later", Err: err})
	}
}

// hookTooLarge answers 413 to a delivery over the cap, which the receiver
// never sees, and counts it (with no connection label: the name is not
// known to exist).
func (s *Server) hookTooLarge(c *gin.Context, log *slog.Logger) {
	s.metrics.WebhookRejected("", triggers.RejectTooLarge)
	log.LogAttrs(c.Request.Context(), slog.LevelWarn, "Lever webhook rejected", slog.Int("status", http.StatusRequestEntityTooLarge))
	fail(c, newError(http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
		"the webhook body is larger than %d bytes", triggers.MaxWebhookBody))
}
