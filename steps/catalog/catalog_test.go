package catalog_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/catalog"
	"github.com/leverflow/leverflow/steps/core"
)

func TestNewRegistersCore(t *testing.T) {
	t.Parallel()
	reg, err := catalog.New(catalog.Options{Core: core.Options{HTTPClient: http.DefaultClient, MaxResponseBytes: 1024}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"condition", "delay", "fanout", "http.request", "respond", "switch", "transform"}
	for _, typ := range want {
		if _, ok := reg.Lookup(typ); !ok {
			t.Errorf("catalog lacks %q", typ)
		}
	}
	if got := reg.Types(); !slices.IsSorted(got) || len(got) < len(want) {
		t.Errorf("Types() = %v", got)
	}
}

// TestSpecsAreDocumented checks what the editor's catalog needs from every
// step type: a title, a category, a description, and a description on every
// field of its input and output.
func TestSpecsAreDocumented(t *testing.T) {
	t.Parallel()
	reg, err := catalog.New(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range reg.All() {
		t.Run(spec.Type, func(t *testing.T) {
			t.Parallel()
			if spec.Title == "" || spec.Category == "" || spec.Description == "" {
				t.Errorf("title %q, category %q, description %q: none may be empty", spec.Title, spec.Category, spec.Description)
			}
			checkDescribed(t, "input", spec.Input)
			checkDescribed(t, "output", spec.Output)
			if len(spec.Examples) < 2 {
				t.Errorf("has %d examples, want at least 2", len(spec.Examples))
			}
			if spec.Container != (spec.Run == nil) {
				t.Errorf("Container = %v but Run nil = %v", spec.Container, spec.Run == nil)
			}
			// GET /step-types serves the specs as JSON.
			b, err := json.Marshal(spec)
			if err != nil {
				t.Fatalf("spec does not marshal: %v", err)
			}
			var back map[string]any
			if err := json.Unmarshal(b, &back); err != nil || back["type"] != spec.Type {
				t.Fatalf("spec JSON %s does not round-trip: %v", b, err)
			}
		})
	}
}

func checkDescribed(t *testing.T, path string, s *steps.Schema) {
	t.Helper()
	if s == nil {
		t.Errorf("%s: no schema", path)
		return
	}
	if s.Description == "" {
		t.Errorf("%s: no description", path)
	}
	for _, name := range s.PropertyNames() {
		checkDescribed(t, path+"."+name, s.Properties[name])
	}
	for _, r := range s.Required {
		if s.Properties[r] == nil {
			t.Errorf("%s: requires %q, which it does not describe", path, r)
		}
	}
	if s.Items != nil {
		checkDescribed(t, path+"[]", s.Items)
	}
}
