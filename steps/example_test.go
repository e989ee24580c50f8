package steps_test

import (
	"context"
	"fmt"
	"time"

	"github.com/leverflow/leverflow/steps"
)

// A step type written with Typed: the handler gets a decoded, checked input
// and returns a typed output.
func ExampleTyped() {
	type greetInput struct {
		Name  string        `json:"name"`
		After time.Duration `json:"after"`
	}
	type greetOutput struct {
		Greeting string `json:"greeting"`
	}
	spec := steps.Typed(steps.Spec{
		Type:     "greet",
		Title:    "Greet",
		Category: "Data",
		Input: &steps.Schema{Type: steps.TypeObject, Required: []string{"name"}, Properties: map[string]*steps.Schema{
			"name":  {Type: steps.TypeString, Description: "Who to greet."},
			"after": {Type: steps.TypeString, Format: "duration", Default: "1s", Description: "Unused."},
		}},
	}, func(_ context.Context, _ *steps.Request, in greetInput) (greetOutput, error) {
		return greetOutput{Greeting: fmt.Sprintf("Hello, %s (after %s)", in.Name, in.After)}, nil
	})

	reg := steps.NewRegistry()
	if err := reg.Add(spec); err != nil {
		panic(err)
	}
	greet, _ := reg.Lookup("greet")
	out, err := greet.Run(context.Background(), &steps.Request{Input: map[string]any{"name": "Ada"}})
	fmt.Println(out, err)
	_, err = greet.Run(context.Background(), &steps.Request{Input: map[string]any{"name": "Ada", "after": 5}})
	fmt.Println(err, steps.IsPermanent(err))
	_, err = greet.Run(context.Background(), &steps.Request{Input: map[string]any{"nme": "Ada"}})
	fmt.Println(err)
	// Output:
	// {Hello, Ada (after 1s)} <nil>
	// input.after: must be a duration such as "30s" or "1h30m", got number 5 true
	// input.nme: unknown field; did you mean "name"? (known fields: after, name)
}
