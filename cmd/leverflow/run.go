package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/catalog"
	"github.com/leverflow/leverflow/steps/lever"
)

// parseInterleaved parses flags that may come before or after the
// positional arguments ("run wf.json --json" and "run --json wf.json").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagErr is the exit for a flag-parsing error: 0 for -h (the usage was
// asked for and printed), 2 for a bad flag.
func flagErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return errExit{2}
}

// newRegistry builds the step catalog; clients gives the Lever steps their
// connections (nil where no step runs: validate, step-types).
func newRegistry(clients lever.Clients) (*steps.Registry, error) {
	reg, err := catalog.New(catalog.Options{Lever: clients})
	if err != nil {
		return nil, fmt.Errorf("building the step catalog: %w", err)
	}
	return reg, nil
}

// loadWorkflow reads and validates a workflow file, printing its problems
// as "FILE: path: message" lines.
func loadWorkflow(path string, reg *steps.Registry, stderr io.Writer) (*workflow.Workflow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading workflow: %w", err)
	}
	wf, probs := workflow.Parse(data, workflow.ValidateOptions{Steps: reg})
	if len(probs) > 0 {
		for _, p := range probs {
			fmt.Fprintf(stderr, "%s: %s\n", path, p)
		}
		return nil, errExit{1}
	}
	return wf, nil
}

func cmdValidate(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: leverflow validate FILE...\n\nChecks each workflow file and prints every problem as FILE: path: message. Exit 0 when all are valid, 1 otherwise.")
	}
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return flagErr(err)
	}
	if len(files) == 0 {
		fs.Usage()
		return errExit{2}
	}
	reg, err := newRegistry(nil)
	if err != nil {
		return err
	}
	bad := 0
	for _, f := range files {
		if isTestFile(f) {
			fmt.Fprintf(stdout, "%s: this is a workflow test, not a workflow: run it with leverflow test %s\n", f, f)
			bad++
			continue
		}
		if _, err := loadWorkflow(f, reg, stdout); err != nil {
			var ee errExit
			if !errors.As(err, &ee) {
				fmt.Fprintf(stdout, "%s: %v\n", f, err)
			}
			bad++
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", f)
	}
	if bad > 0 {
		return errExit{1}
	}
	return nil
}

// isTestFile reports whether the file is a workflow test (an object with
// "workflow" and "cases") rather than a workflow.
func isTestFile(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var probe struct {
		Workflow *string          `json:"workflow"`
		Cases    *json.RawMessage `json:"cases"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.Workflow != nil && probe.Cases != nil
}

// workflowID names a workflow run from a file: its base name.
func workflowID(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	if b.Len() == 0 {
		return "workflow"
	}
	return b.String()
}

// openStore opens the SQLite file at path, or a fresh one in a temporary
// directory (removed by the returned cleanup) when path is empty.
func openStore(ctx context.Context, path string) (store.Store, func(), error) {
	cleanup := func() {}
	if path == "" {
		dir, err := os.MkdirTemp("", "leverflow-run-")
		if err != nil {
			return nil, nil, err
		}
		path = filepath.Join(dir, "runs.db")
		cleanup = func() { os.RemoveAll(dir) }
	}
	st, err := gormstore.Open(ctx, gormstore.Config{DSN: path})
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	return st, func() { st.Close(); cleanup() }, nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	trigger := fs.String("trigger", "", "a JSON file with the trigger data (default {})")
	dbPath := fs.String("db", "", "the SQLite file to keep runs in (default a temporary file)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	resume := fs.Bool("resume", false, "finish the unfinished runs in --db instead of starting one")
	lease := fs.Duration("lease", 30*time.Second, "how long a run stays claimed without a heartbeat; a crashed run is taken up after it")
	maxOutput := fs.Int("max-output", 1<<20, "the most bytes a step's stored output may take; a larger output fails the step")
	sinkAddr := fs.String("sink", "", "also serve a local HTTP sink on this address (such as 127.0.0.1:8765) that accepts and counts whatever a workflow sends it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: leverflow run FILE [--trigger PAYLOAD.json] [--db PATH] [--json] [--sink ADDR]\n       leverflow run --resume --db PATH\n\nRuns a workflow in-process; exit 0 when the run succeeded, 1 when it failed.\nLever steps call the built-in Lever sandbox (demo data, Lever's rate limit), whatever their connection.")
		fs.PrintDefaults()
	}
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return flagErr(err)
	}
	if *resume {
		if *dbPath == "" || len(files) > 0 {
			fmt.Fprintln(stderr, "leverflow run --resume needs --db PATH and no workflow file")
			return errExit{2}
		}
	} else if len(files) != 1 {
		fs.Usage()
		return errExit{2}
	}
	lev, err := startLocalLever()
	if err != nil {
		return err
	}
	defer lev.Close()
	if *sinkAddr != "" {
		sk, err := startSink(*sinkAddr)
		if err != nil {
			return err
		}
		defer func() {
			sk.Close()
			if n, text := sk.summary(); !*asJSON && n > 0 {
				fmt.Fprintln(stdout, text)
			}
		}()
	}
	reg, err := newRegistry(lev)
	if err != nil {
		return err
	}
	var wf *workflow.Workflow
	if !*resume {
		if wf, err = loadWorkflow(files[0], reg, stderr); err != nil {
			return err
		}
	}
	trig := json.RawMessage(`{}`)
	if *trigger != "" {
		data, err := os.ReadFile(*trigger)
		if err != nil {
			return fmt.Errorf("reading trigger: %w", err)
		}
		if msg := checkTrigger(data); msg != "" {
			fmt.Fprintf(stderr, "%s: %s\n", *trigger, msg)
			return errExit{2}
		}
		trig = data
	}
	st, closeStore, err := openStore(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer closeStore()
	// The runs to resume are listed before this process's engine starts,
	// so none changes state between the listings.
	var unfinished []string
	if *resume {
		if unfinished, err = listUnfinished(ctx, st); err != nil {
			return err
		}
	}
	eng, err := engine.New(engine.Options{Store: st, Steps: reg, Lease: *lease, PollInterval: 200 * time.Millisecond, MaxOutputBytes: *maxOutput})
	if err != nil {
		return err
	}
	if err := eng.Start(ctx); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = eng.Stop(sctx)
	}()

	var runs []*workflow.Run
	if *resume {
		runs, err = resumeAll(ctx, unfinished, eng)
		if err != nil {
			return err
		}
		if len(runs) == 0 && !*asJSON {
			fmt.Fprintln(stdout, "no unfinished runs")
		}
	} else {
		id := workflowID(files[0])
		if _, err := eng.SaveWorkflow(ctx, id, wf); err != nil {
			return err
		}
		started, err := eng.StartRun(ctx, engine.StartRequest{WorkflowID: id, Trigger: trig})
		if err != nil {
			return err
		}
		run, err := eng.Wait(ctx, started.ID)
		if err != nil {
			return fmt.Errorf("waiting for run %s: %w", started.ID, err)
		}
		runs = []*workflow.Run{run}
	}
	failed := false
	for _, run := range runs {
		var order []workflow.Step
		if wf != nil {
			order = wf.Steps
		} else if v, err := st.GetWorkflowVersion(ctx, run.WorkflowID, run.Version); err == nil {
			if w, probs := workflow.Decode(v.Definition); len(probs) == 0 {
				order = w.Steps
			}
		}
		if *asJSON {
			if err := printRunJSON(stdout, run, order, len(runs) > 1); err != nil {
				return err
			}
		} else {
			printRunText(stdout, run, order)
		}
		if run.Status != workflow.RunSucceeded {
			failed = true
		}
	}
	if failed {
		return errExit{1}
	}
	return nil
}

// checkTrigger says what is wrong with trigger data, or "" when it is a
// JSON object (what <<trigger.x>> references read).
func checkTrigger(data []byte) string {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(data, se.Offset)
			return fmt.Sprintf("line %d, column %d: %v", line, col, se)
		}
		return fmt.Sprintf("not valid JSON: %v", err)
	}
	if _, ok := v.(map[string]any); !ok {
		return "trigger data must be a JSON object such as {\"opportunityId\": \"...\"}; references read its fields as <<trigger.field>>"
	}
	return ""
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(data []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset-1 && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// listUnfinished lists the runs that are queued, running or waiting.
func listUnfinished(ctx context.Context, st store.Store) ([]string, error) {
	var ids []string
	for _, status := range []workflow.RunStatus{workflow.RunQueued, workflow.RunRunning, workflow.RunWaiting} {
		after := ""
		for {
			page, err := st.ListRuns(ctx, store.RunFilter{Status: status, After: after, Limit: 200})
			if err != nil {
				return nil, fmt.Errorf("listing unfinished runs: %w", err)
			}
			for _, r := range page {
				ids = append(ids, r.ID)
			}
			if len(page) < 200 {
				break
			}
			after = page[len(page)-1].ID
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// resumeAll waits for each of the runs to finish: the engine claims each as
// soon as its lease (held by a dead process) expires.
func resumeAll(ctx context.Context, ids []string, eng *engine.Engine) ([]*workflow.Run, error) {
	runs := make([]*workflow.Run, 0, len(ids))
	for _, id := range ids {
		run, err := eng.Wait(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("waiting for run %s: %w", id, err)
		}
		runs = append(runs, run)
	}
	return runs, nil
}

// stepView is one step of a run as the CLI prints it.
type stepView struct {
	Status     workflow.StepStatus `json:"status"`
	Input      json.RawMessage     `json:"input,omitempty"`
	Output     json.RawMessage     `json:"output,omitempty"`
	Error      string              `json:"error,omitempty"`
	Attempts   int                 `json:"attempts"`
	Branch     string              `json:"branch,omitempty"`
	StartedAt  *time.Time          `json:"started_at,omitempty"`
	FinishedAt *time.Time          `json:"finished_at,omitempty"`
	DurationMS *float64            `json:"duration_ms,omitempty"`
	// Items holds a fanout's per-item step runs, keyed by step id.
	Items []map[string]*stepView `json:"items,omitempty"`
	key   string
	rec   *workflow.StepRun
}

type runView struct {
	RunID  string               `json:"run_id"`
	Status workflow.RunStatus   `json:"status"`
	Error  string               `json:"error,omitempty"`
	Steps  map[string]*stepView `json:"steps"`
}

// viewSteps arranges a run's step runs by scope: the top level by step id,
// each fanout's items under its entry.
func viewSteps(run *workflow.Run, prefix string, order []workflow.Step) map[string]*stepView {
	out := map[string]*stepView{}
	for _, s := range order {
		rec := run.Steps[prefix+s.ID]
		v := &stepView{Status: workflow.StepPending, key: prefix + s.ID}
		if rec != nil {
			v.Status, v.Input, v.Output, v.Error, v.Attempts, v.Branch, v.rec = rec.Status, rec.Input, rec.Output, rec.Error, rec.Attempts, rec.Branch, rec
			v.StartedAt, v.FinishedAt = rec.StartedAt, rec.FinishedAt
			if rec.StartedAt != nil && rec.FinishedAt != nil {
				ms := float64(rec.FinishedAt.Sub(*rec.StartedAt).Microseconds()) / 1000
				v.DurationMS = &ms
			}
		}
		if len(s.Steps) > 0 {
			for i := 0; ; i++ {
				p := fmt.Sprintf("%s%s[%d].", prefix, s.ID, i)
				if !hasPrefix(run, p) {
					break
				}
				v.Items = append(v.Items, viewSteps(run, p, s.Steps))
			}
		}
		out[s.ID] = v
	}
	return out
}

func hasPrefix(run *workflow.Run, p string) bool {
	for k := range run.Steps {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// printRunJSON prints the run as one JSON object, indented; with lines
// set, on one line (several runs print as JSON Lines).
func printRunJSON(w io.Writer, run *workflow.Run, order []workflow.Step, lines bool) error {
	v := runView{RunID: run.ID, Status: run.Status, Error: run.Error, Steps: viewSteps(run, "", order)}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // keep << >> readable
	if !lines {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(v)
}

func printRunText(w io.Writer, run *workflow.Run, order []workflow.Step) {
	took := ""
	if run.StartedAt != nil && run.FinishedAt != nil {
		took = " in " + run.FinishedAt.Sub(*run.StartedAt).Round(time.Microsecond).String()
	}
	fmt.Fprintf(w, "run %s %s%s\n", run.ID, run.Status, took)
	printSteps(w, viewSteps(run, "", order), order, "  ")
	if run.Error != "" {
		fmt.Fprintf(w, "error: %s\n", run.Error)
	}
}

func printSteps(w io.Writer, views map[string]*stepView, order []workflow.Step, indent string) {
	for _, s := range order {
		v := views[s.ID]
		status := string(v.Status)
		if v.rec == nil {
			status = "not run"
		}
		line := fmt.Sprintf("%s%-20s %-9s", indent, s.ID, status)
		if v.rec != nil && v.Status != workflow.StepSkipped {
			att := "attempt"
			if v.Attempts != 1 {
				att = "attempts"
			}
			line += fmt.Sprintf(" %d %-8s", v.Attempts, att)
			if v.rec.StartedAt != nil && v.rec.FinishedAt != nil {
				line += fmt.Sprintf(" %9s", v.rec.FinishedAt.Sub(*v.rec.StartedAt).Round(time.Microsecond))
			}
		}
		if v.Branch != "" {
			line += " -> " + v.Branch
		}
		if len(v.Output) > 0 && v.Status == workflow.StepSucceeded {
			line += "  " + clip(string(v.Output), 100)
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
		if v.Error != "" && v.Status != workflow.StepSucceeded {
			fmt.Fprintf(w, "%s    error: %s\n", indent, v.Error)
		}
		for i, item := range v.Items {
			fmt.Fprintf(w, "%s  [%d]\n", indent, i)
			printSteps(w, item, s.Steps, indent+"    ")
		}
	}
}

// clip shortens s to at most n bytes, cutting on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func cmdStepTypes(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("step-types", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the catalog as JSON")
	if err := fs.Parse(args); err != nil {
		return flagErr(err)
	}
	reg, err := newRegistry(nil)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(reg.All())
	}
	for _, s := range reg.All() {
		fmt.Fprintf(stdout, "%-16s %-10s %s\n", s.Type, s.Category, s.Title)
		for _, name := range s.Input.PropertyNames() {
			req := ""
			if s.Input.IsRequired(name) {
				req = " (required)"
			}
			fmt.Fprintf(stdout, "    %-14s %-8s%s %s\n", name, s.Input.Properties[name].Type, req, s.Input.Properties[name].Description)
		}
	}
	return nil
}
