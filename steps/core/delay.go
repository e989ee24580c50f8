package core

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/leverflow/leverflow/steps"
)

// delayInput holds for and until as written (nil when absent or null):
// the handler reads them with the functions the save-time check uses.
type delayInput struct {
	For   any `json:"for"`
	Until any `json:"until"`
}

type delayOutput struct {
	WaitedUntil string `json:"waited_until"`
}

func delaySpec() steps.Spec {
	spec := steps.Spec{
		Type:     "delay",
		Title:    "Delay",
		Category: "Timing",
		Description: "Waits for a while (`for`) or until a time (`until`), then lets the next steps run. " +
			"The run is parked in the store while it waits, so a restart does not lose or restart the wait; " +
			"`for` counts from when the step first started.",
		Input: obj("How long to wait: exactly one of `for` and `until`.", map[string]*steps.Schema{
			"for": {
				Type:        steps.TypeString,
				Format:      "duration",
				Description: "How long to wait, such as \"10m\", \"2h\" or \"72h\" (Go duration syntax: h, m, s). Leave empty when `until` is set.",
				Example:     "24h",
			},
			"until": {
				Type:        steps.TypeString,
				Format:      "date-time",
				Description: "When to continue, as an RFC 3339 time such as \"2025-01-31T09:00:00Z\"; a time already past continues at once. Leave empty when `for` is set.",
				Example:     "<<steps.interview.date>>",
			},
		}),
		Output: obj("When the wait ended.", map[string]*steps.Schema{
			"waited_until": {Type: steps.TypeString, Format: "date-time", Description: "The time the step waited until, RFC 3339 in UTC."},
		}, "waited_until"),
		// Examples do not depend on the clock: a time long past, one far
		// ahead, and waits that have not elapsed when the step first runs
		// (which park the run: the error is the steps.Sleep request).
		Examples: []steps.Example{
			example("A time already past continues at once",
				`{"until": "2020-01-31T09:00:00+01:00"}`,
				`{"waited_until": "2020-01-31T08:00:00Z"}`),
			errorExample("A time ahead parks the run until then",
				`{"until": "2999-01-01T00:00:00Z"}`,
				`sleeping until 2999-01-01T00:00:00Z`),
			errorExample("Waiting for a duration parks the run",
				`{"for": "24h"}`,
				`sleeping until`),
			errorExample("for and until do not go together",
				`{"for": "1h", "until": "2999-01-01T00:00:00Z"}`,
				`input: set either for or until, not both`),
			errorExample("A wait needs for or until",
				`{}`,
				`input: set for (a duration such as "10m") or until (an RFC 3339 time such as "2025-01-31T09:00:00Z")`),
		},
	}
	spec.Check = checkDelay
	return steps.Typed(spec, runDelay)
}

// The rules of a delay's input, shared by the save-time check and the
// handler so that both give the same messages.
var (
	delayBoth    = steps.Problem{Message: "set either for or until, not both; remove one of them"}
	delayNeither = steps.Problem{Message: "set for (a duration such as \"10m\") or until (an RFC 3339 time such as \"2025-01-31T09:00:00Z\")"}
)

// delayChoice checks that exactly one of for and until is set.
func delayChoice(hasFor, hasUntil bool) *steps.Problem {
	switch {
	case hasFor && hasUntil:
		return &delayBoth
	case !hasFor && !hasUntil:
		return &delayNeither
	}
	return nil
}

// parseDelayFor reads for: a Go duration, not negative.
func parseDelayFor(v any) (time.Duration, *steps.Problem) {
	s, ok := v.(string)
	if !ok {
		return 0, &steps.Problem{Path: "for", Message: "must be a duration such as \"30s\" or \"1h30m\", got " + steps.Describe(v)}
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, &steps.Problem{Path: "for", Message: "must be a duration: a number with a unit such as \"30s\", \"5m\" or \"1h30m\", got " + steps.Describe(v)}
	}
	if d < 0 {
		return 0, &steps.Problem{Path: "for", Message: fmt.Sprintf("must not be negative, got %s; write a wait such as \"10m\"", d)}
	}
	return d, nil
}

// parseDelayUntil reads until: an RFC 3339 time.
func parseDelayUntil(v any) (time.Time, *steps.Problem) {
	const want = "must be an RFC 3339 time such as \"2025-01-31T09:00:00Z\" or \"2025-01-31T09:00:00+01:00\", got "
	s, ok := v.(string)
	if !ok {
		return time.Time{}, &steps.Problem{Path: "until", Message: want + steps.Describe(v)}
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, &steps.Problem{Path: "until", Message: want + steps.Describe(v)}
	}
	return t, nil
}

// checkDelay is the delay's save-time check (Spec.Check): exactly one of
// for and until, and each, when it is a literal string, well formed. A
// reference may resolve to null (which leaves the field out), so "not both"
// holds only between literals; the JSON types are the schema's concern.
func checkDelay(input map[string]any) []steps.Problem {
	forV, untilV := input["for"], input["until"]
	var out []steps.Problem
	if p := delayChoice(forV != nil, untilV != nil); p != nil && !steps.HasReference(forV) && !steps.HasReference(untilV) {
		out = append(out, *p)
	}
	if s, ok := forV.(string); ok && !steps.HasReference(s) {
		if _, p := parseDelayFor(s); p != nil {
			out = append(out, *p)
		}
	}
	if s, ok := untilV.(string); ok && !steps.HasReference(s) {
		if _, p := parseDelayUntil(s); p != nil {
			out = append(out, *p)
		}
	}
	return out
}

// runDelay never sleeps: a wait that has not elapsed returns steps.Sleep and
// the engine parks the run, then runs the step again (with the same
// StartedAt) when the time comes.
func runDelay(_ context.Context, req *steps.Request, in delayInput) (delayOutput, error) {
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	start := req.StartedAt
	if start.IsZero() {
		start = now
	}
	if p := delayChoice(in.For != nil, in.Until != nil); p != nil {
		return delayOutput{}, p.Err()
	}
	var until time.Time
	if in.For != nil {
		d, p := parseDelayFor(in.For)
		if p != nil {
			return delayOutput{}, p.Err()
		}
		until = start.Add(d)
	} else {
		t, p := parseDelayUntil(in.Until)
		if p != nil {
			return delayOutput{}, p.Err()
		}
		until = t
	}
	if now.Before(until) {
		return delayOutput{}, steps.Sleep(until)
	}
	return delayOutput{WaitedUntil: until.UTC().Format(time.RFC3339)}, nil
}
