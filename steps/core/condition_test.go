package core_test

import (
	"testing"

	"github.com/leverflow/leverflow/steps/core"
)

func TestCondition(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	spec, _ := reg.Lookup("condition")
	tests := []struct {
		name       string
		input      string
		wantBranch string
		wantErr    string
	}{
		{"true", `{"if": true}`, "true", ""},
		{"false", `{"if": false}`, "false", ""},
		{"text", `{"if": "yes"}`, "", `input.if must be a boolean, got string "yes"; write a comparison such as <<steps.opp.stage == "offer">>`},
		{"text that looks boolean", `{"if": "true"}`, "", `got string "true"; write a comparison such as <<steps.opp.stage == "offer">>, and make the value a single reference with nothing around it`},
		{"number", `{"if": 1}`, "", `input.if must be a boolean, got number 1`},
		{"object", `{"if": {"a": 1}}`, "", `input.if must be a boolean, got object`},
		{"null", `{"if": null}`, "", `input.if: required, got null`},
		{"missing", `{}`, "", `input.if: required field is missing`},
		{"typo", `{"iff": true}`, "", `input.iff: unknown field; did you mean "if"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := run(t, reg, "condition", input(t, tt.input))
			if tt.wantErr != "" {
				checkErr(t, err, tt.wantErr, true)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, out, `{"result": `+tt.wantBranch+`}`) {
				t.Fatalf("output %s", mustJSON(out))
			}
			if b, err := spec.BranchOf(out); err != nil || b != tt.wantBranch {
				t.Fatalf("BranchOf = %q, %v; want %q", b, err, tt.wantBranch)
			}
		})
	}
}
