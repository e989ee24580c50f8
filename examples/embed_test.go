package examples

import (
	"encoding/json"
	"testing"
)

func TestWorkflows(t *testing.T) {
	t.Parallel()
	wfs, err := Workflows()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"lever-users-directory": false, "route-by-stage": false, "score-candidates": false, "tag-senior-applicants": false}
	for _, wf := range wfs {
		if !IsWorkflowFile(wf.Name) {
			t.Errorf("%s is not a workflow file", wf.Name)
		}
		if _, ok := want[wf.ID]; ok {
			want[wf.ID] = true
		}
		var probe struct {
			Name    string          `json:"name"`
			Trigger json.RawMessage `json:"trigger"`
		}
		if err := json.Unmarshal(wf.Data, &probe); err != nil || probe.Name == "" || probe.Trigger == nil {
			t.Errorf("%s does not read as a workflow: %v", wf.Name, err)
		}
	}
	for id, seen := range want {
		if !seen {
			t.Errorf("example %s missing from Workflows()", id)
		}
	}
}

func TestIsWorkflowFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{"route-by-stage.json", true},
		{"route-by-stage.test.json", false},
		{"route-by-stage.trigger.json", false},
		{"README.md", false},
	}
	for _, tt := range tests {
		if got := IsWorkflowFile(tt.name); got != tt.want {
			t.Errorf("IsWorkflowFile(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
