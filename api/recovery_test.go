package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCancelStopsAnHTTPStepWithinASecond runs an http.request step against
// a server that answers after 30s (or when the request's context ends),
// cancels the run through the API, and measures how long the server's
// request and the run take to stop.
func TestCancelStopsAnHTTPStepWithinASecond(t *testing.T) {
	t.Parallel()
	started, ended := make(chan struct{}, 1), make(chan time.Time, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-time.After(30 * time.Second):
		case <-r.Context().Done():
			ended <- time.Now()
		}
	}))
	t.Cleanup(slow.Close)
	f := setup(t)
	f.saveWorkflow("slow", `{"name": "Slow call", "trigger": {"type": "api"}, "steps": [
  {"id": "call", "type": "http.request", "input": {"url": "`+slow.URL+`", "timeout": "60s"}}]}`)
	id := f.must(http.StatusAccepted, request{Method: "POST", Path: "/api/v1/workflows/slow/runs"}).json(t)["id"].(string)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the http.request step never reached the server")
	}
	begin := time.Now()
	f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/runs/" + id + "/cancel"})
	var stopped time.Duration
	select {
	case at := <-ended:
		stopped = at.Sub(begin)
	case <-time.After(5 * time.Second):
		t.Fatal("the server's request context did not end within 5s of the cancel")
	}
	var run map[string]any
	f.eventually("the run to be cancelled", func() bool {
		run = f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/runs/" + id}).json(t)
		return run["status"] != "running"
	})
	finished := time.Since(begin)
	if run["status"] != "cancelled" {
		t.Fatalf("run: %v", run)
	}
	if st := run["steps"].(map[string]any)["call"].(map[string]any)["status"]; st != "failed" {
		t.Errorf("the cancelled step is %v, want failed", st)
	}
	t.Logf("cancel through the API: request stopped after %v, run cancelled after %v", stopped, finished)
	if stopped > time.Second || finished > time.Second {
		t.Errorf("cancel took %v (request) / %v (run), want both under a second", stopped, finished)
	}
}

// flakyServer counts calls by path; /second answers 400 while broken.
type flakyServer struct {
	*httptest.Server
	broken atomic.Bool
	mu     sync.Mutex
	calls  map[string]int
}

func newFlakyServer(t *testing.T) *flakyServer {
	fs := &flakyServer{calls: map[string]int{}}
	fs.broken.Store(true)
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		fs.calls[r.URL.Path]++
		fs.mu.Unlock()
		if r.URL.Path == "/second" && fs.broken.Load() {
			http.Error(w, `{"error": "broken"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok": true}`)
	}))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *flakyServer) count(path string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.calls[path]
}

// twoCalls is first -> second, http.request steps to fs; tag changes the
// first step's input (a new version changes that step).
func (fs *flakyServer) twoCalls(tag string) string {
	return `{"name": "Two calls", "trigger": {"type": "api"}, "steps": [
  {"id": "first", "type": "http.request", "input": {"url": "` + fs.URL + `/first", "query": {"tag": "` + tag + `"}}},
  {"id": "second", "type": "http.request", "input": {"url": "` + fs.URL + `/second"}, "retry": {"max_attempts": 1}}],
  "edges": [{"from": "first", "to": "second"}]}`
}

// failedRun starts a run of workflow id and waits for it to fail.
func (f *fixture) failedRun(id string) string {
	f.t.Helper()
	run := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/" + id + "/runs?wait=30s"}).json(f.t)
	if run["status"] != "failed" {
		f.t.Fatalf("run: %v", run)
	}
	return run["id"].(string)
}

// finished waits for the run to finish and returns it.
func (f *fixture) finished(id string) map[string]any {
	f.t.Helper()
	var run map[string]any
	f.eventually("run "+id+" to finish", func() bool {
		run = f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/runs/" + id}).json(f.t)
		return run["status"] == "succeeded" || run["status"] == "failed" || run["status"] == "cancelled"
	})
	return run
}

func TestRetryRunOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body any
		// v2, when set, is the first step's tag in a version 2 saved
		// before the retry.
		v2          string
		wantVersion float64
		wantFirst   int // calls of the first step over both tries
	}{
		{name: "no body: from the failed step, original version", wantVersion: 1, wantFirst: 1},
		{name: "from start", body: map[string]string{"from": "start"}, wantVersion: 1, wantFirst: 2},
		{name: "latest, first step unchanged", body: map[string]string{"version": "latest"}, v2: "v1", wantVersion: 2, wantFirst: 1},
		{name: "latest, first step changed", body: map[string]string{"from": "failed", "version": "latest"}, v2: "v2", wantVersion: 2, wantFirst: 2},
		{name: "original despite a new version", body: map[string]string{"version": "original"}, v2: "v2", wantVersion: 1, wantFirst: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := newFlakyServer(t)
			f := setup(t)
			f.saveWorkflow("two", fs.twoCalls("v1"))
			id := f.failedRun("two")
			if tt.v2 != "" {
				f.must(http.StatusOK, request{Method: "PUT", Path: "/api/v1/workflows/two", Body: fs.twoCalls(tt.v2)})
			}
			fs.broken.Store(false)
			got := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/runs/" + id + "/retry", Body: tt.body}).json(t)
			if got["id"] != id || got["version"] != tt.wantVersion {
				t.Errorf("retry answered %v, want run %s on version %v", got, id, tt.wantVersion)
			}
			run := f.finished(id)
			if run["status"] != "succeeded" || run["version"] != tt.wantVersion {
				t.Errorf("retried run is %v on version %v, want succeeded on %v", run["status"], run["version"], tt.wantVersion)
			}
			if n := fs.count("/first"); n != tt.wantFirst {
				t.Errorf("the first step was called %d times, want %d", n, tt.wantFirst)
			}
		})
	}
}

func TestRetryRunErrors(t *testing.T) {
	t.Parallel()
	fs := newFlakyServer(t)
	f := setup(t)
	f.saveWorkflow("two", fs.twoCalls("v1"))
	id := f.failedRun("two")
	for _, tc := range []struct {
		body       string
		wantStatus int
		wantInMsg  string
	}{
		{`{"from": "middle"}`, http.StatusBadRequest, `"failed" (the default) or "start"`},
		{`{"version": "newest"}`, http.StatusBadRequest, `"original" (the default) or "latest"`},
		{`{"from": "start", "bogus": 1}`, http.StatusBadRequest, `unknown field "bogus"`},
		{`{"from": `, http.StatusBadRequest, "malformed JSON"},
	} {
		r := f.must(tc.wantStatus, request{Method: "POST", Path: "/api/v1/runs/" + id + "/retry", Body: tc.body})
		if code, msg := r.errorCode(t); code != "bad_request" || !strings.Contains(msg, tc.wantInMsg) {
			t.Errorf("retry with %s: %s %q, want bad_request naming %s", tc.body, code, msg, tc.wantInMsg)
		}
	}
	f.must(http.StatusNotFound, request{Method: "POST", Path: "/api/v1/runs/no-such-run/retry"})
	fs.broken.Store(false)
	f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/runs/" + id + "/retry", Body: `{}`})
	if run := f.finished(id); run["status"] != "succeeded" {
		t.Fatalf("retried run: %v", run)
	}
	r := f.must(http.StatusConflict, request{Method: "POST", Path: "/api/v1/runs/" + id + "/retry", Body: `{"from": "start"}`})
	if code, msg := r.errorCode(t); code != "conflict" || !strings.Contains(msg, "is succeeded and cannot be retried") {
		t.Errorf("retrying a succeeded run: %s %q", code, msg)
	}
}

func TestBulkRetry(t *testing.T) {
	t.Parallel()
	fs := newFlakyServer(t)
	f := setup(t)
	f.saveWorkflow("two", fs.twoCalls("v1"))
	f.saveWorkflow("other", fs.twoCalls("other"))
	begin := time.Now().UTC().Add(-time.Second)
	var ids []string
	for range 3 {
		ids = append(ids, f.failedRun("two"))
	}
	otherID := f.failedRun("other")
	fs.broken.Store(false)

	for _, tc := range []struct {
		body      string
		status    int
		wantInMsg string
	}{
		{`{"status": "succeeded"}`, http.StatusBadRequest, `"failed" (the default) or "cancelled"`},
		{`{"since": "yesterday"}`, http.StatusBadRequest, "RFC 3339"},
		{`{"max": 0}`, http.StatusBadRequest, "from 1 to 1000"},
		{`{"max": 1001}`, http.StatusBadRequest, "from 1 to 1000"},
		{`{"from": "middle"}`, http.StatusBadRequest, `"failed" (the default) or "start"`},
		{`{"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"}`, http.StatusBadRequest, "time range is empty"},
	} {
		r := f.must(tc.status, request{Method: "POST", Path: "/api/v1/runs/retry", Body: tc.body})
		if _, msg := r.errorCode(t); !strings.Contains(msg, tc.wantInMsg) {
			t.Errorf("bulk retry with %s: %q, want it to name %s", tc.body, msg, tc.wantInMsg)
		}
	}
	f.must(http.StatusForbidden, request{Method: "POST", Path: "/api/v1/runs/retry", Token: readerToken, Body: `{}`})

	// A window that holds none of the runs retries nothing.
	got := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/runs/retry",
		Body: map[string]any{"workflow_id": "two", "until": begin.Format(time.RFC3339Nano)}}).json(t)
	if got["count"] != 0.0 || len(got["retried"].([]any)) != 0 {
		t.Errorf("retry of an empty window: %v", got)
	}
	got = f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/runs/retry",
		Body: map[string]any{"workflow_id": "two", "status": "failed", "since": begin.Format(time.RFC3339Nano), "from": "start", "max": 2}}).json(t)
	if got["count"] != 2.0 || fmt.Sprint(got["retried"]) != fmt.Sprint([]string{ids[2], ids[1]}) {
		t.Errorf("bulk retry answered %v, want the two newest runs of two: [%s %s]", got, ids[2], ids[1])
	}
	for _, id := range ids[1:] {
		if run := f.finished(id); run["status"] != "succeeded" {
			t.Errorf("run %s after the bulk retry: %v", id, run["status"])
		}
	}
	got = f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/runs/retry", Body: map[string]any{"workflow_id": "two"}}).json(t)
	if got["count"] != 1.0 || fmt.Sprint(got["retried"]) != fmt.Sprint([]string{ids[0]}) {
		t.Errorf("second bulk retry answered %v, want [%s]", got, ids[0])
	}
	f.finished(ids[0])
	if run := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/runs/" + otherID}).json(t); run["status"] != "failed" {
		t.Errorf("the other workflow's run is %v: the filter did not hold", run["status"])
	}
}
