package engine_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/workflow"
)

// linearDoc is a workflow of n transform steps in a chain, each reading
// the one before.
func linearDoc(n int) string {
	var st, ed []string
	for i := 0; i < n; i++ {
		in := `{"value": {"n": "<<trigger.n>>", "i": ` + fmt.Sprint(i) + `}}`
		if i > 0 {
			in = fmt.Sprintf(`{"value": {"n": "<<steps.s%d.n + 1>>", "i": %d, "from": "<<steps.s%d.i>>"}}`, i-1, i, i-1)
			ed = append(ed, fmt.Sprintf(`{"from": "s%d", "to": "s%d"}`, i-1, i))
		}
		st = append(st, fmt.Sprintf(`{"id": "s%d", "type": "transform", "input": %s}`, i, in))
	}
	return `{"name": "linear", "trigger": {"type": "api"}, "steps": [` + strings.Join(st, ",") + `], "edges": [` + strings.Join(ed, ",") + `]}`
}

// benchRuns starts b.N runs of the workflow and waits for all of them:
// throughput with the engine's default concurrency, every step persisted
// to a SQLite file.
func benchRuns(b *testing.B, doc string, steps int) {
	b.Helper()
	bt := setup(b)
	bt.save("wf", doc)
	b.ResetTimer()
	start := time.Now()
	ids := make([]string, b.N)
	for i := 0; i < b.N; i++ {
		ids[i] = bt.start("wf", `{"n": 1}`).ID
	}
	for _, id := range ids {
		if run := bt.wait(id); run.Status != workflow.RunSucceeded {
			b.Fatalf("run %s: %s %s", id, run.Status, run.Error)
		}
	}
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Seconds(), "runs/s")
	b.ReportMetric(float64(el.Microseconds())/float64(b.N*steps), "µs/step")
}

func BenchmarkRunLinear10(b *testing.B) {
	benchRuns(b, linearDoc(10), 10)
}

func BenchmarkFanout1000(b *testing.B) {
	items := make([]string, 1000)
	for i := range items {
		items[i] = fmt.Sprint(i)
	}
	doc := `{"name": "fan", "trigger": {"type": "api"}, "steps": [
  {"id": "each", "type": "fanout", "input": {"items": [` + strings.Join(items, ",") + `], "concurrency": 50},
   "steps": [{"id": "double", "type": "transform", "input": {"value": "<<item * 2>>"}}]}]}`
	benchRuns(b, doc, 1001)
}
