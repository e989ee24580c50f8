package core

import (
	"context"
	"time"

	"github.com/leverflow/leverflow/steps"
)

type delayInput struct {
	For   *time.Duration `json:"for"`
	Until *time.Time     `json:"until"`
}

type delayOutput struct {
	WaitedUntil string `json:"waited_until"`
}

func delaySpec() steps.Spec {
	spec := steps.Spec{
		Type:     "delay",
		Title:    "Delay",
		Category: "Flow",
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
	return steps.Typed(spec, runDelay)
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
	var until time.Time
	switch {
	case in.For != nil && in.Until != nil:
		return delayOutput{}, steps.Permanentf("input: set either for or until, not both; remove one of them")
	case in.For != nil:
		if *in.For < 0 {
			return delayOutput{}, steps.Permanentf("input.for: must not be negative, got %s; write a wait such as \"10m\"", *in.For)
		}
		until = start.Add(*in.For)
	case in.Until != nil:
		until = *in.Until
	default:
		return delayOutput{}, steps.Permanentf("input: set for (a duration such as \"10m\") or until (an RFC 3339 time such as \"2025-01-31T09:00:00Z\")")
	}
	if now.Before(until) {
		return delayOutput{}, steps.Sleep(until)
	}
	return delayOutput{WaitedUntil: until.UTC().Format(time.RFC3339)}, nil
}
