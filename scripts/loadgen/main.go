// Command loadgen loads one HTTP endpoint on 127.0.0.1 at a fixed
// concurrency for a fixed time and prints requests per second and latency
// percentiles: the side-by-side figures of scripts/bench-server.sh. It
// refuses any host but loopback.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	target := flag.String("url", "", "the URL to POST to (127.0.0.1 only)")
	body := flag.String("body", "{}", "the JSON body")
	conc := flag.Int("c", 10, "concurrent requests")
	dur := flag.Duration("d", 10*time.Second, "how long to load")
	want := flag.Int("status", 200, "the status a request must get to count as done")
	var hs headers
	flag.Var(&hs, "H", "a header, \"Name: value\" (repeatable)")
	flag.Parse()
	if err := run(*target, *body, *conc, *dur, *want, hs); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(target, body string, conc int, dur time.Duration, want int, hs headers) error {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" {
		return fmt.Errorf("-url %q: need an http:// URL", target)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-url %q: loads only 127.0.0.1", target)
	}
	if conc < 1 || dur <= 0 || dur > 10*time.Minute {
		return fmt.Errorf("-c must be at least 1 and -d between 0 and 10m")
	}
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var (
		mu       sync.Mutex
		lat      []time.Duration
		failures = map[string]int{}
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader([]byte(body)))
				req.Header.Set("Content-Type", "application/json")
				for _, h := range hs {
					k, v, _ := strings.Cut(h, ":")
					req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
				}
				t0 := time.Now()
				resp, err := hc.Do(req)
				d := time.Since(t0)
				mu.Lock()
				switch {
				case err != nil:
					failures["error: "+err.Error()]++
				case resp.StatusCode != want:
					failures[resp.Status]++
				default:
					lat = append(lat, d)
				}
				mu.Unlock()
				if resp != nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Printf("c=%d: %.1f req/s (%d in %s), p50 %s, p99 %s", conc, float64(len(lat))/elapsed.Seconds(), len(lat),
		elapsed.Round(time.Millisecond), pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond))
	for k, n := range failures {
		fmt.Printf(", %d x %s", n, k)
	}
	fmt.Println()
	return nil
}
