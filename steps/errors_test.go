package steps_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps"
)

func TestIsPermanent(t *testing.T) {
	t.Parallel()
	base := errors.New("bad input")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain errors are retryable", base, false},
		{"permanent", steps.Permanent(base), true},
		{"permanentf", steps.Permanentf("input.url: %s", "bad"), true},
		{"wrapped permanent", fmt.Errorf("step tag: %w", steps.Permanent(base)), true},
		{"joined permanent", errors.Join(base, steps.Permanent(base)), true},
		{"retry-after is retryable", steps.RetryAfter(base, time.Second), false},
		{"sleep is not permanent", steps.Sleep(time.Now()), false},
		{"error struct", &steps.Error{Err: base, Permanent: true, Code: "http_status"}, true},
		{"permanent under a retry-after", steps.RetryAfter(steps.Permanent(base), time.Second), true},
		{"permanent beside a retry-after", errors.Join(steps.RetryAfter(base, time.Second), steps.Permanent(base)), true},
		{"wrapped, nested", fmt.Errorf("step a: %w", steps.RetryAfter(fmt.Errorf("lever: %w", steps.Permanent(base)), time.Second)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := steps.IsPermanent(tt.err); got != tt.want {
				t.Fatalf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorKeepsTheCause(t *testing.T) {
	t.Parallel()
	base := errors.New("connection refused")
	for _, err := range []error{steps.Permanent(base), steps.RetryAfter(base, time.Second)} {
		if !errors.Is(err, base) {
			t.Errorf("%v does not wrap its cause", err)
		}
		if err.Error() != "connection refused" {
			t.Errorf("message %q, want the cause's", err.Error())
		}
	}
	if steps.Permanent(nil) != nil || steps.RetryAfter(nil, time.Second) != nil {
		t.Error("marking a nil error must return nil")
	}
}

func TestRetryAfterOf(t *testing.T) {
	t.Parallel()
	base := errors.New("429 Too Many Requests")
	tests := []struct {
		name   string
		err    error
		want   time.Duration
		wantOK bool
	}{
		{"nil", nil, 0, false},
		{"plain", base, 0, false},
		{"direct", steps.RetryAfter(base, 30*time.Second), 30 * time.Second, true},
		{"wrapped once", fmt.Errorf("calling Lever: %w", steps.RetryAfter(base, time.Minute)), time.Minute, true},
		{"wrapped twice", fmt.Errorf("step a: %w", fmt.Errorf("calling: %w", steps.RetryAfter(base, 2*time.Second))), 2 * time.Second, true},
		{"zero is none", steps.RetryAfter(base, 0), 0, false},
		{"negative is none", steps.RetryAfter(base, -time.Second), 0, false},
		{"permanent has none", steps.Permanent(base), 0, false},
		{"under a permanent", steps.Permanent(steps.RetryAfter(base, 5*time.Second)), 5 * time.Second, true},
		{"in a join", errors.Join(base, steps.RetryAfter(base, 3*time.Second)), 3 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := steps.RetryAfterOf(tt.err)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("RetryAfterOf = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestAsSleep(t *testing.T) {
	t.Parallel()
	until := time.Date(2025, 6, 2, 10, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("x"), false},
		{"sleep", steps.Sleep(until), true},
		{"wrapped sleep", fmt.Errorf("step wait: %w", steps.Sleep(until)), true},
		{"permanent", steps.Permanent(errors.New("x")), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ok := steps.AsSleep(tt.err)
			if ok != tt.ok {
				t.Fatalf("AsSleep ok = %v, want %v", ok, tt.ok)
			}
			if ok && !s.Until.Equal(until) {
				t.Fatalf("Until = %v, want %v", s.Until, until)
			}
		})
	}
	if got, want := steps.Sleep(until).Error(), "sleeping until 2025-06-02T08:00:00Z"; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
}
