package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/core"
)

func TestDelay(t *testing.T) {
	t.Parallel()
	spec, _ := setup(t, core.Options{}).Lookup("delay")
	start := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		input     string
		now       time.Time // the attempt's clock
		started   time.Time // the first attempt's start (zero: unset)
		wantSleep time.Time
		wantOut   string
		wantErr   string
	}{
		{"for, first attempt", `{"for": "10m"}`, start, start, start.Add(10 * time.Minute), "", ""},
		{"for, woken early counts from the first start", `{"for": "10m"}`, start.Add(9 * time.Minute), start, start.Add(10 * time.Minute), "", ""},
		{"for, woken on time", `{"for": "10m"}`, start.Add(10 * time.Minute), start, time.Time{}, `{"waited_until": "2025-06-02T09:10:00Z"}`, ""},
		{"for, woken late", `{"for": "10m"}`, start.Add(time.Hour), start, time.Time{}, `{"waited_until": "2025-06-02T09:10:00Z"}`, ""},
		{"for zero", `{"for": "0s"}`, start, start, time.Time{}, `{"waited_until": "2025-06-02T09:00:00Z"}`, ""},
		{"for without StartedAt counts from Now", `{"for": "1h"}`, start, time.Time{}, start.Add(time.Hour), "", ""},
		{"until ahead", `{"until": "2025-06-02T12:00:00+02:00"}`, start, start, start.Add(time.Hour), "", ""},
		{"until reached, in UTC", `{"until": "2025-06-02T10:00:00+02:00"}`, start, start, time.Time{}, `{"waited_until": "2025-06-02T08:00:00Z"}`, ""},
		{"until exactly now", `{"until": "2025-06-02T09:00:00Z"}`, start, start, time.Time{}, `{"waited_until": "2025-06-02T09:00:00Z"}`, ""},
		{"until null, for set", `{"for": "1s", "until": null}`, start.Add(time.Second), start, time.Time{}, `{"waited_until": "2025-06-02T09:00:01Z"}`, ""},
		{"both", `{"for": "1h", "until": "2025-06-02T12:00:00Z"}`, start, start, time.Time{}, "", "input: set either for or until, not both; remove one of them"},
		{"neither", `{}`, start, start, time.Time{}, "", `input: set for (a duration such as "10m") or until (an RFC 3339 time such as "2025-01-31T09:00:00Z")`},
		{"both null", `{"for": null, "until": null}`, start, start, time.Time{}, "", `input: set for (a duration such as "10m")`},
		{"negative", `{"for": "-5m"}`, start, start, time.Time{}, "", `input.for: must not be negative, got -5m0s; write a wait such as "10m"`},
		{"bad duration", `{"for": "2 days"}`, start, start, time.Time{}, "", `input.for: must be a duration: a number with a unit such as "30s", "5m" or "1h30m", got string "2 days"`},
		{"bad time", `{"until": "2025-06-02 10:00"}`, start, start, time.Time{}, "", `input.until: must be an RFC 3339 time such as "2025-01-31T09:00:00Z" or "2025-01-31T09:00:00+01:00", got string "2025-06-02 10:00"`},
		{"unknown", `{"wait": "1m"}`, start, start, time.Time{}, "", `input.wait: unknown field (known fields: for, until)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A delay that slept would trip this deadline; it must answer at once.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			out, err := spec.Run(ctx, &steps.Request{Input: input(t, tt.input), Now: tt.now, StartedAt: tt.started})
			switch {
			case tt.wantErr != "":
				checkErr(t, err, tt.wantErr, true)
			case !tt.wantSleep.IsZero():
				s, ok := steps.AsSleep(err)
				if !ok {
					t.Fatalf("got %v, %v; want a sleep until %v", out, err, tt.wantSleep)
				}
				if !s.Until.Equal(tt.wantSleep) {
					t.Fatalf("sleeps until %v, want %v", s.Until, tt.wantSleep)
				}
				if steps.IsPermanent(err) {
					t.Fatal("a sleep is not a permanent failure")
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if !sameJSON(t, out, tt.wantOut) {
					t.Fatalf("output %s, want %s", mustJSON(out), tt.wantOut)
				}
			}
		})
	}
}
