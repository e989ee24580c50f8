package core

import (
	"github.com/leverflow/leverflow/steps"
)

// Fanout concurrency: the default and the bounds of input.concurrency.
const (
	DefaultFanoutConcurrency = 10
	MaxFanoutConcurrency     = 1000
)

type fanoutInput struct {
	Items       []any `json:"items"`
	Concurrency int   `json:"concurrency"`
}

func fanoutSpec() steps.Spec {
	return steps.Spec{
		Type:     "fanout",
		Title:    "For each",
		Category: "Logic",
		Description: "Runs its own steps once for every item of a list, several items at a time. Inside, " +
			"<<item>> is the current item and <<index>> its position (from 0). The output is the list of " +
			"per-item results, in the order of the items: each item's result is the output of its last step " +
			"(with several last steps, an object keyed by step id).",
		Input: obj("The list to run the body for.", map[string]*steps.Schema{
			"items": {
				Type:        steps.TypeArray,
				Description: "The list to run the body for, once per item; usually a single reference such as <<steps.opps.data>>.",
				Items:       &steps.Schema{Type: steps.TypeAny, Description: "One item, seen inside as <<item>>."},
			},
			"concurrency": {
				Type:        steps.TypeInteger,
				Description: "How many items run at once, from 1 to 1000; 1 runs them one after another.",
				Default:     DefaultFanoutConcurrency,
			},
		}, "items"),
		Output: &steps.Schema{
			Type:        steps.TypeArray,
			Description: "The per-item results, in the order of the items.",
			Items:       &steps.Schema{Type: steps.TypeAny, Description: "One item's result: the output of the body's last step, or an object keyed by step id when it has several."},
		},
		Container: true,
		Items:     FanoutInput,
		// The engine runs a fanout (reading its input with FanoutInput), so
		// these examples are run by the engine's tests; their inputs are
		// checked by FanoutInput in this package's tests. The bodies are
		// described in the names: a body whose last step is a transform
		// with value {"id": "<<item>>", "n": "<<index>>"}.
		Examples: []steps.Example{
			example("Shape each opportunity id (body: a transform with value {\"id\": \"<<item>>\", \"n\": \"<<index>>\"})",
				`{"items": ["opp-1", "opp-2"], "concurrency": 2}`,
				`[{"id": "opp-1", "n": 0}, {"id": "opp-2", "n": 1}]`),
			example("An empty list runs nothing (same body)",
				`{"items": []}`,
				`[]`),
			errorExample("items must be a list",
				`{"items": {"id": "opp-1"}}`,
				`input.items: must be a list, got object`),
			errorExample("concurrency is bounded",
				`{"items": [1, 2], "concurrency": 0}`,
				`input.concurrency: must be between 1 and 1000, got 0`),
		},
	}
}

// FanoutInput reads and checks a fanout's rendered input for the engine:
// the items to run the body for and how many may run at once (10 when
// concurrency is absent or null). Errors are permanent, name the input path
// and say how to fix it.
func FanoutInput(input map[string]any) (items []any, concurrency int, err error) {
	if v := input["items"]; v != nil && steps.Describe(v) != "array" {
		return nil, 0, steps.Permanentf("input.items: must be a list, got %s; reference a list, such as <<steps.opps.data>>, or write one, such as [\"a\", \"b\"]", steps.Describe(v))
	}
	in, err := steps.DecodeInput[fanoutInput](fanoutSpec().Input, input)
	if err != nil {
		return nil, 0, err
	}
	if in.Concurrency < 1 || in.Concurrency > MaxFanoutConcurrency {
		return nil, 0, steps.Permanentf("input.concurrency: must be between 1 and %d, got %d; it is how many items run at once", MaxFanoutConcurrency, in.Concurrency)
	}
	if in.Items == nil {
		in.Items = []any{}
	}
	return in.Items, in.Concurrency, nil
}
