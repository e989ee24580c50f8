package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// testAdminToken is the LEVERFLOW_ADMIN_TOKEN of the server tests.
const testAdminToken = "lf-test-admin-4f1c9e7a2b8d6035"

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serverProc is `leverflow serve` running as a child process.
type serverProc struct {
	t          *testing.T
	cmd        *exec.Cmd
	url        string
	sandboxKey string
	adminToken string // printed on first start, when LEVERFLOW_ADMIN_TOKEN is unset
	banner     string
	stderr     *lockedBuffer
	done       chan struct{}
	err        error // the child's exit, once done is closed
}

// childEnv is this process's environment without LEVERFLOW_* variables,
// plus the child marker and extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LEVERFLOW_") {
			env = append(env, kv)
		}
	}
	return append(append(env, "LEVERFLOW_CLI_CHILD=1"), extra...)
}

// startServer starts `leverflow serve` with args and env and waits until it
// has printed its banner (at most a minute). The process is killed at the
// end of the test if it still runs.
func startServer(t *testing.T, env []string, args ...string) *serverProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Env = childEnv(env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serverProc{t: t, cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.running() {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	banner := make(chan string, 1)
	go func() {
		var seen strings.Builder
		sent := false
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if !sent && strings.HasPrefix(sc.Text(), bannerEnd) {
				sent = true
				banner <- seen.String()
			}
		}
		if !sent {
			banner <- seen.String()
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	select {
	case p.banner = <-banner:
	case <-time.After(time.Minute):
		t.Fatalf("serve printed no banner in a minute; stderr:\n%s", p.stderr.String())
	}
	for _, line := range strings.Split(p.banner, "\n") {
		switch {
		case strings.HasPrefix(line, "Leverflow listening on "):
			p.url = strings.TrimPrefix(line, "Leverflow listening on ")
		case strings.HasPrefix(line, "Lever sandbox: "):
			if i := strings.Index(line, "(API key "); i >= 0 {
				p.sandboxKey = strings.TrimSuffix(line[i+len("(API key "):], ")")
			}
		case strings.HasPrefix(line, "admin token: "):
			p.adminToken = strings.TrimPrefix(line, "admin token: ")
		}
	}
	if p.url == "" || p.sandboxKey == "" {
		t.Fatalf("serve's banner lacks the URL or the sandbox key:\n%s\nstderr:\n%s", p.banner, p.stderr.String())
	}
	return p
}

func (p *serverProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop sends sig and waits at most limit for the exit.
func (p *serverProc) stop(sig os.Signal, limit time.Duration) (time.Duration, error) {
	p.t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.done:
		return time.Since(start), p.err
	case <-time.After(limit):
		p.t.Fatalf("serve did not exit within %s of %v; stderr:\n%s", limit, sig, tail(p.stderr.String(), 3000))
		return 0, nil
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// call makes a request with the bearer token (none when empty) and a JSON
// body (none when nil; a []byte is sent as it is) and decodes a JSON answer
// into out (when not nil). It returns the status and the raw answer.
func call(t *testing.T, method, url, token string, body, out any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: answer is not the JSON expected: %v\n%s", method, url, err, data)
		}
	}
	return resp.StatusCode, data
}

// must is call that fails the test unless the status is want.
func must(t *testing.T, want int, method, url, token string, body, out any) []byte {
	t.Helper()
	status, data := call(t, method, url, token, body, out)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, status, want, data)
	}
	return data
}

// eventually polls cond every 100ms until it is true or limit passes.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type leverOpp struct {
	ID       string   `json:"id"`
	Headline string   `json:"headline"`
	Stage    string   `json:"stage"`
	Tags     []string `json:"tags"`
	Archived any      `json:"archived"`
}

type apiRun struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  string `json:"error"`
	Steps  map[string]struct {
		Status string `json:"status"`
	} `json:"steps"`
}

type apiEvent struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Status  string          `json:"status"`
	RunIDs  []string        `json:"run_ids"`
	Payload json.RawMessage `json:"payload"`
}

// createWorkflow creates and enables a workflow.
func createWorkflow(t *testing.T, base, id string, wf map[string]any) {
	t.Helper()
	must(t, http.StatusCreated, "POST", base+"/api/v1/workflows?id="+id, testAdminToken, wf, nil)
	must(t, http.StatusOK, "POST", base+"/api/v1/workflows/"+id+"/enable", testAdminToken, nil, nil)
}

// TestServeEndToEnd starts the server, makes a Lever stage change through
// the connection proxy and follows the webhook it sends to a run that tags
// the opportunity; a replayed delivery is a duplicate, a forged one is
// refused, and SIGTERM stops the server cleanly.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const grace = 10 * time.Second
	p := startServer(t, []string{"LEVERFLOW_ADMIN_TOKEN=" + testAdminToken},
		"--addr", "127.0.0.1:0", "--data-dir", dir, "--shutdown-grace", grace.String())
	if p.adminToken != "" || strings.Contains(p.banner, "admin token:") {
		t.Errorf("an admin token was printed although LEVERFLOW_ADMIN_TOKEN is set:\n%s", p.banner)
	}
	api := p.url + "/api/v1"
	proxy := api + "/connections/local/proxy"

	// An opportunity whose headline makes the condition true.
	var opps struct{ Data []leverOpp }
	must(t, 200, "GET", proxy+"/opportunities?limit=100", testAdminToken, nil, &opps)
	var opp leverOpp
	var word string
	for _, o := range opps.Data {
		if f := strings.Fields(o.Headline); len(f) > 0 && o.Archived == nil && strings.Trim(f[0], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
			opp, word = o, f[0]
			break
		}
	}
	if opp.ID == "" {
		t.Fatalf("no active opportunity with a one-word-start headline among %d", len(opps.Data))
	}
	const tag = "leverflow-e2e"
	createWorkflow(t, p.url, "e2e-tag", map[string]any{
		"name":    "Tag by headline",
		"trigger": map[string]any{"type": "lever.candidate_stage_changed", "connection": "local"},
		"steps": []any{
			map[string]any{"id": "opp", "type": "lever.get_opportunity", "connection": "local",
				"input": map[string]any{"opportunity_id": "<<trigger.opportunityId>>"}},
			map[string]any{"id": "match", "type": "condition", "input": map[string]any{"if": "<<'" + word + "' in steps.opp.headline>>"}},
			map[string]any{"id": "tag", "type": "lever.add_opportunity_tags", "connection": "local",
				"input": map[string]any{"opportunity_id": "<<steps.opp.id>>", "tags": []string{tag}}},
		},
		"edges": []any{
			map[string]any{"from": "opp", "to": "match"},
			map[string]any{"from": "match", "to": "tag", "branch": "true"},
		},
	})

	var stages, users struct {
		Data []struct {
			ID string `json:"id"`
		}
	}
	must(t, 200, "GET", proxy+"/stages", testAdminToken, nil, &stages)
	must(t, 200, "GET", proxy+"/users?limit=1", testAdminToken, nil, &users)
	if len(stages.Data) < 2 || len(users.Data) == 0 {
		t.Fatalf("%d stages, %d users", len(stages.Data), len(users.Data))
	}
	stage := stages.Data[0].ID
	if stage == opp.Stage {
		stage = stages.Data[1].ID
	}
	must(t, 200, "PUT", proxy+"/opportunities/"+opp.ID+"/stage?perform_as="+users.Data[0].ID, testAdminToken,
		map[string]string{"stage": stage}, nil)

	var run apiRun
	eventually(t, 30*time.Second, "the run of the stage change to succeed", func() bool {
		var page struct{ Runs []apiRun }
		must(t, 200, "GET", api+"/runs?workflow_id=e2e-tag", testAdminToken, nil, &page)
		if len(page.Runs) > 1 {
			t.Fatalf("%d runs for one stage change", len(page.Runs))
		}
		if len(page.Runs) == 1 && page.Runs[0].Status == "failed" {
			t.Fatalf("the run failed: %s", page.Runs[0].Error)
		}
		if len(page.Runs) == 1 && page.Runs[0].Status == "succeeded" {
			run = page.Runs[0]
			return true
		}
		return false
	})
	must(t, 200, "GET", api+"/runs/"+run.ID, testAdminToken, nil, &run)
	if run.Steps["tag"].Status != "succeeded" {
		t.Errorf("step tag is %q, want succeeded (the condition on %q took the false branch?)", run.Steps["tag"].Status, word)
	}
	var got struct{ Data leverOpp }
	must(t, 200, "GET", proxy+"/opportunities/"+opp.ID, testAdminToken, nil, &got)
	if !contains(got.Data.Tags, tag) {
		t.Errorf("opportunity tags %v lack %q", got.Data.Tags, tag)
	}

	// The event that started the run, delivered again: a duplicate.
	var events struct{ Events []apiEvent }
	must(t, 200, "GET", api+"/events?type=candidateStageChange", testAdminToken, nil, &events)
	var ev apiEvent
	for _, e := range events.Events {
		if contains(e.RunIDs, run.ID) {
			ev = e
		}
	}
	if ev.ID == "" {
		t.Fatalf("no inbox event lists run %s: %+v", run.ID, events.Events)
	}
	must(t, 200, "GET", api+"/events/"+ev.ID, testAdminToken, nil, &ev)
	var receipt struct {
		EventID   string `json:"event_id"`
		Duplicate bool   `json:"duplicate"`
	}
	must(t, 200, "POST", p.url+"/hooks/lever/local", "", []byte(ev.Payload), &receipt)
	if !receipt.Duplicate || receipt.EventID != ev.ID {
		t.Errorf("redelivery answered %+v, want a duplicate of %s", receipt, ev.ID)
	}

	// A forged signature on a new token: 401, and nothing stored.
	var body map[string]any
	if err := json.Unmarshal(ev.Payload, &body); err != nil {
		t.Fatal(err)
	}
	body["token"] = "forged" + fmt.Sprint(time.Now().UnixNano())
	body["signature"] = strings.Repeat("0", 64)
	if status, data := call(t, "POST", p.url+"/hooks/lever/local", "", body, nil); status != http.StatusUnauthorized {
		t.Errorf("forged delivery: status %d, want 401: %s", status, data)
	}
	var page struct{ Runs []apiRun }
	must(t, 200, "GET", api+"/runs?workflow_id=e2e-tag", testAdminToken, nil, &page)
	if len(page.Runs) != 1 {
		t.Errorf("%d runs after the duplicate and the forgery, want 1", len(page.Runs))
	}

	took, err := p.stop(syscall.SIGTERM, grace+5*time.Second)
	if err != nil {
		t.Errorf("serve exited with %v after SIGTERM; stderr:\n%s", err, tail(p.stderr.String(), 3000))
	}
	if took > grace {
		t.Errorf("serve took %s to stop, more than the %s grace", took, grace)
	}
	t.Logf("SIGTERM to exit: %s", took.Round(time.Millisecond))

	logs := p.stderr.String()
	for _, secret := range []string{testAdminToken, p.sandboxKey} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold a secret %q", secret)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("a log line is not JSON: %q", line)
			break
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestServeCrash kills the server with SIGKILL while hundreds of signed
// Lever webhooks arrive, restarts it on the same data directory and checks
// that every event the inbox acknowledged has exactly one run, and that
// every such run finished.
func TestServeCrash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"LEVERFLOW_ADMIN_TOKEN=" + testAdminToken}
	args := []string{"--addr", "127.0.0.1:0", "--data-dir", dir, "--sandbox-rate-limit=false", "--lease", "2s", "--examples=false"}
	p := startServer(t, env, args...)
	createWorkflow(t, p.url, "crash", map[string]any{
		"name":    "Echo the opportunity",
		"trigger": map[string]any{"type": "lever.candidate_stage_changed", "connection": "local"},
		"steps": []any{map[string]any{"id": "echo", "type": "transform",
			"input": map[string]any{"value": "<<trigger.opportunityId>>"}}},
	})

	// Straight to the sandbox's API, as Lever's own users would change it.
	lever := p.url + "/lever-sandbox/v1"
	leverCall := func(method, path string, body, out any) (int, error) {
		var rd io.Reader
		if body != nil {
			data, _ := json.Marshal(body)
			rd = bytes.NewReader(data)
		}
		req, err := http.NewRequest(method, lever+path, rd)
		if err != nil {
			return 0, err
		}
		req.SetBasicAuth(p.sandboxKey, "")
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if out != nil && resp.StatusCode == 200 {
			return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	var opps struct{ Data []leverOpp }
	var stages, users struct {
		Data []struct {
			ID string `json:"id"`
		}
	}
	for path, out := range map[string]any{"/opportunities?limit=100": &opps, "/stages": &stages, "/users?limit=1": &users} {
		if status, err := leverCall("GET", path, nil, out); status != 200 || err != nil {
			t.Fatalf("GET %s: %d %v", path, status, err)
		}
	}
	var active []leverOpp
	for _, o := range opps.Data {
		if o.Archived == nil {
			active = append(active, o)
		}
	}
	if len(active) == 0 || len(stages.Data) < 3 {
		t.Fatalf("%d active opportunities, %d stages", len(active), len(stages.Data))
	}

	// 300 stage changes at once. Each opportunity's k-th change moves it
	// to the k-th stage after its own, so every change is one in whatever
	// order they land (an opportunity gets fewer changes than there are
	// stages).
	const changes = 300
	if per := (changes + len(active) - 1) / len(active); per >= len(stages.Data) {
		t.Fatalf("%d changes per opportunity, only %d stages", per, len(stages.Data))
	}
	var made, accepted atomic.Int64
	var wg sync.WaitGroup
	for i := range changes {
		o, k := active[i%len(active)], 1+i/len(active)
		cur := 0
		for j, s := range stages.Data {
			if s.ID == o.Stage {
				cur = j
			}
		}
		stage := stages.Data[(cur+k)%len(stages.Data)].ID
		wg.Go(func() {
			status, err := leverCall("PUT", "/opportunities/"+o.ID+"/stage?perform_as="+users.Data[0].ID, map[string]string{"stage": stage}, nil)
			if err == nil && status == 200 {
				made.Add(1)
			}
		})
	}

	// Kill it while the deliveries arrive: once every change is made and
	// the first deliveries are in.
	wg.Wait()
	if made.Load() != changes {
		t.Fatalf("%d of %d stage changes made; stderr:\n%s", made.Load(), changes, tail(p.stderr.String(), 3000))
	}
	countAccepted := func() int64 { return int64(strings.Count(p.stderr.String(), `"msg":"Lever webhook accepted"`)) }
	for deadline := time.Now().Add(30 * time.Second); countAccepted() < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d deliveries acknowledged in 30s; stderr:\n%s", countAccepted(), tail(p.stderr.String(), 3000))
		}
	}
	if _, err := p.stop(syscall.SIGKILL, 10*time.Second); err == nil {
		t.Fatal("serve exited cleanly after SIGKILL")
	}
	accepted.Store(countAccepted())
	t.Logf("at the kill: %d stage changes made, %d deliveries acknowledged, %d in flight or not yet sent",
		made.Load(), accepted.Load(), made.Load()-accepted.Load())

	p2 := startServer(t, env, args...)
	api := p2.url + "/api/v1"
	unfinished := func() int {
		n := 0
		for _, st := range []string{"queued", "running", "waiting"} {
			var page struct{ Runs []apiRun }
			must(t, 200, "GET", api+"/runs?status="+st+"&limit=100", testAdminToken, nil, &page)
			n += len(page.Runs)
		}
		var pending struct{ Events []apiEvent }
		must(t, 200, "GET", api+"/events?status=pending&limit=100", testAdminToken, nil, &pending)
		return n + len(pending.Events)
	}
	t.Logf("after the restart: %d runs unfinished or events unrouted", unfinished())
	eventually(t, 60*time.Second, "every run to finish and every event to be routed", func() bool { return unfinished() == 0 })

	var events []apiEvent
	for after := ""; ; {
		var page struct {
			Events []apiEvent
			Next   *string
		}
		must(t, 200, "GET", api+"/events?limit=100"+after, testAdminToken, nil, &page)
		events = append(events, page.Events...)
		if page.Next == nil {
			break
		}
		after = "&after=" + *page.Next
	}
	runs := map[string]string{}
	for after := ""; ; {
		var page struct {
			Runs []apiRun
			Next *string
		}
		must(t, 200, "GET", api+"/runs?workflow_id=crash&limit=100"+after, testAdminToken, nil, &page)
		for _, r := range page.Runs {
			runs[r.ID] = r.Status
		}
		if page.Next == nil {
			break
		}
		after = "&after=" + *page.Next
	}
	if int64(len(events)) < accepted.Load() || len(events) == 0 {
		t.Fatalf("%d events in the inbox, but %d deliveries were acknowledged before the kill", len(events), accepted.Load())
	}
	seen := map[string]bool{}
	bad := 0
	for _, e := range events {
		if len(e.RunIDs) != 1 || runs[e.RunIDs[0]] != "succeeded" || seen[e.RunIDs[0]] {
			if bad++; bad <= 5 {
				t.Errorf("event %s (%s): runs %v, statuses %v", e.ID, e.Status, e.RunIDs, statuses(runs, e.RunIDs))
			}
			continue
		}
		seen[e.RunIDs[0]] = true
	}
	if len(runs) != len(events) {
		t.Errorf("%d runs for %d events", len(runs), len(events))
	}
	t.Logf("after the restart: %d events in the inbox, %d runs, %d bad", len(events), len(runs), bad)
	if _, err := p2.stop(syscall.SIGTERM, 40*time.Second); err != nil {
		t.Errorf("restarted serve exited with %v", err)
	}
}

func statuses(runs map[string]string, ids []string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, runs[id])
	}
	return out
}

// TestServeHelp checks that serve --help documents every flag with its
// variable and default.
func TestServeHelp(t *testing.T) {
	t.Parallel()
	out, errOut, code := cli(t, "serve", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	help := out + errOut
	for _, want := range []string{
		"--addr HOST:PORT", "LEVERFLOW_ADDR", "127.0.0.1:8080",
		"--data-dir DIR", "LEVERFLOW_DATA_DIR", "./data",
		"--database-url URL", "LEVERFLOW_DATABASE_URL", "DIR/leverflow.db",
		"--secret-key KEY", "LEVERFLOW_SECRET_KEY", "DIR/secret.key",
		"--base-url URL", "LEVERFLOW_BASE_URL",
		"--shutdown-grace DURATION", "LEVERFLOW_SHUTDOWN_GRACE", "(default 30s)",
		"--lease DURATION", "LEVERFLOW_LEASE",
		"--examples=true|false", "LEVERFLOW_EXAMPLES",
		"--sandbox=true|false", "LEVERFLOW_SANDBOX",
		"--sandbox-rate-limit=true|false", "LEVERFLOW_SANDBOX_RATE_LIMIT",
		"LEVERFLOW_ADMIN_TOKEN",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("serve --help lacks %q:\n%s", want, help)
		}
	}
	if got := strings.Count(help, "LEVERFLOW_"); got < len(serveFlags)+1 {
		t.Errorf("serve --help names %d variables, want at least %d", got, len(serveFlags)+1)
	}
}

// TestServeFlagsAndEnv checks that a variable sets a flag that is not
// given, and that the flag wins.
func TestServeFlagsAndEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		code    int
		message string
	}{
		{"bad duration in a variable", nil, map[string]string{"LEVERFLOW_SHUTDOWN_GRACE": "soon"}, 2, "LEVERFLOW_SHUTDOWN_GRACE: not a valid value for --shutdown-grace"},
		{"a flag wins over its variable", []string{"--shutdown-grace", "0s"}, map[string]string{"LEVERFLOW_SHUTDOWN_GRACE": "soon"}, 2, "--shutdown-grace must be positive"},
		{"a variable sets its flag", nil, map[string]string{"LEVERFLOW_SHUTDOWN_GRACE": "0s"}, 2, "--shutdown-grace must be positive"},
		{"bad bool", nil, map[string]string{"LEVERFLOW_SANDBOX": "maybe"}, 2, "LEVERFLOW_SANDBOX: not a valid value for --sandbox"},
		{"stray argument", []string{"now"}, nil, 2, `unexpected argument "now"`},
		{"bad base URL", []string{"--base-url", "ftp://x"}, nil, 2, "is not an absolute http(s) URL"},
		{"bad base URL in a variable", nil, map[string]string{"LEVERFLOW_BASE_URL": "example.com"}, 2, "is not an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := tt.env
			var out, errOut bytes.Buffer
			err := serve(t.Context(), tt.args, func(k string) string { return env[k] }, &out, &errOut)
			code := exitCode(err, &errOut)
			if code != tt.code || !strings.Contains(errOut.String(), tt.message) {
				t.Errorf("exit %d (want %d); stderr lacks %q:\n%s", code, tt.code, tt.message, errOut.String())
			}
		})
	}
}

// TestTokenCommands creates, lists and revokes a token against a server's
// data directory; the running server refuses the revoked token at once.
func TestTokenCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, errOut, code := cli(t, "token", "list", "--data-dir", dir); code != 1 || !strings.Contains(errOut, "there is no database") {
		t.Errorf("token list without a database: exit %d, %s", code, errOut)
	}
	p := startServer(t, nil, "--addr", "127.0.0.1:0", "--data-dir", dir, "--examples=false")
	if !strings.HasPrefix(p.adminToken, "lf_") {
		t.Fatalf("no admin token printed on first start:\n%s", p.banner)
	}

	out, errOut, code := cli(t, "token", "create", "--name", "ci", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	tok := lines[len(lines)-1]
	if !strings.HasPrefix(tok, "lf_") || !strings.Contains(out, `created token "ci"`) {
		t.Fatalf("token create printed:\n%s", out)
	}
	out, _, code = cli(t, "token", "list", "--json", "--data-dir", dir)
	var list []struct {
		ID, Name string
		Admin    bool
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != 0 {
		t.Fatalf("token list --json: exit %d, %v\n%s", code, err, out)
	}
	var ciID string
	for _, v := range list {
		if v.Name == "ci" {
			ciID = v.ID
		}
	}
	if len(list) != 2 || ciID == "" {
		t.Fatalf("token list = %+v, want admin and ci", list)
	}
	text, _, _ := cli(t, "token", "list", "--data-dir", dir)
	for _, secret := range []string{tok, p.adminToken, "hash"} {
		if strings.Contains(text+out, secret) {
			t.Errorf("token list shows %q:\n%s%s", secret, text, out)
		}
	}

	if status, data := call(t, "GET", p.url+"/api/v1/runs", tok, nil, nil); status != 200 {
		t.Fatalf("the new token is refused: %d %s", status, data)
	}
	if status, _ := call(t, "POST", p.url+"/api/v1/workflows/x/enable", tok, nil, nil); status != http.StatusForbidden {
		t.Errorf("a non-admin token may enable workflows: %d", status)
	}
	if out, errOut, code := cli(t, "token", "revoke", ciID, "--data-dir", dir); code != 0 || !strings.Contains(out, "revoked token "+ciID) {
		t.Fatalf("token revoke: exit %d: %s%s", code, out, errOut)
	}
	status, data := call(t, "GET", p.url+"/api/v1/runs", tok, nil, nil)
	if status != http.StatusUnauthorized || !strings.Contains(string(data), "revoked") {
		t.Errorf("a revoked token: %d %s, want 401 saying it was revoked", status, data)
	}
	if status, _ := call(t, "GET", p.url+"/api/v1/runs", p.adminToken, nil, nil); status != 200 {
		t.Errorf("the admin token is refused: %d", status)
	}
	if _, errOut, code := cli(t, "token", "revoke", "no-such-id", "--data-dir", dir); code != 1 || !strings.Contains(errOut, "no token has the id") {
		t.Errorf("revoking an unknown id: exit %d: %s", code, errOut)
	}
	if _, _, code := cli(t, "token", "create", "--data-dir", dir); code != 2 {
		t.Errorf("token create without --name: exit %d, want 2", code)
	}

	// A second start prints no new admin token.
	if _, err := p.stop(syscall.SIGTERM, 40*time.Second); err != nil {
		t.Fatalf("serve exited with %v", err)
	}
	p2 := startServer(t, nil, "--addr", "127.0.0.1:0", "--data-dir", dir)
	if p2.adminToken != "" {
		t.Errorf("a second start printed an admin token:\n%s", p2.banner)
	}
	if p2.sandboxKey != p.sandboxKey {
		t.Errorf("the sandbox API key changed across restarts: %s, then %s", p.sandboxKey, p2.sandboxKey)
	}
	var conns struct {
		Connections []struct{ Name, Status string }
	}
	must(t, 200, "GET", p2.url+"/api/v1/connections", p.adminToken, nil, &conns)
	if len(conns.Connections) != 1 || conns.Connections[0].Name != "local" || conns.Connections[0].Status != "connected" {
		t.Errorf("connections after a restart: %+v, want local, connected", conns.Connections)
	}
	if _, err := p2.stop(syscall.SIGTERM, 40*time.Second); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("second serve exited with %v", err)
	}
}

// TestSandboxCredentials checks that the sandbox's credentials depend on
// the secret key alone.
func TestSandboxCredentials(t *testing.T) {
	t.Parallel()
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	a, b, c := deriveSandboxCredentials(k1), deriveSandboxCredentials(k1), deriveSandboxCredentials(k2)
	if a != b {
		t.Errorf("two derivations from one key differ: %+v, %+v", a, b)
	}
	if a.apiKey == c.apiKey || a.clientID == c.clientID || a.clientSecret == c.clientSecret {
		t.Errorf("two keys give shared credentials: %+v, %+v", a, c)
	}
	if a.apiKey == a.clientSecret || len(a.clientSecret) < 32 {
		t.Errorf("weak credentials: %+v", a)
	}
}
