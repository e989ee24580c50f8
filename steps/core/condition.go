package core

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/leverflow/leverflow/steps"
)

type conditionInput struct {
	// If is decoded as any so that a non-boolean gets condition's own
	// message rather than the generic one.
	If any `json:"if"`
}

type conditionOutput struct {
	Result bool `json:"result"`
}

func conditionSpec() steps.Spec {
	spec := steps.Spec{
		Type:     "condition",
		Title:    "Condition",
		Category: "Logic",
		Description: "Branches on a yes/no question. Steps on the \"true\" edge run when `if` is true, " +
			"steps on the \"false\" edge when it is false; the others are skipped.",
		Input: obj("What to decide on.", map[string]*steps.Schema{
			"if": {
				Type:        steps.TypeBoolean,
				Description: "The question: a single reference that evaluates to true or false, such as <<steps.opp.stage == \"offer\">>.",
				Example:     `<<'Senior' in steps.opp.headline>>`,
			},
		}, "if"),
		Output: obj("The decision.", map[string]*steps.Schema{
			"result": {Type: steps.TypeBoolean, Description: "The value of `if`; also the branch taken (\"true\" or \"false\")."},
		}, "result"),
		StaticBranches: []string{"true", "false"},
		BranchOf: func(output any) (string, error) {
			v, err := outputField(output, "result")
			if err != nil {
				return "", err
			}
			b, ok := v.(bool)
			if !ok {
				return "", fmt.Errorf("output.result must be a boolean, got %s", steps.Describe(v))
			}
			return strconv.FormatBool(b), nil
		},
		Examples: []steps.Example{
			example("A true comparison takes the \"true\" branch", `{"if": true}`, `{"result": true}`),
			example("A false comparison takes the \"false\" branch", `{"if": false}`, `{"result": false}`),
			errorExample("Text is not a boolean", `{"if": "yes"}`,
				`input.if must be a boolean, got string "yes"; write a comparison such as <<steps.opp.stage == "offer">>`),
			errorExample("A missing question", `{}`, `input.if: required field is missing`),
		},
	}
	return steps.Typed(spec, func(_ context.Context, _ *steps.Request, in conditionInput) (conditionOutput, error) {
		b, err := asBoolean("input.if", in.If)
		if err != nil {
			return conditionOutput{}, err
		}
		return conditionOutput{Result: b}, nil
	})
}

// asBoolean checks a rendered boolean input, with a fix for the usual
// mistakes.
func asBoolean(path string, v any) (bool, error) {
	if b, ok := v.(bool); ok {
		return b, nil
	}
	msg := fmt.Sprintf("%s must be a boolean, got %s; write a comparison such as <<steps.opp.stage == \"offer\">>", path, steps.Describe(v))
	if s, ok := v.(string); ok {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "false":
			msg += ", and make the value a single reference with nothing around it: text around << >> turns the result into a string"
		}
	}
	return false, steps.Permanent(fmt.Errorf("%s", msg))
}
