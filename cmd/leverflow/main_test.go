package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test re-execute this binary as the leverflow command:
// with LEVERFLOW_CLI_CHILD=1 it runs the CLI on its arguments, as main
// does (SIGINT and SIGTERM included), and exits.
func TestMain(m *testing.M) {
	if os.Getenv("LEVERFLOW_CLI_CHILD") == "1" {
		os.Exit(mainExit())
	}
	os.Exit(m.Run())
}

// child returns the leverflow command as a separate process.
func child(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LEVERFLOW_CLI_CHILD=1")
	return cmd
}

func cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	code = exitCode(err, &errOut)
	return out.String(), errOut.String(), code
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := write(t, dir, "good.json", `{"name": "ok", "trigger": {"type": "api"}, "steps": [{"id": "a", "type": "transform", "input": {"value": 1}}]}`)
	bad := write(t, dir, "bad.json", `{"name": "bad", "trigger": {"type": "api"}, "steps": [{"id": "a", "type": "transfrom"}, {"id": "a", "type": "transform", "input": {"value": 1}}]}`)
	broken := write(t, dir, "broken.json", "{\"name\": \"x\",\n  \"steps\": [}")

	out, _, code := cli(t, "validate", good)
	if code != 0 || !strings.Contains(out, "good.json: ok") {
		t.Errorf("valid file: code %d, out %q", code, out)
	}
	out, _, code = cli(t, "validate", good, bad, broken)
	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	for _, want := range []string{
		bad + `: steps[0].type: unknown step type "transfrom"`,
		bad + `: steps[1].id: duplicate`,
		broken + `: line 2, column`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRunJSON(t *testing.T) {
	t.Parallel()
	out, errOut, code := cli(t, "run", "../../examples/score-candidates.json", "--trigger", "../../examples/score-candidates.trigger.json", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	var v struct {
		RunID  string `json:"run_id"`
		Status string `json:"status"`
		Steps  map[string]struct {
			Status   string                       `json:"status"`
			Output   json.RawMessage              `json:"output"`
			Attempts int                          `json:"attempts"`
			Items    []map[string]json.RawMessage `json:"items"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if v.RunID == "" || v.Status != "succeeded" {
		t.Errorf("run_id %q status %q", v.RunID, v.Status)
	}
	if got := string(v.Steps["best"].Output); got != "80" {
		t.Errorf("best = %s, want 80", got)
	}
	if v.Steps["nobody"].Status != "skipped" || v.Steps["shortlist"].Attempts != 1 {
		t.Errorf("steps = %+v", v.Steps)
	}
	if len(v.Steps["score"].Items) != 3 || v.Steps["score"].Items[1]["points"] == nil {
		t.Errorf("fanout items = %v", v.Steps["score"].Items)
	}
}

func TestRunTextAndFailureExitCode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wf := write(t, dir, "fails.json", `{"name": "fails", "trigger": {"type": "api"}, "steps": [
  {"id": "ok", "type": "transform", "input": {"value": "fine"}},
  {"id": "check", "type": "condition", "input": {"if": "<<trigger.flag>>"}}],
  "edges": [{"from": "ok", "to": "check"}]}`)
	trig := write(t, dir, "t.json", `{"flag": "yes"}`)
	out, _, code := cli(t, "run", wf, "--trigger", trig)
	if code != 1 {
		t.Errorf("exit code = %d, want 1 for a failed run", code)
	}
	for _, want := range []string{"failed", "ok", "succeeded", "check", "must be a boolean"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestWorkflowTests(t *testing.T) {
	t.Parallel()
	out, errOut, code := cli(t, "test", "../../examples/score-candidates.test.json")
	if code != 0 || !strings.Contains(out, "3 passed, 0 failed") {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	dir := t.TempDir()
	write(t, dir, "wf.json", `{"name": "wf", "trigger": {"type": "api"}, "steps": [{"id": "a", "type": "transform", "input": {"value": "<<trigger.x>>"}}]}`)
	tf := write(t, dir, "wf.test.json", `{"workflow": "wf.json", "cases": [
  {"name": "passes", "trigger": {"x": 1}, "assert": ["steps.a.output == 1"]},
  {"name": "wrong value", "trigger": {"x": 2}, "assert": ["steps.a.output == 1"]},
  {"name": "bad field", "trigger": {"x": 2}, "assert": ["steps.a.outptu == 2"]},
  {"name": "unknown fixed step", "outputs": {"zzz": 1}, "assert": ["true"]},
  {"name": "two wrong", "trigger": {"x": 3}, "assert": ["steps.a.output == 1", "steps.a.output == 2", "run.status == 'succeeded'"]},
  {"name": "broken assert", "assert": ["1 +", "steps.a.output =="]}]}`)
	out, _, code = cli(t, "test", tf)
	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	for _, want := range []string{
		"1 passed, 5 failed",
		`two wrong: assert "steps.a.output == 1" is false`,
		`two wrong: assert "steps.a.output == 2" is false`,
		`broken assert: assert[0] "1 +" does not compile`,
		`broken assert: assert[1] "steps.a.output ==" does not compile`,
		`wrong value: assert "steps.a.output == 1" is false`,
		`did you mean "output"?`,
		`outputs.zzz: the workflow has no step "zzz"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// countingServer counts requests by path. The first request to blockPath
// signals inFlight and then hangs until the client goes away.
type countingServer struct {
	mu        sync.Mutex
	counts    map[string]int
	blockPath string
	inFlight  chan struct{}
}

func (s *countingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counts[r.URL.Path]++
	n := s.counts[r.URL.Path]
	s.mu.Unlock()
	io.Copy(io.Discard, r.Body) // so the server notices when the client goes away
	if r.URL.Path == s.blockPath && n == 1 {
		close(s.inFlight)
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"path": "` + r.URL.Path + `", "call": ` + string(rune('0'+n)) + `}`))
}

func (s *countingServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[path]
}

// TestCrashResume kills a process running a workflow with SIGKILL while a
// step is in flight; a new process on the same SQLite file takes the run up
// once the lease expires: finished steps are not run again, the in-flight
// step is retried, and the run succeeds.
func TestCrashResume(t *testing.T) {
	t.Parallel()
	srv := &countingServer{counts: map[string]int{}, blockPath: "/two", inFlight: make(chan struct{})}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	wf := write(t, dir, "crash.json", `{"name": "crash", "trigger": {"type": "api"}, "steps": [
  {"id": "one", "type": "http.request", "input": {"method": "POST", "url": "`+ts.URL+`/one", "body": {"n": "<<trigger.n>>"}}},
  {"id": "two", "type": "http.request", "input": {"method": "POST", "url": "`+ts.URL+`/two", "body": "<<steps.one.body>>"}, "retry": {"max_attempts": 3, "initial": "10ms"}},
  {"id": "three", "type": "http.request", "input": {"url": "`+ts.URL+`/three", "query": {"from": "<<steps.two.body.path>>"}}}],
  "edges": [{"from": "one", "to": "two"}, {"from": "two", "to": "three"}]}`)
	trig := write(t, dir, "trigger.json", `{"n": 7}`)
	db := filepath.Join(dir, "runs.db")

	first := child(t, "run", wf, "--trigger", trig, "--db", db, "--lease", "1s")
	var firstOut bytes.Buffer
	first.Stdout, first.Stderr = &firstOut, &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.inFlight:
	case <-time.After(30 * time.Second):
		first.Process.Kill()
		t.Fatalf("step two never started:\n%s", firstOut.String())
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := first.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("first process did not die by SIGKILL: %v\n%s", err, firstOut.String())
	}

	second := child(t, "run", "--resume", "--db", db, "--lease", "1s", "--json")
	second.WaitDelay = time.Second
	timer := time.AfterFunc(60*time.Second, func() { second.Process.Kill() })
	defer timer.Stop()
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	var v struct {
		Status string `json:"status"`
		Steps  map[string]struct {
			Status   string `json:"status"`
			Attempts int    `json:"attempts"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("resume output is not one JSON run: %v\n%s", err, out)
	}
	if v.Status != "succeeded" {
		t.Errorf("resumed run status = %s\n%s", v.Status, out)
	}
	if srv.count("/one") != 1 || srv.count("/two") != 2 || srv.count("/three") != 1 {
		t.Errorf("calls one/two/three = %d/%d/%d, want 1/2/1", srv.count("/one"), srv.count("/two"), srv.count("/three"))
	}
	if v.Steps["one"].Attempts != 1 || v.Steps["two"].Attempts != 2 || v.Steps["three"].Attempts != 1 {
		t.Errorf("attempts = %+v, want one 1, two 2, three 1", v.Steps)
	}
}

func TestCLIEdges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wf := write(t, dir, "wf.json", `{"name": "wf", "trigger": {"type": "api"}, "steps": [{"id": "a", "type": "transform", "input": {"value": "<<trigger>>"}}]}`)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"help exits 0", []string{"run", "-h"}, 0, ""},
		{"unknown flag exits 2", []string{"run", "--nope", wf}, 2, ""},
		{"trigger must be an object", []string{"run", wf, "--trigger", write(t, dir, "list.json", `[1, 2]`)}, 2, "trigger data must be a JSON object"},
		{"malformed trigger has a position", []string{"run", wf, "--trigger", write(t, dir, "bad.json", "{\n  \"a\": }")}, 2, "line 2, column"},
		{"a test file is not a workflow", []string{"validate", write(t, dir, "x.test.json", `{"workflow": "wf.json", "cases": []}`)}, 1, "this is a workflow test"},
		{"too short a lease", []string{"run", wf, "--lease", "1ns"}, 2, "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := cli(t, tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.contains) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s%s", code, tt.code, tt.contains, out, errOut)
			}
		})
	}
}

func TestRunJSONHasInputAndTiming(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wf := write(t, dir, "wf.json", `{"name": "wf", "trigger": {"type": "api"}, "steps": [{"id": "a", "type": "transform", "input": {"value": "<<'<<'>> and <<trigger.x>>"}}]}`)
	out, errOut, code := cli(t, "run", wf, "--trigger", write(t, dir, "t.json", `{"x": 5}`), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	var v struct {
		Steps map[string]struct {
			Input      map[string]any `json:"input"`
			StartedAt  *time.Time     `json:"started_at"`
			DurationMS *float64       `json:"duration_ms"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	a := v.Steps["a"]
	if a.Input["value"] != "<< and 5" || a.StartedAt == nil || a.DurationMS == nil {
		t.Errorf("step a = %+v", a)
	}
	if strings.Contains(out, `\u003c`) {
		t.Errorf("<< is escaped in the JSON output:\n%s", out)
	}
}

// TestSandboxCommand serves the sandbox as `leverflow sandbox` would and
// reads a page of opportunities with the key it printed.
func TestSandboxCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sandbox", "--addr", "127.0.0.1:0", "--api-key", "test-key"}, pw, io.Discard)
		pw.Close()
	}()
	buf := make([]byte, 4096)
	n, err := pr.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	out := string(buf[:n])
	i := strings.Index(out, "http://")
	if i < 0 {
		t.Fatalf("no API root printed: %q", out)
	}
	root := strings.Fields(out[i:])[0]
	req, _ := http.NewRequest("GET", root+"/opportunities?limit=2", nil)
	req.SetBasicAuth("test-key", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Data    []map[string]any `json:"data"`
		HasNext bool             `json:"hasNext"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(page.Data) != 2 || !page.HasNext {
		t.Errorf("status %d, %d opportunities, hasNext %v", resp.StatusCode, len(page.Data), page.HasNext)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("sandbox command: %v", err)
	}
}
