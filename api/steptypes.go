package api

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/leverflow/leverflow/steps"
)

// stepTypeList is the answer of GET /step-types: every registered spec,
// sorted by type, as the editor's catalog.
type stepTypeList struct {
	StepTypes []*steps.Spec `json:"step_types"`
}

func (s *Server) listStepTypes(c *gin.Context) {
	writeJSON(c, http.StatusOK, stepTypeList{StepTypes: s.steps.All()})
}

// healthView is the answer of GET /healthz.
type healthView struct {
	// Status is "ok" or "unavailable".
	Status string `json:"status"`
	// Checks maps each check (database, engine) to "ok" or why it failed.
	Checks map[string]string `json:"checks"`
	// Reason is the first failure, when unavailable.
	Reason string `json:"reason,omitempty"`
}

// health is GET /healthz: 200 {"status": "ok"} when the database answers a
// ping and the engine is healthy (engine.Healthy: its worker loop ticks),
// else 503 with the reason.
func (s *Server) health(c *gin.Context) {
	ctx := c.Request.Context()
	h := healthView{Status: "ok", Checks: map[string]string{"database": "ok", "engine": "ok"}}
	if err := s.store.Ping(ctx); err != nil {
		h.Checks["database"] = fmt.Sprintf("the database does not answer: %v", err)
		h.Reason = h.Checks["database"]
	}
	if err := s.eng.Healthy(ctx); err != nil {
		h.Checks["engine"] = err.Error()
		if h.Reason == "" {
			h.Reason = err.Error()
		}
	}
	if h.Reason != "" {
		h.Status = "unavailable"
		s.log.Error("health check failed", "request_id", requestID(c), "reason", h.Reason)
		writeJSON(c, http.StatusServiceUnavailable, h)
		return
	}
	writeJSON(c, http.StatusOK, h)
}
