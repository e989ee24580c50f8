package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/core"
)

// testNow is the engine clock the tests run steps with.
var testNow = time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)

// setup returns a registry holding the core steps, built with opts.
func setup(t *testing.T, opts core.Options) *steps.Registry {
	t.Helper()
	reg := steps.NewRegistry()
	if err := core.Register(reg, opts); err != nil {
		t.Fatal(err)
	}
	return reg
}

// run runs one attempt of a core step with the fixed clock.
func run(t *testing.T, reg *steps.Registry, typ string, input map[string]any) (any, error) {
	t.Helper()
	spec, ok := reg.Lookup(typ)
	if !ok {
		t.Fatalf("no step type %q", typ)
	}
	return spec.Run(context.Background(), &steps.Request{
		RunID: "run-1", StepID: "s", Key: "s", Attempt: 1, Input: input, Now: testNow, StartedAt: testNow,
	})
}

// decode parses JSON text into the value a JSON document decodes to.
func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %s: %v", s, err)
	}
	return v
}

// input parses a JSON object for a step's input.
func input(t *testing.T, s string) map[string]any {
	t.Helper()
	m, ok := decode(t, s).(map[string]any)
	if !ok {
		t.Fatalf("not an object: %s", s)
	}
	return m
}

// sameJSON reports whether v marshals to the JSON value want describes.
func sameJSON(t *testing.T, v any, want string) bool {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	return reflect.DeepEqual(decode(t, string(b)), decode(t, want))
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// checkErr checks that err contains want and is permanent or not.
func checkErr(t *testing.T, err error, want string, permanent bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error:\n  %v\nwant it to contain:\n  %s", err, want)
	}
	if steps.IsPermanent(err) != permanent {
		t.Fatalf("IsPermanent = %v, want %v (%v)", !permanent, permanent, err)
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	want := []string{"condition", "delay", "fanout", "http.request", "respond", "switch", "transform"}
	if got := reg.Types(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Types() = %v, want %v", got, want)
	}
	// The editor's palette groups steps as Lever, Logic, HTTP and Timing.
	categories := map[string]bool{"Logic": true, "HTTP": true, "Timing": true}
	for _, spec := range reg.All() {
		if !categories[spec.Category] {
			t.Errorf("%s: category %q is not one of Logic, HTTP, Timing", spec.Type, spec.Category)
		}
		if len(spec.Examples) < 2 {
			t.Errorf("%s: %d examples, want at least 2", spec.Type, len(spec.Examples))
		}
		if spec.NeedsConnection {
			t.Errorf("%s: core steps need no connection", spec.Type)
		}
	}
	if err := core.Register(reg, core.Options{}); !errors.Is(err, steps.ErrDuplicateType) {
		t.Fatalf("registering twice: got %v, want ErrDuplicateType", err)
	}
}

func TestBranchOfReadsStoredOutput(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	cond, _ := reg.Lookup("condition")
	sw, _ := reg.Lookup("switch")
	tests := []struct {
		name    string
		spec    *steps.Spec
		output  any
		want    string
		wantErr string
	}{
		{"condition, stored as JSON", cond, map[string]any{"result": false}, "false", ""},
		{"condition, missing result", cond, map[string]any{}, "", `no "result" field`},
		{"condition, not boolean", cond, map[string]any{"result": "true"}, "", `output.result must be a boolean, got string "true"`},
		{"condition, not an object", cond, []any{1}, "", "the output is array, not an object"},
		{"switch, stored as JSON", sw, map[string]any{"case": "offer"}, "offer", ""},
		{"switch, empty case", sw, map[string]any{"case": ""}, "", "output.case must be a case name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.spec.BranchOf(tt.output)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
