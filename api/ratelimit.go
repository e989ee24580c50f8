package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// Defaults of the per-token request limit.
const (
	DefaultRateLimit = 100 // requests per second, per token
	DefaultRateBurst = 200 // requests at once, per token
)

// tokenLimits holds one token bucket per authenticated token, so that one
// busy program cannot starve the others (or the editor) of the server.
type tokenLimits struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newTokenLimits(perSecond float64, burst int, now func() time.Time) *tokenLimits {
	if perSecond == 0 {
		perSecond = DefaultRateLimit
	}
	if burst <= 0 {
		burst = DefaultRateBurst
	}
	if perSecond < 0 {
		return nil
	}
	return &tokenLimits{limit: rate.Limit(perSecond), burst: burst, now: now, buckets: map[string]*rate.Limiter{}}
}

// allow takes one request from the token's bucket; when it is empty it
// returns how long until the next request would be allowed.
func (l *tokenLimits) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[key] = b
	}
	l.mu.Unlock()
	now := l.now()
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// rateLimit answers 429 with Retry-After when the request's token has used
// its bucket; it runs after authenticate.
func (s *Server) rateLimit(c *gin.Context) {
	if s.limits == nil {
		c.Next()
		return
	}
	p, _ := c.Get(principalKey)
	principal, _ := p.(Principal)
	key := principal.TokenID
	if key == "" {
		key = "name:" + principal.Name
	}
	if ok, wait := s.limits.allow(key); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		c.Header("Retry-After", strconv.Itoa(secs))
		fail(c, newError(http.StatusTooManyRequests, CodeRateLimited,
			"this token made more than %d requests in a burst (%g per second on average); retry after %d s, or spread the requests out", s.limits.burst, float64(s.limits.limit), secs))
		return
	}
	c.Next()
}
