package catalog_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/catalog"
	"github.com/leverflow/leverflow/steps/core/coretest"
	"github.com/leverflow/leverflow/steps/lever/levertest"
)

// exampleNow is the clock every example runs with (as Now and StartedAt).
var exampleNow = time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)

// TestExamples runs every example of every step type the catalog registers.
// Container steps (Run is nil) are run by the engine, which runs their
// examples in its own tests. Each Lever example runs against its own
// example sandbox (levertest.NewExample), since examples write.
func TestExamples(t *testing.T) {
	t.Parallel()
	reg, err := catalog.New(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := coretest.NewExampleServer(t)
	ran := 0
	for _, spec := range reg.All() {
		if spec.Run == nil {
			continue
		}
		if len(spec.Examples) < 2 {
			t.Errorf("%s: has %d examples, want at least 2", spec.Type, len(spec.Examples))
		}
		for _, ex := range spec.Examples {
			t.Run(spec.Type+"/"+ex.Name, func(t *testing.T) {
				t.Parallel()
				if strings.HasPrefix(spec.Type, "lever.") {
					runLeverExample(t, spec.Type, ex)
					return
				}
				runExample(t, spec, ex, srv.URL)
			})
			ran++
		}
	}
	if ran == 0 {
		t.Fatal("no examples ran")
	}
}

func runExample(t *testing.T, spec *steps.Spec, ex steps.Example, serverURL string) {
	t.Helper()
	if (len(ex.Output) == 0) == (ex.Error == "") {
		t.Fatalf("an example needs exactly one of Output and Error")
	}
	input, err := coretest.Expand(ex.Input, serverURL)
	if err != nil {
		t.Fatalf("input is not a JSON object: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := spec.Run(ctx, &steps.Request{
		RunID: "run-example", StepID: "example", Key: "example", Attempt: 1,
		Input: input, Now: exampleNow, StartedAt: exampleNow,
	})
	if ex.Error != "" {
		if err == nil {
			t.Fatalf("got output %s, want an error containing %q", mustJSON(t, out), ex.Error)
		}
		if !strings.Contains(err.Error(), ex.Error) {
			t.Fatalf("error:\n  %v\nwant it to contain:\n  %s", err, ex.Error)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	var got, want any
	if err := json.Unmarshal(mustJSON(t, out), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ex.Output, &want); err != nil {
		t.Fatalf("example output is not JSON: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("output:\n  %s\nwant:\n  %s", mustJSON(t, got), mustJSON(t, want))
	}
	if spec.BranchOf != nil {
		if _, err := spec.BranchOf(out); err != nil {
			t.Fatalf("BranchOf(output): %v", err)
		}
	}
}

// runLeverExample runs a Lever example through a catalog whose Lever
// steps call a fresh example sandbox.
func runLeverExample(t *testing.T, typ string, ex steps.Example) {
	t.Helper()
	sb := levertest.NewExample(t)
	reg, err := catalog.New(catalog.Options{Lever: sb.Clients})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := reg.Lookup(typ)
	if (len(ex.Output) == 0) == (ex.Error == "") {
		t.Fatalf("an example needs exactly one of Output and Error")
	}
	in, err := sb.Expand(ex.Input)
	input, ok := in.(map[string]any)
	if err != nil || !ok {
		t.Fatalf("input is not a JSON object: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := spec.Run(ctx, &steps.Request{
		RunID: "run-example", StepID: "example", Key: "example", Attempt: 1, Connection: "example",
		Input: input, Now: levertest.ExampleNow, StartedAt: levertest.ExampleNow,
	})
	if ex.Error != "" {
		if err == nil || !strings.Contains(err.Error(), ex.Error) {
			t.Fatalf("error:\n  %v\nwant it to contain:\n  %s", err, ex.Error)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	var got any
	if err := json.Unmarshal(mustJSON(t, out), &got); err != nil {
		t.Fatal(err)
	}
	want, err := sb.Expand(ex.Output)
	if err != nil {
		t.Fatalf("example output: %v", err)
	}
	if !levertest.Match(got, want) {
		t.Fatalf("output:\n  %s\nwant:\n  %s", mustJSON(t, got), mustJSON(t, want))
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	return b
}
