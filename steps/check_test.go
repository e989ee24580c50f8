package steps_test

import (
	"slices"
	"testing"

	"github.com/leverflow/leverflow/steps"
)

func TestHasReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    any
		want bool
	}{
		{"plain text", "https://example.com", false},
		{"whole reference", "<<steps.opp.id>>", true},
		{"reference in text", "https://<<vars.host>>/x", true},
		{"escaped only", `a \<< b`, false},
		{"escaped then reference", `\<<x>> and <<y>>`, true},
		{"unclosed still counts", "<<steps.opp", true},
		{"single angle", "a < b", false},
		{"empty", "", false},
		{"number", 1.5, false},
		{"null", nil, false},
		{"list without", []any{"a", 1.0, true}, false},
		{"list with", []any{"a", "<<x>>"}, true},
		{"object with, nested", map[string]any{"a": map[string]any{"b": []any{"<<x>>"}}}, true},
		{"object without", map[string]any{"<<key>>": "keys are not templated"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := steps.HasReference(tt.v); got != tt.want {
				t.Errorf("HasReference(%#v) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

func TestProblemString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    steps.Problem
		want string
	}{
		{steps.Problem{Path: "", Message: "set for or until"}, "input: set for or until"},
		{steps.Problem{Path: "url", Message: "bad"}, "input.url: bad"},
		{steps.Problem{Path: "cases[1].name", Message: "bad"}, "input.cases[1].name: bad"},
		{steps.Problem{Path: "[0]", Message: "bad"}, "input[0]: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			err := tt.p.Err()
			if err == nil || err.Error() != tt.want || !steps.IsPermanent(err) {
				t.Errorf("Err() = %v (permanent %v), want the permanent error %q", err, steps.IsPermanent(err), tt.want)
			}
		})
	}
}

func TestSpecBranchesDistinct(t *testing.T) {
	t.Parallel()
	sw := steps.Spec{StaticBranches: []string{"default"}, CaseBranches: "cases"}
	tests := []struct {
		name  string
		cases []any
		want  []string
	}{
		{"none", nil, []string{"default"}},
		{"distinct", []any{map[string]any{"name": "a"}, map[string]any{"name": "b"}}, []string{"default", "a", "b"}},
		{"repeated name", []any{map[string]any{"name": "a"}, map[string]any{"name": "b"}, map[string]any{"name": "a"}}, []string{"default", "a", "b"}},
		{"a case named default", []any{map[string]any{"name": "default"}, map[string]any{"name": "a"}}, []string{"default", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sw.Branches(map[string]any{"cases": tt.cases}); !slices.Equal(got, tt.want) {
				t.Errorf("Branches = %v, want %v", got, tt.want)
			}
		})
	}
}
