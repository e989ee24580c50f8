package lever

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/lever/client"
)

// ErrThrottled is the cause of a Lever step parked on its connection's
// rate limit (errors.Is sees it through the steps.SleepError).
var ErrThrottled = errors.New("throttled by Lever's rate limit")

// DefaultMaxThrottleWait is how long a Lever step waits for its
// connection's rate limit before it parks its run instead.
const DefaultMaxThrottleWait = 2 * time.Second

// Options configure the Lever steps.
type Options struct {
	// MaxThrottleWait is the longest a step waits for a token of its
	// connection's rate limiter (shared by every client of the credential,
	// see client.Config.Limiter) while holding a worker; a longer wait
	// parks the run until the token is due, with a wait reason, without
	// counting as a failed attempt. Default DefaultMaxThrottleWait;
	// negative never parks.
	MaxThrottleWait time.Duration
}

// RegisterWithOptions is Register with options.
func RegisterWithOptions(reg *steps.Registry, clients Clients, opts Options) error {
	if opts.MaxThrottleWait == 0 {
		opts.MaxThrottleWait = DefaultMaxThrottleWait
	}
	return register(reg, &family{clients: clients, maxWait: opts.MaxThrottleWait})
}

// clientKey carries the client the throttle got for a step, so that the
// step does not ask Clients a second time.
type clientKey struct{}

// throttled wraps a Lever step's Run: before the step calls Lever it
// reserves its first call's token from the connection's limiter. When the
// token is due within MaxThrottleWait the step runs (its first call takes
// the reserved token); otherwise the reservation is cancelled (the token
// stays for others) and the step parks with steps.Park until the token is
// due, then runs again.
func (f *family) throttled(run steps.Handler) steps.Handler {
	if run == nil || f.maxWait < 0 {
		return run
	}
	return func(ctx context.Context, req *steps.Request) (any, error) {
		if f.clients == nil {
			return run(ctx, req)
		}
		c, err := f.client(ctx, req)
		if err != nil {
			return nil, err
		}
		ctx = context.WithValue(ctx, clientKey{}, c)
		ctx, wait, cancel := c.ReserveCall(ctx)
		defer cancel()
		if wait > f.maxWait {
			cancel()
			until := time.Now().Add(wait).UTC()
			reason := fmt.Sprintf("throttled: Lever's rate limit on connection %s, resuming at %s", req.Connection, until.Format(time.RFC3339))
			return nil, steps.Park(fmt.Errorf("connection %q: %w (the next request is due in %s)", req.Connection, ErrThrottled, wait.Round(time.Millisecond)), until, reason)
		}
		return run(ctx, req)
	}
}

// clientOf returns the client the throttle put in ctx, if any.
func clientOf(ctx context.Context) *client.Client {
	c, _ := ctx.Value(clientKey{}).(*client.Client)
	return c
}
