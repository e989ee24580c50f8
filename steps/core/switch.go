package core

import (
	"context"
	"fmt"

	"github.com/leverflow/leverflow/steps"
)

// defaultCase is the branch a switch takes when no case is true.
const defaultCase = "default"

type switchInput struct {
	Cases []switchCase `json:"cases"`
}

type switchCase struct {
	Name string `json:"name"`
	If   any    `json:"if"`
}

type switchOutput struct {
	Case string `json:"case"`
}

func switchSpec() steps.Spec {
	spec := steps.Spec{
		Type:     "switch",
		Title:    "Switch",
		Category: "Logic",
		Description: "Picks one of several branches: the first case whose `if` is true wins, and the steps on the " +
			"edge with that case's name run. When no case is true, the \"default\" branch runs.",
		Input: obj("The cases, tried in order.", map[string]*steps.Schema{
			"cases": {
				Type:        steps.TypeArray,
				Description: "The cases, tried in order; the first whose `if` is true is taken. Each name is also a branch name.",
				Items: obj("One case.", map[string]*steps.Schema{
					"name": {Type: steps.TypeString, Description: "The case's name, which is the branch its edges use; unique, and not \"default\"."},
					"if":   {Type: steps.TypeBoolean, Description: "When this case applies: a single reference that evaluates to true or false."},
				}, "name", "if"),
			},
		}, "cases"),
		Output: obj("The case taken.", map[string]*steps.Schema{
			"case": {Type: steps.TypeString, Description: "The name of the first true case, or \"default\"; also the branch taken."},
		}, "case"),
		StaticBranches: []string{defaultCase},
		CaseBranches:   "cases",
		BranchOf: func(output any) (string, error) {
			v, err := outputField(output, "case")
			if err != nil {
				return "", err
			}
			s, ok := v.(string)
			if !ok || s == "" {
				return "", fmt.Errorf("output.case must be a case name, got %s", steps.Describe(v))
			}
			return s, nil
		},
		Examples: []steps.Example{
			example("The first true case wins",
				`{"cases": [{"name": "onsite", "if": false}, {"name": "offer", "if": true}, {"name": "hired", "if": true}]}`,
				`{"case": "offer"}`),
			example("No true case takes \"default\"",
				`{"cases": [{"name": "onsite", "if": false}, {"name": "offer", "if": false}]}`,
				`{"case": "default"}`),
			errorExample("Case names are unique",
				`{"cases": [{"name": "offer", "if": false}, {"name": "offer", "if": true}]}`,
				`input.cases[1].name: "offer" is already the name of cases[0]`),
			errorExample("\"default\" is reserved",
				`{"cases": [{"name": "default", "if": true}]}`,
				`input.cases[0].name: "default" is the branch taken when no case is true`),
			errorExample("Each if is a boolean",
				`{"cases": [{"name": "offer", "if": "offer"}]}`,
				`input.cases[0].if must be a boolean, got string "offer"`),
		},
	}
	spec.Check = checkSwitch
	return steps.Typed(spec, func(_ context.Context, _ *steps.Request, in switchInput) (switchOutput, error) {
		if len(in.Cases) == 0 {
			return switchOutput{}, noCases.Err()
		}
		// Check every name before evaluating anything, so a bad switch
		// fails the same way whichever case is true.
		seen := map[string]int{}
		for i, c := range in.Cases {
			if p := checkCaseName(i, c.Name, seen); p != nil {
				return switchOutput{}, p.Err()
			}
		}
		for i, c := range in.Cases {
			ok, err := asBoolean(fmt.Sprintf("input.cases[%d].if", i), c.If)
			if err != nil {
				return switchOutput{}, err
			}
			if ok {
				return switchOutput{Case: c.Name}, nil
			}
		}
		return switchOutput{Case: defaultCase}, nil
	})
}

// noCases is the problem of a switch with an empty list of cases.
var noCases = steps.Problem{Path: "cases", Message: "must hold at least one case such as {\"name\": \"offer\", \"if\": \"<<steps.opp.stage == 'offer'>>\"}"}

// checkCaseName checks the name of cases[i] against the names before it
// (seen maps a name to the index of its case) and records it. Save-time
// checks and the handler share it.
func checkCaseName(i int, name string, seen map[string]int) *steps.Problem {
	path := fmt.Sprintf("cases[%d].name", i)
	prev, dup := seen[name]
	switch {
	case name == "":
		return &steps.Problem{Path: path, Message: "must not be empty; name the case after what it means, such as \"offer\""}
	case name == defaultCase:
		return &steps.Problem{Path: path, Message: fmt.Sprintf("%q is the branch taken when no case is true; give this case another name", defaultCase)}
	case dup:
		return &steps.Problem{Path: path, Message: fmt.Sprintf("%q is already the name of cases[%d]; case names must be unique", name, prev)}
	}
	seen[name] = i
	return nil
}

// checkSwitch is the switch's save-time check (Spec.Check): a literal list
// of cases is not empty, and the literal case names are valid and unique.
// Values the schema checks (the list's and the names' types, required
// fields) and values holding references are left alone.
func checkSwitch(input map[string]any) []steps.Problem {
	cases, ok := input["cases"].([]any)
	if !ok {
		return nil // missing, a reference or not a list: the schema's concern
	}
	if len(cases) == 0 {
		return []steps.Problem{noCases}
	}
	var out []steps.Problem
	seen := map[string]int{}
	for i, c := range cases {
		m, _ := c.(map[string]any)
		name, ok := m["name"].(string)
		if !ok || steps.HasReference(name) {
			continue
		}
		if p := checkCaseName(i, name, seen); p != nil {
			out = append(out, *p)
		}
	}
	return out
}
