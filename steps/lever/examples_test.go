package lever_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/lever"
	"github.com/leverflow/leverflow/steps/lever/levertest"
)

// TestExamples runs every example of every Lever step against its own
// example sandbox (examples write). The catalog runs them too; this keeps
// the package's own tests whole.
func TestExamples(t *testing.T) {
	t.Parallel()
	reg := steps.NewRegistry()
	if err := lever.Register(reg, nil); err != nil {
		t.Fatal(err)
	}
	for _, spec := range reg.All() {
		if len(spec.Examples) < 2 {
			t.Errorf("%s: %d examples, want at least 2", spec.Type, len(spec.Examples))
		}
		for _, ex := range spec.Examples {
			t.Run(spec.Type+"/"+ex.Name, func(t *testing.T) {
				t.Parallel()
				runExample(t, spec, ex)
			})
		}
	}
}

func runExample(t *testing.T, spec *steps.Spec, ex steps.Example) {
	t.Helper()
	exs := levertest.NewExample(t)
	reg := steps.NewRegistry()
	if err := lever.Register(reg, exs.Clients); err != nil {
		t.Fatal(err)
	}
	live, _ := reg.Lookup(spec.Type)
	in, err := exs.Expand(ex.Input)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := live.Run(ctx, &steps.Request{RunID: "run-example", StepID: "example", Key: "example", Attempt: 1,
		Connection: "example", Input: in.(map[string]any), Now: levertest.ExampleNow, StartedAt: levertest.ExampleNow})
	if ex.Error != "" {
		if err == nil || !strings.Contains(err.Error(), ex.Error) {
			t.Fatalf("error = %v, want one containing %q", err, ex.Error)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	var got any
	b, _ := json.Marshal(out)
	_ = json.Unmarshal(b, &got)
	want, err := exs.Expand(ex.Output)
	if err != nil {
		t.Fatal(err)
	}
	if !levertest.Match(got, want) {
		if os.Getenv("LEVER_EXAMPLES_PRINT") != "" {
			s := string(b)
			for k, v := range exs.Vars {
				s = strings.ReplaceAll(s, v, "{{"+k+"}}")
			}
			t.Logf("GOT %s", s)
		}
		w, _ := json.Marshal(want)
		t.Fatalf("output:\n  %s\nwant:\n  %s", b, w)
	}
}
