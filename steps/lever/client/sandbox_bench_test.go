package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
	"golang.org/x/time/rate"
)

// startSandbox serves a seeded sandbox on 127.0.0.1 and returns it with
// its API root; wrap, when set, sees every request before the sandbox does.
func startSandbox(tb testing.TB, o sandbox.Options, wrap func(*http.Request)) (*sandbox.Sandbox, string) {
	tb.Helper()
	if o.Seed == 0 {
		o.Seed = 42
	}
	sb := sandbox.New(o)
	h := http.Handler(sb)
	if wrap != nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { wrap(r); sb.ServeHTTP(w, r) })
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(func() { srv.Close(); sb.Close() })
	return sb, srv.URL + "/v1"
}

// BenchmarkSandbox measures the client's round trip against the sandbox
// over real HTTP on 127.0.0.1, with both rate limiters off.
func BenchmarkSandbox(b *testing.B) {
	sb, root := startSandbox(b, sandbox.Options{DisableRateLimit: true}, nil)
	c, err := client.New(client.Config{BaseURL: root, APIKey: sb.APIKey(), RateLimit: rate.Inf})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	id := sb.Opportunities()[0].ID
	report := func(b *testing.B, n int) {
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "req/s")
	}
	b.Run("GetOpportunity", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			if _, err := c.GetOpportunity(ctx, id, client.GetOpportunityParams{}); err != nil {
				b.Fatal(err)
			}
			n++
		}
		report(b, n)
	})
	b.Run("OpportunitiesPage50", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			p, err := c.OpportunitiesPage(ctx, client.ListOpportunitiesParams{ListOptions: client.ListOptions{Limit: 50}})
			if err != nil || len(p.Data) != 50 {
				b.Fatalf("%v, %d items", err, len(p.Data))
			}
			n++
		}
		report(b, n)
	})
	b.Run("GetOpportunityParallel", func(b *testing.B) {
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.GetOpportunity(ctx, id, client.GetOpportunityParams{}); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		})
		report(b, int(n.Load()))
	})
}

// fakeClock drives the client's limiter and back-off: Sleep moves time
// forward at once.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
	return nil
}

func TestLimiterHoldsLeverRateAgainstSandbox(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{now: time.Unix(1_750_000_000, 0)}
	var mu sync.Mutex
	var arrivals []time.Duration // fake time at which the sandbox saw each request
	start := clk.Now()
	sb, root := startSandbox(t, sandbox.Options{DisableRateLimit: true}, func(*http.Request) {
		mu.Lock()
		arrivals = append(arrivals, clk.Now().Sub(start))
		mu.Unlock()
	})
	// Lever's documented limit, which is also the client's default.
	c, err := client.New(client.Config{BaseURL: root, APIKey: sb.APIKey(), RateLimit: 10, Burst: 20, Now: clk.Now, Sleep: clk.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	const n = 120
	for range n {
		if _, err := c.GetUser(context.Background(), sandbox.UserPriya); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrivals) != n {
		t.Fatalf("sandbox saw %d requests, want %d", len(arrivals), n)
	}
	// 20 at once, then one every 100 ms: the 120th leaves at 10 s.
	elapsed := clk.Now().Sub(start)
	if elapsed < 10*time.Second-100*time.Millisecond || elapsed > 10*time.Second+100*time.Millisecond {
		t.Errorf("120 requests took %v of fake time, want 10s ± one request", elapsed)
	}
	if !slices.IsSorted(arrivals) {
		t.Fatal("arrivals out of order")
	}
	const windowMax = 20 + 10 // the burst plus one second of refill
	for i, at := range arrivals {
		in := 0
		for _, other := range arrivals[i:] {
			if other < at+time.Second {
				in++
			}
		}
		if in > windowMax {
			t.Errorf("%d requests in the second from %v, want at most %d", in, at, windowMax)
		}
		if at >= 2*time.Second && in > 11 {
			t.Errorf("steady state: %d requests in the second from %v, want at most 11", in, at)
		}
	}
	if st := c.Stats(); st.RateLimitWaits != n-20 || st.Requests != n {
		t.Errorf("stats: %+v", st)
	}
}

func TestRetriesThrough429Storm(t *testing.T) {
	t.Parallel()
	// The sandbox's bucket runs on the real clock, so this test does too,
	// with a fast refill and short back-offs: 200 requests at 100/s take
	// about two seconds.
	sb, root := startSandbox(t, sandbox.Options{RateLimit: 100, Burst: 5}, nil)
	c, err := client.New(client.Config{BaseURL: root, APIKey: sb.APIKey(), RateLimit: rate.Inf,
		MaxRetries: 1000, RetryBase: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const workers, each = 20, 10
	var failures atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if u, err := c.GetUser(ctx, sandbox.UserPriya); err != nil || u.ID != sandbox.UserPriya {
					failures.Add(1)
					t.Errorf("request failed: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	st := c.Stats()
	if failures.Load() != 0 || st.ByStatus[200] != workers*each {
		t.Fatalf("%d failures, %d successes (stats %+v)", failures.Load(), st.ByStatus[200], st)
	}
	if st.Retries == 0 || st.ByStatus[429] == 0 || st.Requests != st.ByStatus[200]+st.ByStatus[429] || st.Retries != st.ByStatus[429] {
		t.Errorf("a storm should retry every 429: %+v", st)
	}
	t.Logf("%d requests, %d answered 429, %d retries", st.Requests, st.ByStatus[429], st.Retries)
}
