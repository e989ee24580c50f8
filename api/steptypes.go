package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/leverflow/leverflow/engine/store"
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

// healthProbeRunID is a run id that never exists: reading it is a cheap
// query that proves the database answers.
const healthProbeRunID = "00000000-0000-0000-0000-000000000000"

// health is GET /healthz: 200 {"status":"ok"} once the database answers a
// read through the engine, else 503.
func (s *Server) health(c *gin.Context) {
	if err := s.checkHealth(c.Request.Context()); err != nil {
		s.log.Error("health check failed", "request_id", requestID(c), "error", err)
		writeJSON(c, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(c, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) checkHealth(ctx context.Context) error {
	_, err := s.eng.GetRun(ctx, healthProbeRunID)
	if err == nil || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("reading the database: %w", err)
}
