package engine_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/leverflow/leverflow/engine/workflow"
)

// lockedBuffer is a bytes.Buffer safe for the engine's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// TestLogsCarryRunAndStepIDs: every finished step and run is logged as
// JSON with its run, workflow and step ids; a failed step at Warn with its
// error.
func TestLogsCarryRunAndStepIDs(t *testing.T) {
	t.Parallel()
	var buf lockedBuffer
	e := setup(t, func(c *setupConfig) {
		c.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	e.probe.failures["bad"] = 5
	run := e.runOnce("logged", `{"name": "logged", "trigger": {"type": "api"}, "steps": [
  {"id": "good", "type": "test.work"},
  {"id": "bad", "type": "test.work", "retry": {"max_attempts": 1}}]}`, `{}`)
	wantStatus(t, run, workflow.RunFailed)
	seen := map[string]map[string]any{}
	for _, l := range buf.lines() {
		if l["run_id"] != run.ID || l["workflow_id"] != "logged" {
			continue
		}
		switch l["msg"] {
		case "step finished", "step failed":
			seen[l["step_id"].(string)] = l
		case "run finished":
			seen["run"] = l
		}
	}
	if g := seen["good"]; g == nil || g["level"] != "INFO" || g["status"] != "succeeded" || g["type"] != "test.work" {
		t.Errorf("good step's line: %v", g)
	}
	if b := seen["bad"]; b == nil || b["level"] != "WARN" || b["status"] != "failed" || !strings.Contains(b["error"].(string), "flaky failure") {
		t.Errorf("bad step's line: %v", b)
	}
	if r := seen["run"]; r == nil || r["status"] != "failed" {
		t.Errorf("run's line: %v", r)
	}
}
