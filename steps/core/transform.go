package core

import (
	"context"

	"github.com/leverflow/leverflow/steps"
)

type transformInput struct {
	Value any `json:"value"`
}

func transformSpec() steps.Spec {
	spec := steps.Spec{
		Type:     "transform",
		Title:    "Transform",
		Category: "Logic",
		Description: "Builds a value from earlier steps' data: write the JSON you want, with << >> references " +
			"where data goes. The output is that value with every reference resolved.",
		Input: obj("The value to build.", map[string]*steps.Schema{
			"value": {
				Type:        steps.TypeAny,
				Description: "Any JSON value: an object, a list, text or a single reference; references inside are resolved.",
				Example:     map[string]any{"name": "<<steps.opp.name>>", "email": "<<steps.opp.emails[0]>>"},
			},
		}, "value"),
		Output: &steps.Schema{Type: steps.TypeAny, Description: "The value of `value`, with references resolved."},
		Examples: []steps.Example{
			example("Pick and rename fields",
				`{"value": {"name": "Ada Lovelace", "email": "ada@example.com", "tags": ["senior"]}}`,
				`{"name": "Ada Lovelace", "email": "ada@example.com", "tags": ["senior"]}`),
			example("A list", `{"value": [1, 2, 3]}`, `[1, 2, 3]`),
			example("Text", `{"value": "Ada Lovelace applied for Engineer"}`, `"Ada Lovelace applied for Engineer"`),
			errorExample("value is required", `{"values": 1}`, `input.values: unknown field; did you mean "value"?`),
		},
	}
	return steps.Typed(spec, func(_ context.Context, _ *steps.Request, in transformInput) (any, error) {
		return in.Value, nil
	})
}
