package catalog_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/catalog"
)

// TestSaveAndRunAgree: a literal input the step's own check refuses is
// refused on save, at steps[0].input.<path>, with the very message the step
// fails with at run time (as input.<path>).
func TestSaveAndRunAgree(t *testing.T) {
	t.Parallel()
	reg, err := catalog.New(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, typ, input string
		path             string // where, relative to the input
	}{
		{"switch without cases", "switch", `{"cases": []}`, "cases"},
		{"switch case named default", "switch", `{"cases": [{"name": "default", "if": true}]}`, "cases[0].name"},
		{"switch case names repeated", "switch", `{"cases": [{"name": "a", "if": true}, {"name": "a", "if": false}]}`, "cases[1].name"},
		{"switch case without a name", "switch", `{"cases": [{"name": "", "if": true}]}`, "cases[0].name"},
		{"delay with both", "delay", `{"for": "1h", "until": "2030-01-01T00:00:00Z"}`, ""},
		{"delay with neither", "delay", `{}`, ""},
		{"delay with a bad duration", "delay", `{"for": "2 days"}`, "for"},
		{"delay with a negative duration", "delay", `{"for": "-1m"}`, "for"},
		{"delay with a bad time", "delay", `{"until": "2030-01-01 09:00"}`, "until"},
		{"http with a relative url", "http.request", `{"url": "example.com/x"}`, "url"},
		{"http with an ftp url", "http.request", `{"url": "ftp://example.com/x"}`, "url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := `{"name": "w", "trigger": {"type": "api"}, "steps": [{"id": "s", "type": "` + tt.typ + `", "input": ` + tt.input + `}]}`
			_, problems := workflow.Parse([]byte(doc), workflow.ValidateOptions{Steps: reg})
			at := "steps[0].input"
			if tt.path != "" {
				at += "." + tt.path
			}
			if len(problems) != 1 || problems[0].Path != at {
				t.Fatalf("save: got %v, want one problem at %s", problems, at)
			}

			var in map[string]any
			if err := json.Unmarshal([]byte(tt.input), &in); err != nil {
				t.Fatal(err)
			}
			spec, _ := reg.Lookup(tt.typ)
			now := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
			_, err := spec.Run(context.Background(), &steps.Request{Input: in, Now: now, StartedAt: now})
			if err == nil {
				t.Fatal("run: no error")
			}
			msg, ok := strings.CutPrefix(err.Error(), strings.Replace(at, "steps[0].", "", 1)+": ")
			if !ok || msg != problems[0].Message || !steps.IsPermanent(err) {
				t.Errorf("run and save disagree:\n  run:  %v (permanent %v)\n  save: %s", err, steps.IsPermanent(err), problems[0])
			}
		})
	}
}
