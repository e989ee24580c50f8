package core_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/core"
)

func TestFanoutSpec(t *testing.T) {
	t.Parallel()
	spec, _ := setup(t, core.Options{}).Lookup("fanout")
	if !spec.Container || spec.Run != nil {
		t.Fatalf("fanout must be a container the engine runs: Container %v, Run nil %v", spec.Container, spec.Run == nil)
	}
	// The engine runs the examples' bodies; here their inputs are checked.
	for _, ex := range spec.Examples {
		var in map[string]any
		if err := json.Unmarshal(ex.Input, &in); err != nil {
			t.Fatalf("%s: %v", ex.Name, err)
		}
		items, _, err := core.FanoutInput(in)
		switch {
		case ex.Error != "" && (err == nil || !strings.Contains(err.Error(), ex.Error)):
			t.Errorf("%s: got %v, want an error containing %q", ex.Name, err, ex.Error)
		case ex.Error == "" && err != nil:
			t.Errorf("%s: %v", ex.Name, err)
		case ex.Error == "":
			var out []any
			if err := json.Unmarshal(ex.Output, &out); err != nil || len(out) != len(items) {
				t.Errorf("%s: output %s does not have one result per item (%d)", ex.Name, ex.Output, len(items))
			}
		}
	}
}

func TestFanoutInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		input     map[string]any
		wantItems []any
		wantConc  int
		wantErr   string
	}{
		{"defaults", map[string]any{"items": []any{"a", "b"}}, []any{"a", "b"}, 10, ""},
		{"null concurrency takes the default", map[string]any{"items": []any{1.0}, "concurrency": nil}, []any{1.0}, 10, ""},
		{"concurrency", map[string]any{"items": []any{}, "concurrency": 3.0}, []any{}, 3, ""},
		{"bounds", map[string]any{"items": []any{}, "concurrency": 1000.0}, []any{}, 1000, ""},
		{"Go slice", map[string]any{"items": []string{"x"}, "concurrency": 2}, []any{"x"}, 2, ""},
		{"items missing", map[string]any{}, nil, 0, `input.items: required field is missing (The list to run the body for`},
		{"items null", map[string]any{"items": nil}, nil, 0, `input.items: required, got null`},
		{"items object", map[string]any{"items": map[string]any{"a": 1}}, nil, 0, `input.items: must be a list, got object; reference a list, such as <<steps.opps.data>>, or write one, such as ["a", "b"]`},
		{"items text", map[string]any{"items": "a,b"}, nil, 0, `input.items: must be a list, got string "a,b"`},
		{"concurrency zero", map[string]any{"items": []any{}, "concurrency": 0.0}, nil, 0, `input.concurrency: must be between 1 and 1000, got 0; it is how many items run at once`},
		{"concurrency too high", map[string]any{"items": []any{}, "concurrency": 1001.0}, nil, 0, `input.concurrency: must be between 1 and 1000, got 1001`},
		{"concurrency fraction", map[string]any{"items": []any{}, "concurrency": 2.5}, nil, 0, `input.concurrency: must be a whole number such as 10, got number 2.5`},
		{"concurrency text", map[string]any{"items": []any{}, "concurrency": "5"}, nil, 0, `input.concurrency: must be a whole number such as 10, got string "5"`},
		{"unknown field", map[string]any{"items": []any{}, "steps": []any{}}, nil, 0, `input.steps: unknown field (known fields: concurrency, items)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			items, conc, err := core.FanoutInput(tt.input)
			if tt.wantErr != "" {
				checkErr(t, err, tt.wantErr, true)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(items, tt.wantItems) || conc != tt.wantConc {
				t.Fatalf("got %v, %d; want %v, %d", items, conc, tt.wantItems, tt.wantConc)
			}
		})
	}
	if _, _, err := core.FanoutInput(nil); !steps.IsPermanent(err) {
		t.Fatalf("nil input: %v", err)
	}
}
