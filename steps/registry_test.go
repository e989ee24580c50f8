package steps_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/leverflow/leverflow/steps"
)

func noop(context.Context, *steps.Request) (any, error) { return nil, nil }

func items(map[string]any) ([]any, int, error) { return nil, 10, nil }

func TestRegistryAdd(t *testing.T) {
	t.Parallel()
	branch := func(any) (string, error) { return "true", nil }
	tests := []struct {
		name    string
		spec    steps.Spec
		wantErr string
	}{
		{"plain", steps.Spec{Type: "transform", Run: noop}, ""},
		{"dotted", steps.Spec{Type: "lever.get_opportunity", Run: noop}, ""},
		{"container without Run", steps.Spec{Type: "fanout", Container: true, Items: items}, ""},
		{"container without Items", steps.Spec{Type: "fanout", Container: true}, "a container needs Items"},
		{"branches with BranchOf", steps.Spec{Type: "condition", Run: noop, StaticBranches: []string{"true", "false"}, BranchOf: branch}, ""},
		{"empty type", steps.Spec{Run: noop}, "type must be lower-case words joined by dots"},
		{"upper case", steps.Spec{Type: "Transform", Run: noop}, "type must be lower-case words joined by dots"},
		{"trailing dot", steps.Spec{Type: "lever.", Run: noop}, "type must be lower-case words joined by dots"},
		{"leading digit", steps.Spec{Type: "1step", Run: noop}, "type must be lower-case words joined by dots"},
		{"dash", steps.Spec{Type: "http-request", Run: noop}, "type must be lower-case words joined by dots"},
		{"no Run", steps.Spec{Type: "idle"}, `adding step type "idle": no Run handler`},
		{"static branches without BranchOf", steps.Spec{Type: "cond", Run: noop, StaticBranches: []string{"true"}}, "has branches but no BranchOf"},
		{"case branches without BranchOf", steps.Spec{Type: "sw", Run: noop, CaseBranches: "cases"}, "has branches but no BranchOf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := steps.NewRegistry().Add(tt.spec)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRegistryRejectsDuplicates(t *testing.T) {
	t.Parallel()
	reg := steps.NewRegistry()
	if err := reg.Add(steps.Spec{Type: "transform", Title: "First", Run: noop}); err != nil {
		t.Fatal(err)
	}
	err := reg.Add(steps.Spec{Type: "transform", Title: "Second", Run: noop})
	if !errors.Is(err, steps.ErrDuplicateType) {
		t.Fatalf("got %v, want ErrDuplicateType", err)
	}
	if !strings.Contains(err.Error(), `"transform"`) {
		t.Fatalf("error %q does not name the type", err)
	}
	if s, _ := reg.Lookup("transform"); s.Title != "First" {
		t.Fatalf("the duplicate replaced the first spec: %q", s.Title)
	}
}

func TestRegistryLookupAndList(t *testing.T) {
	t.Parallel()
	reg := steps.NewRegistry()
	for _, typ := range []string{"transform", "condition", "lever.get_user"} {
		if err := reg.Add(steps.Spec{Type: typ, Run: noop}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := reg.Types(), []string{"condition", "lever.get_user", "transform"}; !slices.Equal(got, want) {
		t.Fatalf("Types() = %v, want %v", got, want)
	}
	all := reg.All()
	if len(all) != 3 || all[0].Type != "condition" || all[2].Type != "transform" {
		t.Fatalf("All() not sorted by type: %v", all)
	}
	s, ok := reg.Lookup("transform")
	if !ok {
		t.Fatal("Lookup(transform) failed")
	}
	// Add fills in the schemas a spec left out.
	if s.Input == nil || s.Input.Type != steps.TypeObject || s.Output == nil || s.Output.Type != steps.TypeAny {
		t.Fatalf("defaults not filled: input %+v, output %+v", s.Input, s.Output)
	}
	if _, ok := reg.Lookup("nope"); ok {
		t.Fatal("Lookup(nope) succeeded")
	}
}

func TestRegistryCopiesSpec(t *testing.T) {
	t.Parallel()
	reg := steps.NewRegistry()
	spec := steps.Spec{Type: "transform", Title: "Before", Run: noop}
	if err := reg.Add(spec); err != nil {
		t.Fatal(err)
	}
	spec.Title = "After"
	if s, _ := reg.Lookup("transform"); s.Title != "Before" {
		t.Fatalf("registry shares the caller's spec: %q", s.Title)
	}
}

func TestSpecBranches(t *testing.T) {
	t.Parallel()
	sw := steps.Spec{StaticBranches: []string{"default"}, CaseBranches: "cases"}
	got := sw.Branches(map[string]any{"cases": []any{
		map[string]any{"name": "offer"}, map[string]any{"name": ""}, "junk", map[string]any{"name": "hired"},
	}})
	if want := []string{"default", "offer", "hired"}; !slices.Equal(got, want) {
		t.Fatalf("Branches = %v, want %v", got, want)
	}
	if !sw.HasBranches() {
		t.Fatal("switch has branches")
	}
	if (&steps.Spec{}).HasBranches() {
		t.Fatal("a plain spec has no branches")
	}
}
