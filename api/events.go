package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/triggers"
)

// Limits of the event endpoints.
const (
	// DefaultEventPage and MaxEventPage bound GET /events?limit=.
	DefaultEventPage = 50
	MaxEventPage     = 200
	// DefaultReplayMax and MaxReplayMax bound POST /events/replay's max.
	DefaultReplayMax = 100
	MaxReplayMax     = 1000
)

var eventStatuses = []store.EventStatus{store.EventPending, store.EventRouted, store.EventUnmatched, store.EventFailed}

func (s *Server) eventRoutes(authed, admin *gin.RouterGroup) {
	authed.GET("/events", s.listEvents)
	authed.GET("/events/:id", s.getEvent)
	admin.POST("/events/:id/replay", s.replayEvent)
	admin.POST("/events/replay", s.replayEvents)
}

// listTriggerTypes is GET /trigger-types: every trigger type with the
// schema of its `trigger` data and an example.
func (s *Server) listTriggerTypes(c *gin.Context) {
	writeJSON(c, http.StatusOK, struct {
		TriggerTypes []triggers.TriggerType `json:"trigger_types"`
	}{triggers.Types()})
}

// eventView is an inbox event. Payload is the body as received (a Lever
// delivery's signature included: it authenticates nothing once checked,
// and the signing token is never stored with the event).
type eventView struct {
	ID         string            `json:"id"`
	Source     string            `json:"source"`
	Connection string            `json:"connection"`
	UserID     string            `json:"user_id,omitempty"`
	Type       string            `json:"type"`
	Status     store.EventStatus `json:"status"`
	Error      string            `json:"error"`
	ReceivedAt time.Time         `json:"received_at"`
	RoutedAt   *time.Time        `json:"routed_at"`
	Replays    int               `json:"replays"`
	RunIDs     []string          `json:"run_ids"`
	Payload    json.RawMessage   `json:"payload"`
}

// eventRunView is a run an event started, with its status.
type eventRunView struct {
	ID         string             `json:"id"`
	WorkflowID string             `json:"workflow_id"`
	Version    int                `json:"version"`
	Status     workflow.RunStatus `json:"status"`
	Error      string             `json:"error"`
	CreatedAt  time.Time          `json:"created_at"`
	FinishedAt *time.Time         `json:"finished_at"`
}

// eventDetail is an event with the runs it started (GET /events/:id), and
// for a replay the ids of the runs this replay started.
type eventDetail struct {
	eventView
	Runs      []eventRunView `json:"runs"`
	NewRunIDs []string       `json:"new_run_ids,omitempty"`
}

func eventViewOf(e *store.Event) eventView {
	v := eventView{
		ID: e.ID, Source: e.Source, Connection: e.Connection, UserID: e.UserID, Type: e.Type, Status: e.Status,
		Error: e.Error, ReceivedAt: e.ReceivedAt, RoutedAt: e.RoutedAt, Replays: e.Replays, RunIDs: e.RunIDs,
		Payload: e.Payload,
	}
	if v.RunIDs == nil {
		v.RunIDs = []string{}
	}
	if len(v.Payload) == 0 || !json.Valid(v.Payload) {
		v.Payload = jsonNull
	}
	return v
}

// eventPage is the answer of GET /events: newest first; next is the
// cursor of the following page (?after=next), null on the last one.
type eventPage struct {
	Events []eventView `json:"events"`
	Next   *string     `json:"next"`
}

// eventFilter reads the filter shared by GET /events and POST
// /events/replay.
type eventFilter struct {
	Source     string `json:"source"`
	Connection string `json:"connection"`
	Type       string `json:"type"`
	Status     string `json:"status"`
	// Since and Until are RFC 3339 times: received at or after Since and
	// strictly before Until.
	Since string `json:"since"`
	Until string `json:"until"`
}

func (q eventFilter) toStore() (store.EventFilter, error) {
	f := store.EventFilter{Source: q.Source, Connection: q.Connection, Type: q.Type}
	if q.Status != "" {
		st := store.EventStatus(q.Status)
		if !st.Valid() {
			return f, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest,
				Message: fmt.Sprintf("status %q is not an event status: use one of %v", q.Status, eventStatuses),
				Details: []any{detail{Path: "status", Message: "unknown event status"}}}
		}
		f.Status = st
	}
	for _, t := range []struct {
		name, value string
		into        *time.Time
	}{{"since", q.Since, &f.ReceivedAfter}, {"until", q.Until, &f.ReceivedBefore}} {
		if t.value == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, t.value)
		if err != nil {
			return f, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest,
				Message: fmt.Sprintf("%s %q is not an RFC 3339 time such as 2025-05-26T07:00:00Z", t.name, t.value),
				Details: []any{detail{Path: t.name, Message: "must be an RFC 3339 time"}}}
		}
		*t.into = at.UTC()
	}
	if !f.ReceivedAfter.IsZero() && !f.ReceivedBefore.IsZero() && !f.ReceivedAfter.Before(f.ReceivedBefore) {
		return f, badRequest("since (%s) must be before until (%s)", q.Since, q.Until)
	}
	return f, nil
}

// listEvents is GET /events?source=&connection=&type=&status=&since=&until=&limit=&after=.
func (s *Server) listEvents(c *gin.Context) {
	f, err := eventFilter{
		Source: c.Query("source"), Connection: c.Query("connection"), Type: c.Query("type"),
		Status: c.Query("status"), Since: c.Query("since"), Until: c.Query("until"),
	}.toStore()
	if err != nil {
		fail(c, err)
		return
	}
	limit, err := parseLimit(c.Query("limit"), DefaultEventPage, MaxEventPage)
	if err != nil {
		fail(c, err)
		return
	}
	f.After, f.Limit = c.Query("after"), limit+1
	list, err := s.store.ListEvents(c.Request.Context(), f)
	if err != nil {
		fail(c, fmt.Errorf("listing events: %w", err))
		return
	}
	page := eventPage{Events: make([]eventView, 0, min(len(list), limit))}
	for i, e := range list {
		if i == limit {
			next := list[limit-1].ID
			page.Next = &next
			break
		}
		page.Events = append(page.Events, eventViewOf(e))
	}
	writeJSON(c, http.StatusOK, page)
}

// getEvent is GET /events/:id: the event and the status of every run it
// started.
func (s *Server) getEvent(c *gin.Context) {
	ev, err := s.readEvent(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	d, err := s.eventDetail(c, ev)
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, d)
}

// readEvent reads one event: a 404 when there is none.
func (s *Server) readEvent(ctx context.Context, id string) (*store.Event, error) {
	ev, err := s.store.GetEvent(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("no event %q", id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading event %s: %w", id, err)
	}
	return ev, nil
}

// eventDetail reads the runs an event started, newest first.
func (s *Server) eventDetail(c *gin.Context, ev *store.Event) (eventDetail, error) {
	d := eventDetail{eventView: eventViewOf(ev), Runs: []eventRunView{}}
	runs, err := s.eng.ListRuns(c.Request.Context(), store.RunFilter{EventID: ev.ID, Limit: engine.MaxPageSize})
	if err != nil {
		return d, fmt.Errorf("listing the runs of event %s: %w", ev.ID, err)
	}
	for _, r := range runs {
		d.Runs = append(d.Runs, eventRunView{ID: r.ID, WorkflowID: r.WorkflowID, Version: r.Version, Status: r.Status,
			Error: r.Error, CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt})
	}
	return d, nil
}

// errNoInbox is the 503 of the routes that need Config.Inbox.
func errNoInbox() *Error {
	return unavailable("this server runs without an event inbox (Config.Inbox is not set), so it cannot receive Lever webhooks or replay events; start it with leverflow serve")
}

// replayEvent is POST /events/:id/replay: the event is routed again to
// every enabled workflow that matches it now; the answer is the event
// with all its runs and the ids of the new ones.
func (s *Server) replayEvent(c *gin.Context) {
	if s.inbox == nil {
		fail(c, errNoInbox())
		return
	}
	id := c.Param("id")
	ctx := c.Request.Context()
	before, err := s.readEvent(ctx, id)
	if err != nil {
		fail(c, err)
		return
	}
	ev, err := s.inbox.Replay(ctx, id)
	switch {
	case errors.Is(err, triggers.ErrPending):
		fail(c, conflict("event %s has not been routed yet (it is pending); it is routed within seconds, replay it after that", id))
		return
	case errors.Is(err, triggers.ErrUnsupportedEvent):
		fail(c, conflict("event %s came from %q, and only Lever webhook events can be replayed", id, before.Source))
		return
	case errors.Is(err, store.ErrNotFound):
		fail(c, notFound("no event %q", id))
		return
	case err != nil:
		fail(c, fmt.Errorf("replaying event %s: %w", id, err))
		return
	}
	d, err := s.eventDetail(c, ev)
	if err != nil {
		fail(c, err)
		return
	}
	d.NewRunIDs = []string{}
	for _, r := range ev.RunIDs {
		if !slices.Contains(before.RunIDs, r) {
			d.NewRunIDs = append(d.NewRunIDs, r)
		}
	}
	writeJSON(c, http.StatusOK, d)
}

// replayRequest is the body of POST /events/replay: the events to replay
// (as GET /events filters them; pending ones are skipped) and at most how
// many, newest first.
type replayRequest struct {
	eventFilter
	Max *int `json:"max"`
}

// replayEvents is POST /events/replay {filter..., max}: {replayed}.
func (s *Server) replayEvents(c *gin.Context) {
	if s.inbox == nil {
		fail(c, errNoInbox())
		return
	}
	var req replayRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	f, err := req.toStore()
	if err != nil {
		fail(c, err)
		return
	}
	if f.Status == store.EventPending {
		fail(c, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest,
			Message: "pending events cannot be replayed: they have not been routed yet and are routed within seconds",
			Details: []any{detail{Path: "status", Message: "must not be pending"}}})
		return
	}
	maxEvents := DefaultReplayMax
	if req.Max != nil {
		maxEvents = *req.Max
		if maxEvents < 1 || maxEvents > MaxReplayMax {
			fail(c, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest,
				Message: fmt.Sprintf("max %d is out of range: replay 1 to %d events at a time (default %d)", maxEvents, MaxReplayMax, DefaultReplayMax),
				Details: []any{detail{Path: "max", Message: fmt.Sprintf("must be 1 to %d", MaxReplayMax)}}})
			return
		}
	}
	n, err := s.inbox.ReplayMatching(c.Request.Context(), f, maxEvents)
	if errors.Is(err, triggers.ErrUnsupportedEvent) {
		fail(c, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest,
			Message: fmt.Sprintf("only Lever webhook events can be replayed, not %q ones", f.Source),
			Details: []any{detail{Path: "source", Message: "must be lever or left out"}}})
		return
	}
	if err != nil {
		fail(c, fmt.Errorf("replaying events (%d replayed before the failure): %w", n, err))
		return
	}
	writeJSON(c, http.StatusOK, map[string]int{"replayed": n})
}
