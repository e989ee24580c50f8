package workflow

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/leverflow/leverflow/steps"
)

// TestParseReportsDecodeAndValidateProblems: decode problems do not hide
// validation problems, and what could not be decoded is not also reported
// as missing.
func TestParseReportsDecodeAndValidateProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"unknown field and a bad id", `{"name": "w", "nmae": "x", "trigger": {"type": "api"},
			"steps": [{"id": "A", "type": "transform"}]}`,
			[]string{`nmae: unknown field "nmae"; did you mean "name"?`, `steps[0].id: "A" is not a valid step id: use 1 to 63 lower-case letters, digits and underscores, starting with a letter (such as "a")`}},
		{"in document order", `{"name": "w", "trigger": {"type": "apii"},
			"steps": [{"id": "a", "type": "transform", "retyr": {}}, {"id": "b", "type": "nope"}], "edges": [{"from": "a", "to": "c"}], "extra": 1}`,
			[]string{`trigger.type: unknown trigger type "apii"; did you mean "api"?`, `steps[0].retyr: unknown field "retyr"; did you mean "retry"?`,
				`steps[1].type: unknown step type "nope"; ` + "`leverflow step-types` lists the known types",
				`edges[0].to: no step "c"; did you mean "a"?`, `extra: unknown field "extra"; known fields: name, description, trigger, vars, timeout, concurrency, retention, redact_pii, on_failure, steps, edges`}},
		{"a wrong type is not also missing", `{"name": 1, "trigger": {"type": "api"}, "steps": {}}`,
			[]string{"name: must be a string, got number", "steps: must be an array, got object"}},
		{"a misspelt field is not also missing", `{"name": "w", "trigger": {"type": "api"}, "stepz": []}`,
			[]string{`stepz: unknown field "stepz"; did you mean "steps"?`}},
		{"a misspelt field next to the real one", `{"name": "w", "trigger": {"type": "api"}, "steps": [], "stepz": []}`,
			[]string{"steps: the workflow has no steps; add at least one step to \"steps\"", `stepz: unknown field "stepz"; did you mean "steps"?`}},
		{"a trigger that is not an object", `{"name": "w", "trigger": "api", "steps": [{"id": "a", "type": "transform", "timeout": "0s"}]}`,
			[]string{"trigger: must be an object, got string", `steps[0].timeout: "0s" is zero: use a positive duration such as "30s", or leave it out for no limit`}},
		{"vars that are not an object are not undeclared", `{"name": "w", "trigger": {"type": "api"}, "vars": [1], "steps": [{"id": "a", "type": "transform", "input": {"value": "<<vars.x>>"}}]}`,
			[]string{"vars: must be an object, got array"}},
		{"a number out of range in an input", `{"name": "w", "trigger": {"type": "api"}, "steps": [{"id": "a", "type": "transform", "input": {"value": 1e999}}, {"id": "b", "type": "nope"}]}`,
			[]string{"steps[0].input.value: the number 1e999 is out of range", `steps[1].type: unknown step type "nope"; ` + "`leverflow step-types` lists the known types"}},
		{"not an object", `[1, 2]`,
			[]string{`a workflow must be a JSON object such as {"name": ..., "trigger": ..., "steps": [...]}, got array`}},
		{"malformed JSON gives one problem", `{"nmae": "x", "steps": [}`,
			[]string{"line 1, column 25: invalid character '}' looking for beginning of value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, problems := Parse([]byte(tt.doc), testOptions(t))
			if w != nil {
				t.Error("Parse returned a workflow along with decode problems")
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

// TestStaticCheck: Validate runs Spec.Check on the literal input, reports
// its problems under the step's input in document order, and a schema
// problem at the same path gives way to the step's own.
func TestStaticCheck(t *testing.T) {
	t.Parallel()
	reg := testCatalog(t)
	var mu sync.Mutex
	var seen []map[string]any
	err := reg.Add(steps.Spec{
		Type: "checked",
		Input: &steps.Schema{Type: steps.TypeObject, Properties: map[string]*steps.Schema{
			"wait": {Type: steps.TypeString, Format: "duration"},
			"list": {Type: steps.TypeArray, Items: &steps.Schema{Type: steps.TypeObject, AdditionalProperties: true}},
			"n":    {Type: steps.TypeInteger},
		}},
		Run: func(context.Context, *steps.Request) (any, error) { return nil, nil },
		Check: func(in map[string]any) []steps.Problem {
			mu.Lock()
			seen = append(seen, in)
			mu.Unlock()
			var out []steps.Problem
			if w, ok := in["wait"].(string); ok && !steps.HasReference(w) && w != "1s" {
				out = append(out, steps.Problem{Path: "wait", Message: "must be 1s"})
			}
			if list, ok := in["list"].([]any); ok {
				for i, x := range list {
					if m, ok := x.(map[string]any); ok && m["name"] == "bad" {
						out = append(out, steps.Problem{Path: "list[" + string(rune('0'+i)) + "].name", Message: "is bad"})
					}
				}
			}
			if _, ok := in["n"]; !ok {
				out = append(out, steps.Problem{Message: "set n"})
			}
			return out
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t)
	opts.Steps = reg
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"fine", `{"wait": "1s", "n": 1}`, nil},
		{"whole input", `{"wait": "1s"}`, []string{"steps[0].input: set n"}},
		{"replaces the schema's problem at its path", `{"wait": "soon", "n": 1}`, []string{"steps[0].input.wait: must be 1s"}},
		{"a schema problem elsewhere stays", `{"wait": "2s", "n": 1.5}`, []string{"steps[0].input.wait: must be 1s", "steps[0].input.n: must be an integer, got number 1.5; write a whole number such as 10, or a single \"<< >>\" reference"}},
		{"references are the check's to skip", `{"wait": "<<trigger.wait>>", "n": 1}`, nil},
		{"nested paths, in document order", `{"n": 1, "list": [{"name": "ok"}, {"name": "bad"}], "wait": "3s"}`,
			[]string{"steps[0].input.list[1].name: is bad", "steps[0].input.wait: must be 1s"}},
	}
	t.Run("workflows", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				doc := `{"name": "w", "trigger": {"type": "api"}, "steps": [{"id": "a", "type": "checked", "input": ` + tt.input + `}]}`
				_, problems := Parse([]byte(doc), opts)
				var got []string
				for _, p := range problems {
					got = append(got, p.String())
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
				}
			})
		}
	})
	if len(seen) != len(tests) {
		t.Errorf("Check ran %d times for %d workflows", len(seen), len(tests))
	}
	if !slices.ContainsFunc(seen, func(in map[string]any) bool { return in["wait"] == "<<trigger.wait>>" }) {
		t.Errorf("Check did not get the unrendered input")
	}
}

// TestVarsReferences: reading vars a workflow does not declare is a
// problem on save.
func TestVarsReferences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, vars, ref string
		want            string
	}{
		{"no vars", ``, `<<vars.team>>`, `steps[0].input.value: <<vars.team>>: the workflow declares no vars; add "vars": {"team": ...}`},
		{"empty vars", `"vars": {},`, `<<vars['team']>>`, `steps[0].input.value: <<vars['team']>>: the workflow declares no vars; add "vars": {"team": ...}`},
		{"misspelt", `"vars": {"team": "a"},`, `<<vars.teem>>`, `steps[0].input.value: <<vars.teem>>: no field "teem" in vars; did you mean "team"?`},
		{"undeclared", `"vars": {"team": "a", "size": 2},`, `<<vars.region>>`, `steps[0].input.value: <<vars.region>>: no field "region" in vars; the workflow declares size, team: add "region" to "vars" or read one of those`},
		{"declared", `"vars": {"team": "a"},`, `<<vars.team>>`, ``},
		{"the whole of no vars", ``, `<<vars>>`, ``},
		{"escaped", ``, `\\<<vars.team>>`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := `{"name": "w", "trigger": {"type": "api"}, ` + tt.vars + ` "steps": [{"id": "a", "type": "transform", "input": {"value": "` + tt.ref + `"}}]}`
			_, problems := Parse([]byte(doc), testOptions(t))
			got := ""
			if len(problems) > 0 {
				got = problems[0].String()
			}
			if got != tt.want || len(problems) > 1 {
				t.Errorf("got %q, want %q", problems, tt.want)
			}
		})
	}
}
