package client

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter returns the token bucket the client takes a token from before
// every attempt: Config.Limiter when set (shared by every client of one
// credential), else the client's own.
func (c *Client) Limiter() *rate.Limiter { return c.limiter }

// ReserveCall reserves, now, the token the next call made with the
// returned context takes for its first attempt, and returns how long that
// attempt would wait for it. Callers that would rather not wait that long
// (a workflow step that parks its run instead of holding a worker) call
// cancel to give the token back, and skip the call; otherwise they make
// the call with ctx and call cancel afterwards, which gives the token back
// only if no call used it. A call made with ctx on a client of another
// bucket ignores the reservation. Later attempts (retries) and later calls
// take tokens as usual.
func (c *Client) ReserveCall(ctx context.Context) (_ context.Context, wait time.Duration, cancel func()) {
	now := c.now()
	r := c.limiter.ReserveN(now, 1)
	if !r.OK() {
		// A burst of 0: let the call report it.
		return ctx, 0, func() {}
	}
	pr := &reservedToken{lim: c.limiter, r: r, now: c.now}
	return context.WithValue(ctx, reservedKey{}, pr), r.DelayFrom(now), pr.cancel
}

type reservedKey struct{}

// reservedToken is a token reserved by ReserveCall, used or given back
// once.
type reservedToken struct {
	lim  *rate.Limiter
	r    *rate.Reservation
	now  func() time.Time
	mu   sync.Mutex
	done bool
}

// take returns the reservation for a call on lim, once.
func (p *reservedToken) take(lim *rate.Limiter) *rate.Reservation {
	if p.lim != lim {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return nil
	}
	p.done = true
	return p.r
}

// cancel gives the token back unless a call took it.
func (p *reservedToken) cancel() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	p.r.CancelAt(p.now())
}

// reservation returns the token ReserveCall reserved for this call, or
// reserves one.
func (c *Client) reservation(ctx context.Context, now time.Time) *rate.Reservation {
	if p, ok := ctx.Value(reservedKey{}).(*reservedToken); ok {
		if r := p.take(c.limiter); r != nil {
			return r
		}
	}
	return c.limiter.ReserveN(now, 1)
}
