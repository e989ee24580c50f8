package steps

import (
	"errors"
	"fmt"
	"time"
)

// ErrDuplicateType is returned by Registry.Add for a type already registered.
var ErrDuplicateType = errors.New("step type already registered")

// Error is a step failure with the engine's instructions attached. Errors
// are retryable unless marked permanent (the error taxonomy of Temporal):
// a network failure, a 429 or a 5xx is worth another attempt; bad input is
// not.
type Error struct {
	Err error
	// Permanent failures are never retried.
	Permanent bool
	// RetryAfter, when positive, is the least wait before the next attempt
	// (a Retry-After the remote side sent).
	RetryAfter time.Duration
	// Code is a short machine-readable kind ("timeout", "http_status", ...).
	Code string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err, Permanent: true}
}

// Permanentf is Permanent(fmt.Errorf(format, args...)).
func Permanentf(format string, args ...any) error {
	return Permanent(fmt.Errorf(format, args...))
}

// RetryAfter marks err as retryable no sooner than after d.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err, RetryAfter: d}
}

// IsPermanent reports whether err, or an error it wraps, is marked permanent.
func IsPermanent(err error) bool {
	return findError(err, func(e *Error) bool { return e.Permanent }) != nil
}

// RetryAfterOf returns the Retry-After carried by err, if any.
func RetryAfterOf(err error) (time.Duration, bool) {
	if e := findError(err, func(e *Error) bool { return e.RetryAfter > 0 }); e != nil {
		return e.RetryAfter, true
	}
	return 0, false
}

// findError returns the first *Error in err's tree, walked depth first as
// errors.As walks it, for which match holds. Unlike errors.As it does not
// stop at the first *Error: RetryAfter(Permanent(err), d) is both.
func findError(err error, match func(*Error) bool) *Error {
	for err != nil {
		if e, ok := err.(*Error); ok && match(e) {
			return e
		}
		if x, ok := err.(interface{ As(any) bool }); ok {
			var e *Error
			if x.As(&e) && e != nil && match(e) {
				return e
			}
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				if e := findError(inner, match); e != nil {
					return e
				}
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

// SleepError asks the engine to park the step (and, when nothing else in
// the run is busy, the whole run) until Until, then run the step again. It
// is how a delay waits without holding a goroutine.
type SleepError struct {
	Until time.Time
	// Reason, when set, says why the step waits; the engine shows it as the
	// run's wait reason while the run is parked on it (see Park).
	Reason string
	// Err, when set, is the cause of the wait (errors.Is sees it).
	Err error
}

func (e *SleepError) Error() string {
	if e.Reason != "" {
		return e.Reason
	}
	return "sleeping until " + e.Until.UTC().Format(time.RFC3339Nano)
}

// Unwrap returns the cause of the wait, if any.
func (e *SleepError) Unwrap() error { return e.Err }

// Park asks the engine to park the step until until and run it again
// then, like Sleep, because of err (a throttle: ErrThrottled of a step
// family), and to show reason as the run's wait reason meanwhile. Unlike
// RetryAfter it is not a failed attempt: the attempt does not count
// against the step's retry policy.
func Park(err error, until time.Time, reason string) error {
	return &SleepError{Until: until, Reason: reason, Err: err}
}

// Sleep returns a SleepError for until.
func Sleep(until time.Time) error { return &SleepError{Until: until} }

// AsSleep returns the SleepError in err's chain.
func AsSleep(err error) (*SleepError, bool) {
	var e *SleepError
	ok := errors.As(err, &e)
	return e, ok
}
