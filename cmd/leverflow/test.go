package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/templating"
)

// testFile is a workflow test kept in git beside the workflow.
type testFile struct {
	// Workflow is the workflow file, relative to the test file.
	Workflow string     `json:"workflow"`
	Cases    []testCase `json:"cases"`
}

type testCase struct {
	Name    string          `json:"name"`
	Trigger json.RawMessage `json:"trigger,omitempty"`
	// Outputs fixes the outputs of chosen steps (by step id): they are not
	// run, so a test needs no network.
	Outputs map[string]json.RawMessage `json:"outputs,omitempty"`
	// Assert holds expressions over the finished run that must all be
	// true: run.status, run.error, steps.<id>.status|output|error|attempts|
	// branch|items, trigger.
	Assert []string `json:"assert"`
	// Timeout bounds the case (default 30s).
	Timeout workflow.Duration `json:"timeout,omitempty"`
}

func cmdTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "print every case, not only failures")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: leverflow test [-v] FILE...

Each FILE is a workflow test:
  {"workflow": "tag-senior.json",
   "cases": [{"name": "...", "trigger": {...},
              "outputs": {"opp": {"headline": "Senior Engineer"}},
              "assert": ["run.status == \"succeeded\"", "steps.tag.status == \"skipped\""]}]}
Prints one line per failed case and "N passed, N failed"; exit 1 on any failure.`)
	}
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return flagErr(err)
	}
	if len(files) == 0 {
		fs.Usage()
		return errExit{2}
	}
	// Steps without a fixed output run for real; Lever steps call the
	// built-in sandbox.
	lev, err := startLocalLever()
	if err != nil {
		return err
	}
	defer lev.Close()
	reg, err := newRegistry(lev)
	if err != nil {
		return err
	}
	passed, failed := 0, 0
	for _, f := range files {
		p, fl := runTestFile(ctx, f, reg, *verbose, stdout)
		passed += p
		failed += fl
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return errExit{1}
	}
	return nil
}

func runTestFile(ctx context.Context, path string, reg *steps.Registry, verbose bool, out io.Writer) (passed, failed int) {
	fail := func(name string, msgs ...string) {
		for _, msg := range msgs {
			fmt.Fprintf(out, "FAIL %s: %s: %s\n", path, name, msg)
		}
		failed++
	}
	data, err := os.ReadFile(path)
	if err != nil {
		fail("(file)", err.Error())
		return
	}
	var tf testFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tf); err != nil {
		fail("(file)", fmt.Sprintf("not a workflow test: %v; expected {\"workflow\": FILE, \"cases\": [...]}", err))
		return
	}
	if tf.Workflow == "" || len(tf.Cases) == 0 {
		fail("(file)", `needs "workflow" (the workflow file, relative to the test) and at least one case in "cases"`)
		return
	}
	wfPath := tf.Workflow
	if !filepath.IsAbs(wfPath) {
		wfPath = filepath.Join(filepath.Dir(path), wfPath)
	}
	var problems bytes.Buffer
	wf, err := loadWorkflow(wfPath, reg, &problems)
	if err != nil {
		fail("(workflow)", fmt.Sprintf("%s is not valid:\n%s", wfPath, problems.String()))
		return
	}
	st, closeStore, err := openStore(ctx, "")
	if err != nil {
		fail("(file)", err.Error())
		return
	}
	defer closeStore()
	for i, c := range tf.Cases {
		name := c.Name
		if name == "" {
			name = fmt.Sprintf("case %d", i+1)
		}
		start := time.Now()
		msgs := runTestCase(ctx, st, reg, workflowID(wfPath), wf, c)
		if len(msgs) > 0 {
			fail(name, msgs...)
			continue
		}
		passed++
		if verbose {
			fmt.Fprintf(out, "ok   %s: %s (%s)\n", path, name, time.Since(start).Round(time.Millisecond))
		}
	}
	return passed, failed
}

// runTestCase runs one case on a fresh engine with its fixed outputs and
// returns what failed, one message each.
func runTestCase(ctx context.Context, st store.Store, reg *steps.Registry, id string, wf *workflow.Workflow, c testCase) []string {
	if len(c.Assert) == 0 {
		return []string{`no assertions: add expressions to "assert", such as run.status == "succeeded"`}
	}
	// Every problem of the case's own text is reported before anything runs.
	var msgs []string
	fixed := map[string]any{}
	stepIDs := make([]string, 0, len(c.Outputs))
	for stepID := range c.Outputs {
		stepIDs = append(stepIDs, stepID)
	}
	sort.Strings(stepIDs)
	for _, stepID := range stepIDs {
		var v any
		if err := json.Unmarshal(c.Outputs[stepID], &v); err != nil {
			msgs = append(msgs, fmt.Sprintf("outputs.%s: not JSON: %v", stepID, err))
			continue
		}
		if !hasStep(wf.Steps, stepID) {
			msgs = append(msgs, fmt.Sprintf("outputs.%s: the workflow has no step %q", stepID, stepID))
			continue
		}
		fixed[stepID] = v
	}
	asserts := make([]*templating.Template, len(c.Assert))
	for i, a := range c.Assert {
		t, err := templating.CompileString("<<" + a + ">>")
		if err != nil {
			reason := err.Error()
			var se *templating.SyntaxError
			if errors.As(err, &se) {
				reason = se.Reason
			}
			msgs = append(msgs, fmt.Sprintf("assert[%d] %q does not compile: %s", i, a, reason))
			continue
		}
		asserts[i] = t
	}
	if len(msgs) > 0 {
		return msgs
	}
	eng, err := engine.New(engine.Options{
		Store: st, Steps: reg, PollInterval: 100 * time.Millisecond,
		Override: func(stepID string) (any, bool) { v, ok := fixed[stepID]; return v, ok },
	})
	if err != nil {
		return []string{err.Error()}
	}
	if err := eng.Start(ctx); err != nil {
		return []string{err.Error()}
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = eng.Stop(sctx)
	}()
	if _, err := eng.SaveWorkflow(ctx, id, wf); err != nil {
		return []string{err.Error()}
	}
	trig := c.Trigger
	if len(trig) == 0 {
		trig = json.RawMessage(`{}`)
	}
	started, err := eng.StartRun(ctx, engine.StartRequest{WorkflowID: id, Trigger: trig})
	if err != nil {
		return []string{err.Error()}
	}
	wctx, cancel := context.WithTimeout(ctx, c.Timeout.Std(30*time.Second))
	defer cancel()
	run, err := eng.Wait(wctx, started.ID)
	if err != nil {
		return []string{fmt.Sprintf("the run did not finish: %v", err)}
	}
	env := assertEnv(run, wf)
	for i, t := range asserts {
		v, err := t.Render(env)
		switch {
		case err != nil:
			msgs = append(msgs, fmt.Sprintf("assert %q: %v", c.Assert[i], err))
		case v != true:
			msgs = append(msgs, fmt.Sprintf("assert %q is %v (run %s%s)", c.Assert[i], jsonText(v), run.Status, stepSummary(run, wf)))
		}
	}
	return msgs
}

func hasStep(list []workflow.Step, id string) bool {
	for _, s := range list {
		if s.ID == id || hasStep(s.Steps, id) {
			return true
		}
	}
	return false
}

// assertEnv is what assertions see: run, steps (status, output, error,
// attempts, branch, items) and trigger.
func assertEnv(run *workflow.Run, wf *workflow.Workflow) map[string]any {
	var trig any
	_ = json.Unmarshal(run.Trigger, &trig)
	raw, _ := json.Marshal(viewSteps(run, "", wf.Steps))
	var stepsEnv any
	_ = json.Unmarshal(raw, &stepsEnv)
	return map[string]any{
		"run":     map[string]any{"id": run.ID, "status": string(run.Status), "error": run.Error},
		"steps":   stepsEnv,
		"trigger": trig,
	}
}

func stepSummary(run *workflow.Run, wf *workflow.Workflow) string {
	s := ""
	for _, st := range wf.Steps {
		status := "pending"
		if rec := run.Steps[st.ID]; rec != nil {
			status = string(rec.Status)
		}
		s += fmt.Sprintf("; %s %s", st.ID, status)
	}
	return s
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
