package core_test

import (
	"slices"
	"testing"

	"github.com/leverflow/leverflow/steps/core"
)

func TestSwitch(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	spec, _ := reg.Lookup("switch")
	tests := []struct {
		name    string
		input   string
		want    string
		wantErr string
	}{
		{"first true wins", `{"cases": [{"name": "a", "if": false}, {"name": "b", "if": true}, {"name": "c", "if": true}]}`, "b", ""},
		{"only case", `{"cases": [{"name": "offer", "if": true}]}`, "offer", ""},
		{"none true", `{"cases": [{"name": "a", "if": false}]}`, "default", ""},
		{"names checked before evaluating", `{"cases": [{"name": "a", "if": true}, {"name": "a", "if": false}]}`, "", `input.cases[1].name: "a" is already the name of cases[0]; case names must be unique`},
		{"default is reserved", `{"cases": [{"name": "a", "if": false}, {"name": "default", "if": true}]}`, "", `input.cases[1].name: "default" is the branch taken when no case is true; give this case another name`},
		{"empty name", `{"cases": [{"name": "", "if": true}]}`, "", `input.cases[0].name: must not be empty`},
		{"name missing", `{"cases": [{"if": true}]}`, "", `input.cases[0].name: required field is missing`},
		{"if missing", `{"cases": [{"name": "a"}]}`, "", `input.cases[0].if: required field is missing`},
		{"if not boolean", `{"cases": [{"name": "a", "if": false}, {"name": "b", "if": "no"}]}`, "", `input.cases[1].if must be a boolean, got string "no"; write a comparison such as`},
		{"a later bad if is not reached", `{"cases": [{"name": "a", "if": true}, {"name": "b", "if": "no"}]}`, "a", ""},
		{"no cases", `{"cases": []}`, "", `input.cases: must hold at least one case`},
		{"cases not a list", `{"cases": {"name": "a"}}`, "", `input.cases: must be a list`},
		{"cases missing", `{}`, "", `input.cases: required field is missing`},
		{"name not text", `{"cases": [{"name": 1, "if": true}]}`, "", `input.cases[0].name: must be a string, got number 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := run(t, reg, "switch", input(t, tt.input))
			if tt.wantErr != "" {
				checkErr(t, err, tt.wantErr, true)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, out, `{"case": "`+tt.want+`"}`) {
				t.Fatalf("output %s, want case %q", mustJSON(out), tt.want)
			}
			if b, err := spec.BranchOf(out); err != nil || b != tt.want {
				t.Fatalf("BranchOf = %q, %v; want %q", b, err, tt.want)
			}
		})
	}
}

func TestSwitchBranches(t *testing.T) {
	t.Parallel()
	spec, _ := setup(t, core.Options{}).Lookup("switch")
	got := spec.Branches(input(t, `{"cases": [{"name": "offer", "if": "<<x>>"}, {"name": "hired", "if": "<<y>>"}]}`))
	if want := []string{"default", "offer", "hired"}; !slices.Equal(got, want) {
		t.Fatalf("Branches = %v, want %v", got, want)
	}
}
