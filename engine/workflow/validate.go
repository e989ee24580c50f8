package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/templating"
)

// The trigger types that are not Lever events.
const (
	TriggerAPI      = "api"
	TriggerSchedule = "schedule"
)

// TriggerTypes are the known trigger types: "api", "schedule" and the Lever
// events (pushed by Lever's webhooks or polled), each of which needs a
// connection.
var TriggerTypes = []string{
	TriggerAPI,
	TriggerSchedule,
	"lever.application_created",
	"lever.candidate_stage_changed",
	"lever.candidate_archive_changed",
	"lever.candidate_hired",
	"lever.candidate_deleted",
	"lever.interview_created",
	"lever.interview_updated",
	"lever.interview_deleted",
	"lever.contact_created",
	"lever.contact_updated",
	"lever.candidate_created",
	"lever.candidate_updated",
	"lever.posting_created",
	"lever.posting_updated",
}

// PolledTriggerTypes are the trigger types that poll Lever (and so take a
// poll_interval): Lever pushes no posting events, and sourced leads come
// without an application.
var PolledTriggerTypes = []string{"lever.candidate_created", "lever.candidate_updated", "lever.posting_created", "lever.posting_updated"}

// Catalog is what validation needs to know of step types. *steps.Registry
// satisfies it. A catalog that also has a Types() []string method lets
// validation suggest a registered type for a misspelt one.
type Catalog interface {
	Lookup(typ string) (*steps.Spec, bool)
}

// ValidateOptions are what Validate checks a workflow against.
type ValidateOptions struct {
	// Steps is the step catalog; required.
	Steps Catalog
	// HasConnection reports whether a connection of that name exists; nil
	// means connections are not checked.
	HasConnection func(name string) bool
}

// Parse reads a workflow document and validates it, returning every
// problem at once.
//
// Malformed JSON gives only the one problem with a line and column (see
// Decode). A document that decodes gives the workflow and Validate's
// problems. A document with decode problems (unknown fields, values of the
// wrong JSON type, ...) gives a nil workflow and both kinds of problem: the
// decode problems, and the Validate problems of the workflow read leniently
// (unknown fields ignored, values that cannot be decoded left out), except
// those at or under a path that could not be read, which would only echo
// the decode problem ("steps: must be an array" does not also give "the
// workflow has no steps"). Problems are deduplicated and in the order of
// their paths in the document.
func Parse(data []byte, opts ValidateOptions) (*Workflow, []Problem) {
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		return nil, []Problem{syntaxProblem(data, err)}
	}
	d := strictWalk(data)
	if len(d.problems) == 0 {
		w, problems := Decode(data)
		if len(problems) > 0 {
			return nil, problems
		}
		if problems := Validate(w, opts); len(problems) > 0 {
			return w, problems
		}
		return w, nil
	}
	w := decodeLenient(data)
	if w == nil {
		return nil, d.problems
	}
	unread := func(path string) bool {
		for _, u := range d.unread {
			if u == "" || path == u || strings.HasPrefix(path, u) && (path[len(u)] == '.' || path[len(u)] == '[') {
				return true
			}
		}
		return false
	}
	var found []Problem
	for _, p := range validate(w, opts, unread("vars")) {
		if !unread(p.Path) {
			found = append(found, p)
		}
	}
	return nil, mergeProblems(data, d.problems, found)
}

// mergeProblems merges two lists of problems, each in document order, into
// one in the order of their paths in data (a path absent from data sorts
// with its nearest ancestor), leaving out repeats.
func mergeProblems(data []byte, a, b []Problem) []Problem {
	order := map[string]int{}
	walkRaw(data, "", func(p string) {
		if _, ok := order[p]; !ok {
			order[p] = len(order)
		}
	})
	key := func(p string) int { return orderOf(order, p) }
	out := make([]Problem, 0, len(a)+len(b))
	seen := map[Problem]bool{}
	add := func(p Problem) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for len(a) > 0 || len(b) > 0 {
		if len(b) == 0 || len(a) > 0 && key(a[0].Path) <= key(b[0].Path) {
			add(a[0])
			a = a[1:]
		} else {
			add(b[0])
			b = b[1:]
		}
	}
	return out
}

// The roots a reference may start at.
var (
	baseRoots   = []string{"trigger", "steps", "run", "user", "vars"}
	fanoutRoots = []string{"trigger", "steps", "item", "index", "run", "user", "vars"}
)

var (
	stepIDPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	cronParser    = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

// Validate checks a decoded workflow against the step catalog and returns
// every problem at once, in the order of the paths in the document. It
// checks the trigger, the steps and their inputs against their schemas, the
// edges and branches, cycles, fanout bodies and every << >> reference (roots,
// upstream steps and fields, against the output schemas of the steps
// upstream).
func Validate(w *Workflow, opts ValidateOptions) []Problem {
	return validate(w, opts, false)
}

// validate is Validate; varsUnread says the document has vars that could
// not be decoded, so references to vars are not checked against them.
func validate(w *Workflow, opts ValidateOptions, varsUnread bool) []Problem {
	if w == nil {
		return []Problem{{Message: "no workflow to validate"}}
	}
	if opts.Steps == nil {
		return []Problem{{Message: "validating needs a step catalog (ValidateOptions.Steps)"}}
	}
	v := &validator{w: w, opts: opts, ids: map[string]*stepInfo{}, varsUnread: varsUnread}
	v.checkWorkflow()
	sortProblems(w, v.problems)
	return v.problems
}

type validator struct {
	w        *Workflow
	opts     ValidateOptions
	problems []Problem
	// ids holds the first step of each id, anywhere in the workflow.
	ids    map[string]*stepInfo
	all    []*stepInfo
	scopes []*scope
	count  int
	// varsUnread is set when the document has vars that could not be
	// decoded (Parse of a document with decode problems).
	varsUnread bool
}

// scope is a DAG: the top level, or the body of one fanout.
type scope struct {
	owner *stepInfo // the fanout; nil at the top level
	base  string    // "" or the fanout's path
	steps []*stepInfo
	byID  map[string]*stepInfo
	edges []Edge
	// parents maps a step id to the ids of the steps with a valid edge to it.
	parents  map[string][]string
	children map[string][]childEdge
}

type childEdge struct {
	to    string
	index int
}

type stepInfo struct {
	step  *Step
	path  string
	scope *scope
	spec  *steps.Spec // nil when the type is unknown
	// input is the decoded input when it is an object.
	input map[string]any
	tmpl  *templating.Template
	// refs counts the references at each input path (relative to input).
	refs     map[string]int
	compiled bool
	// syntax holds the paths of the input's syntax errors.
	syntax   map[string]bool
	upstream map[string]*stepInfo
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) checkWorkflow() {
	w := v.w
	if strings.TrimSpace(w.Name) == "" {
		v.add("name", "the workflow has no name; set \"name\" to a short title such as \"Tag senior applicants\"")
	}
	v.checkTrigger()
	v.checkDuration("timeout", w.Timeout, true)
	v.checkRunPolicy()

	if len(w.Steps) == 0 {
		v.add("steps", "the workflow has no steps; add at least one step to \"steps\"")
	}
	top := v.collect(w.Steps, w.Edges, "", nil)
	if v.count > MaxSteps {
		v.add("steps", "the workflow has %d steps, counting those inside fanouts; at most %d are allowed: split it into several workflows", v.count, MaxSteps)
	}
	if v.count > 4*MaxSteps {
		return // far too big to check the graph in reasonable time
	}
	_ = top
	for _, sc := range v.scopes {
		v.checkEdges(sc)
	}
	for _, sc := range v.scopes {
		v.checkCycles(sc)
	}
	for _, info := range v.all {
		v.checkReferences(info)
	}
}

func (v *validator) checkTrigger() {
	t := v.w.Trigger
	switch {
	case t.Type == "":
		v.add("trigger.type", "the trigger has no type; set it to \"api\", \"schedule\" or a Lever event such as \"lever.candidate_stage_changed\"")
	case !slices.Contains(TriggerTypes, t.Type):
		msg := fmt.Sprintf("unknown trigger type %q", t.Type)
		if s := suggest(t.Type, TriggerTypes); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else {
			msg += "; use one of: " + strings.Join(TriggerTypes, ", ")
		}
		v.add("trigger.type", "%s", msg)
	}
	lever := strings.HasPrefix(t.Type, "lever.") && slices.Contains(TriggerTypes, t.Type)
	switch {
	case lever && t.Connection == "":
		v.add("trigger.connection", "a %q trigger needs a connection; set \"connection\" to the name of the Lever connection whose events start the workflow", t.Type)
	case (t.Type == TriggerAPI || t.Type == TriggerSchedule) && t.Connection != "":
		v.add("trigger.connection", "%q triggers take no connection; remove \"connection\" (steps name their own)", t.Type)
	case t.Connection != "" && v.opts.HasConnection != nil && !v.opts.HasConnection(t.Connection):
		v.add("trigger.connection", "%s", unknownConnection(t.Connection))
	}
	if t.PollInterval != "" {
		if !slices.Contains(PolledTriggerTypes, t.Type) {
			v.add("trigger.poll_interval", "only a polled Lever trigger (%s) has a poll interval; remove \"poll_interval\"", strings.Join(PolledTriggerTypes, ", "))
		} else if d, ok := v.checkDuration("trigger.poll_interval", t.PollInterval, true); ok && d > 0 && d < MinPollInterval {
			v.add("trigger.poll_interval", "%q is shorter than %s; Lever allows 10 requests a second per account, so poll at most every second", string(t.PollInterval), MinPollInterval)
		}
	}
	if t.Type != TriggerSchedule {
		for _, f := range []struct {
			name string
			set  bool
		}{{"overlap", t.Overlap != ""}, {"catch_up", t.CatchUp != ""}, {"catch_up_max", t.CatchUpMax != 0}} {
			if f.set {
				v.add("trigger."+f.name, "only a schedule trigger has %q; remove it or set \"type\" to \"schedule\"", f.name)
			}
		}
		if t.Cron != "" {
			v.add("trigger.cron", "only a schedule trigger has a cron expression; remove \"cron\" or set \"type\" to \"schedule\"")
		}
		if t.Timezone != "" {
			v.add("trigger.timezone", "only a schedule trigger has a time zone; remove \"timezone\" or set \"type\" to \"schedule\"")
		}
		return
	}
	cronHelp := "use five fields (minute hour day-of-month month day-of-week) such as \"0 9 * * 1-5\", six with seconds first, or a descriptor such as \"@daily\" or \"@every 15m\""
	switch c := strings.TrimSpace(t.Cron); {
	case c == "":
		v.add("trigger.cron", "a schedule trigger needs a cron expression; %s", cronHelp)
	case strings.HasPrefix(c, "TZ=") || strings.HasPrefix(c, "CRON_TZ="):
		v.add("trigger.cron", "put the time zone in \"timezone\", not in the cron expression")
	default:
		if _, err := cronParser.Parse(c); err != nil {
			v.add("trigger.cron", "invalid cron expression %q (%v); %s", t.Cron, err, cronHelp)
		}
	}
	if t.Overlap != "" && !slices.Contains([]string{OverlapSkip, OverlapQueue, OverlapAllow}, t.Overlap) {
		v.add("trigger.overlap", "unknown overlap policy %q; use \"skip\" (the default: a slot whose last run still runs starts nothing), \"queue\" (it starts when that run ends) or \"allow\" (runs overlap)", t.Overlap)
	}
	if t.CatchUp != "" && !slices.Contains([]string{CatchUpNone, CatchUpLast, CatchUpAll}, t.CatchUp) {
		v.add("trigger.catch_up", "unknown catch-up policy %q; use \"none\" (the default: slots missed while down are dropped), \"last\" (run the latest one) or \"all\" (run each, up to catch_up_max)", t.CatchUp)
	}
	switch {
	case t.CatchUpMax < 0 || t.CatchUpMax > MaxCatchUpMax:
		v.add("trigger.catch_up_max", "catch_up_max is %d; use 1 to %d", t.CatchUpMax, MaxCatchUpMax)
	case t.CatchUpMax != 0 && t.CatchUp != CatchUpAll:
		v.add("trigger.catch_up_max", "catch_up_max applies only with \"catch_up\": \"all\"; remove it or set catch_up to all")
	}
	if t.Timezone != "" {
		if _, err := time.LoadLocation(t.Timezone); err != nil || t.Timezone == "Local" {
			v.add("trigger.timezone", "unknown time zone %q; use an IANA name such as \"UTC\", \"Europe/Paris\" or \"America/New_York\"", t.Timezone)
		}
	}
}

func unknownConnection(name string) string {
	return fmt.Sprintf("unknown connection %q; create it first (in the editor's Connections page or with POST /api/v1/connections) or use the name of an existing connection", name)
}

// MaxConcurrencyLimit bounds a workflow's concurrency limit.
const MaxConcurrencyLimit = 1000

// checkRunPolicy checks the workflow-wide settings of issue runs:
// concurrency, retention and failure notifications.
func (v *validator) checkRunPolicy() {
	w := v.w
	if c := w.Concurrency; c != nil {
		if c.Limit < 1 || c.Limit > MaxConcurrencyLimit {
			v.add("concurrency.limit", "the concurrency limit is %d; use 1 to %d runs at a time (per key when \"key\" is set)", c.Limit, MaxConcurrencyLimit)
		}
		if c.Key != "" {
			v.checkKey("concurrency.key", c.Key)
		}
	}
	if d, ok := v.checkDuration("retention", w.Retention, true); ok && d > 0 && d < time.Hour {
		v.add("retention", "%q keeps runs for less than an hour; use at least \"1h\" (or days such as \"30d\")", string(w.Retention))
	}
	if f := w.OnFailure; f != nil {
		if f.Workflow == "" && f.Webhook == "" {
			v.add("on_failure", "on_failure names nothing; set \"workflow\" (an error workflow's id) or \"webhook\" (a URL the failed run's summary is POSTed to), or remove it")
		}
		if f.Webhook != "" {
			if u, err := url.Parse(f.Webhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.add("on_failure.webhook", "%q is not an http(s) URL; use one such as \"https://hooks.example.com/leverflow\"", f.Webhook)
			}
		}
		if f.Workflow != "" && !workflowIDPattern.MatchString(f.Workflow) {
			v.add("on_failure.workflow", "%q is not a workflow id; use the id of the workflow to start with the failed run's summary", f.Workflow)
		}
	}
}

// workflowIDPattern is what a workflow id looks like.
var workflowIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// checkKey checks a concurrency key: a reference (with optional text
// around it) that reads only what is known when a run starts: trigger,
// vars, user and run.
func (v *validator) checkKey(path, key string) {
	if !strings.Contains(key, "<<") {
		v.add(path, "the key %q holds no reference, so every run would share it; use a reference such as \"<<trigger.opportunityId>>\", or remove \"key\"", key)
		return
	}
	tmpl, err := templating.CompileString(key)
	if err != nil {
		v.add(path, "%v", err)
		return
	}
	env := v.env(nil, false)
	delete(env, "steps") // no step has run when the key is read
	for _, pr := range templating.Check(tmpl, env) {
		v.add(path, "%s (a key is read when the run starts: use trigger, vars, user or run)", pr.Message)
	}
}

func (v *validator) checkDuration(path string, d Duration, positive bool) (time.Duration, bool) {
	if d == "" {
		return 0, true
	}
	val, err := d.Parse()
	if err != nil {
		v.add(path, "%v", err)
		return 0, false
	}
	if positive && val == 0 {
		v.add(path, "%q is zero: use a positive duration such as \"30s\", or leave it out for no limit", string(d))
		return 0, false
	}
	return val, true
}

// collect checks the steps of one scope, registering their ids, and
// recurses into fanout bodies.
func (v *validator) collect(list []Step, edges []Edge, base string, owner *stepInfo) *scope {
	sc := &scope{owner: owner, base: base, byID: map[string]*stepInfo{}, edges: edges,
		parents: map[string][]string{}, children: map[string][]childEdge{}}
	v.scopes = append(v.scopes, sc)
	for i := range list {
		v.count++
		info := &stepInfo{step: &list[i], path: joinIndex(joinKey(base, "steps"), i), scope: sc}
		v.all = append(v.all, info)
		sc.steps = append(sc.steps, info)
		v.checkStep(info)
	}
	return sc
}

func (v *validator) checkStep(info *stepInfo) {
	st, p := info.step, info.path
	switch {
	case st.ID == "":
		v.add(p+".id", "the step has no id; give it a unique id such as \"get_opportunity\"")
	case !stepIDPattern.MatchString(st.ID):
		v.add(p+".id", "%q is not a valid step id: use 1 to 63 lower-case letters, digits and underscores, starting with a letter (such as %q)", st.ID, fixID(st.ID))
	}
	if st.ID != "" {
		if first, dup := v.ids[st.ID]; dup {
			v.add(p+".id", "duplicate step id %q, already used by %s; step ids must be unique in the whole workflow, fanout bodies included", st.ID, first.path)
		} else {
			v.ids[st.ID] = info
			info.scope.byID[st.ID] = info
		}
	}

	var spec *steps.Spec
	switch {
	case st.Type == "":
		v.add(p+".type", "the step has no type; set \"type\" to a step type from the catalog, such as \"transform\"")
	default:
		var ok bool
		spec, ok = v.opts.Steps.Lookup(st.Type)
		if !ok || spec == nil {
			spec = nil
			msg := fmt.Sprintf("unknown step type %q", st.Type)
			if lister, ok := v.opts.Steps.(interface{ Types() []string }); ok {
				if s := suggest(st.Type, lister.Types()); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				} else {
					msg += "; `leverflow step-types` lists the known types"
				}
			}
			v.add(p+".type", "%s", msg)
		}
	}
	info.spec = spec

	if spec != nil {
		switch {
		case spec.NeedsConnection && st.Connection == "":
			v.add(p+".connection", "step type %q needs a connection; set \"connection\" to the name of the connection to use, such as your Lever account", st.Type)
		case !spec.NeedsConnection && st.Connection != "":
			v.add(p+".connection", "step type %q takes no connection; remove \"connection\"", st.Type)
		}
	}
	if st.Connection != "" && (spec == nil || spec.NeedsConnection) && v.opts.HasConnection != nil && !v.opts.HasConnection(st.Connection) {
		v.add(p+".connection", "%s", unknownConnection(st.Connection))
	}

	v.checkInput(info)
	v.checkRetry(p+".retry", st.Retry)
	v.checkDuration(p+".timeout", st.Timeout, true)
	switch st.OnError {
	case "", OnErrorFail, OnErrorContinue:
	default:
		v.add(p+".on_error", "%q is not an on_error choice; use \"fail\" (the run fails) or \"continue\" (later steps still run)", string(st.OnError))
	}

	switch {
	case spec != nil && spec.Container:
		if len(st.Steps) == 0 {
			v.add(p+".steps", "a %s step needs at least one step in its body; add the steps to run for each item to \"steps\"", st.Type)
		}
		v.collect(st.Steps, st.Edges, p, info)
	case spec != nil:
		if len(st.Steps) > 0 {
			v.add(p+".steps", "step type %q holds no steps; only a container step such as fanout has \"steps\": move them to the top level", st.Type)
		}
		if len(st.Edges) > 0 {
			v.add(p+".edges", "step type %q holds no edges; only a container step such as fanout has \"edges\": move them to the top level", st.Type)
		}
	default:
		if len(st.Steps) > 0 || len(st.Edges) > 0 {
			// The type is unknown; check the body anyway, as a fanout's.
			v.collect(st.Steps, st.Edges, p, info)
		}
	}
}

// fixID suggests a valid step id close to id.
func fixID(id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(id) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
		}
	}
	s := strings.Trim(b.String(), "_")
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		s = "step_" + s
	}
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "_")
	}
	return s
}

func (v *validator) checkRetry(p string, r *RetryPolicy) {
	if r == nil {
		return
	}
	if r.MaxAttempts < 0 || r.MaxAttempts > 100 {
		v.add(p+".max_attempts", "must be between 1 and 100 (1 means no retries), got %d", r.MaxAttempts)
	}
	switch r.Backoff {
	case "", BackoffExponential, BackoffFixed:
	default:
		v.add(p+".backoff", "%q is not a back-off kind; use \"exponential\" (each wait doubles) or \"fixed\"", r.Backoff)
	}
	initial, okI := v.checkDuration(p+".initial", r.Initial, false)
	maxWait, okM := v.checkDuration(p+".max", r.Max, false)
	if !okI || !okM {
		return
	}
	eff := (&Step{Retry: r}).Effective()
	if r.Initial == "" {
		initial = eff.Initial.Std(time.Second)
	}
	if r.Max == "" {
		maxWait = eff.Max.Std(time.Minute)
	}
	if initial > maxWait {
		switch {
		case r.Max == "":
			v.add(p+".initial", "the first wait %q is longer than the default maximum %q; set \"max\" to at least %q", string(r.Initial), string(eff.Max), string(r.Initial))
		case r.Initial == "":
			v.add(p+".max", "the maximum wait %q is shorter than the default first wait %q; set \"initial\" to at most %q", string(r.Max), string(eff.Initial), string(r.Max))
		default:
			v.add(p+".initial", "the first wait %q is longer than the maximum %q; make \"initial\" at most \"max\"", string(r.Initial), string(r.Max))
		}
	}
}

// checkInput decodes and compiles a step's input and checks it against the
// step type's input schema.
func (v *validator) checkInput(info *stepInfo) {
	st, p := info.step, info.path+".input"
	var val any = map[string]any{}
	if len(st.Input) > 0 {
		if err := json.Unmarshal(st.Input, &val); err != nil {
			v.add(p, "is not valid JSON (%v); write the inputs as an object such as {\"field\": \"value\"}", err)
			return
		}
	}
	m, ok := val.(map[string]any)
	if !ok {
		v.add(p, "must be an object, got %s; write the inputs as {\"field\": value}", jsonKindOf(val))
		return
	}
	info.input = m

	info.refs = map[string]int{}
	tmpl, err := templating.Compile(m)
	if err != nil {
		info.syntax = v.addCompileErrors(p, err)
	}
	if tmpl != nil {
		info.tmpl = tmpl
		info.compiled = err == nil
		for _, r := range tmpl.Refs() {
			info.refs[r.Path]++
		}
	}

	spec := info.spec
	if spec == nil {
		return
	}
	schema := spec.Input
	if schema == nil {
		schema = &steps.Schema{Type: steps.TypeObject}
	}
	c := inputChecker{v: v, info: info, base: p}
	first := len(v.problems)
	c.check("", m, schema, true)
	v.checkStatic(info, p, first)

	if spec.Container {
		if _, has := m["items"]; !has && !schema.IsRequired("items") {
			v.add(p+".items", "a %s step needs \"items\": the list to run its body for, such as \"<<steps.list.items>>\"", st.Type)
		}
		if n, isNum := m["concurrency"].(float64); isNum && (n < 1 || n > 1000) {
			v.add(p+".concurrency", "must be between 1 and 1000, got %s; it is how many items run at once", formatNumber(n))
		}
	}
}

// checkStatic runs the step type's own check (Spec.Check) on the literal
// input. Its problems are the step's word on a value and are what the step
// says at run time, so a schema problem at the same path (from problems
// [first:]) gives way to them.
func (v *validator) checkStatic(info *stepInfo, p string, first int) {
	spec := info.spec
	if spec.Check == nil {
		return
	}
	found := spec.Check(info.input)
	if len(found) == 0 {
		return
	}
	at := map[string]bool{}
	for _, pr := range found {
		at[joinRefPath(p, pr.Path)] = true
	}
	kept := v.problems[:first]
	for _, pr := range v.problems[first:] {
		if !at[pr.Path] {
			kept = append(kept, pr)
		}
	}
	v.problems = kept
	for _, pr := range found {
		if pp := joinRefPath(p, pr.Path); !info.syntax[pp] {
			v.add(pp, "%s", pr.Message)
		}
	}
}

// addCompileErrors reports the syntax errors of a step's input and
// returns the paths they are at.
func (v *validator) addCompileErrors(p string, err error) map[string]bool {
	at := map[string]bool{}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var se *templating.SyntaxError
		if errors.As(e, &se) {
			shown := showExpr(se.Expr)
			if strings.Contains(se.Reason, "unclosed") {
				shown = strconv.Quote("<<" + strings.TrimSpace(se.Expr))
			}
			at[joinRefPath(p, se.Path)] = true
			v.add(joinRefPath(p, se.Path), "invalid reference %s: %s; fix the expression, or write \\<< for a literal \"<<\"", shown, se.Reason)
			continue
		}
		v.add(p, "%v", e)
	}
	return at
}

// showExpr returns the expression as written in a reference.
func showExpr(expr string) string {
	e := strings.TrimSpace(expr)
	if !strings.HasPrefix(e, "<<") {
		e = "<<" + e + ">>"
	}
	return strconv.Quote(e)
}

// joinRefPath joins a path relative to a value (such as templating gives:
// "", "a.b[0]", "[1]") to the path of the value.
func joinRefPath(base, rel string) string {
	switch {
	case rel == "":
		return base
	case base == "":
		return rel
	case strings.HasPrefix(rel, "["):
		return base + rel
	default:
		return base + "." + rel
	}
}

type inputChecker struct {
	v    *validator
	info *stepInfo
	base string
}

// check checks val, at rel (relative to the input), against s.
func (c inputChecker) check(rel string, val any, s *steps.Schema, top bool) {
	if s == nil {
		return
	}
	path := joinRefPath(c.base, rel)
	if str, ok := val.(string); ok && c.holdsRef(rel, str) {
		if c.exactlyOneRef(rel, str) || s.Type == "" || s.Type == steps.TypeAny || s.Type == steps.TypeString {
			return
		}
		c.v.add(path, "must be %s, but text around a reference makes a string; use a single reference with nothing around it, such as \"<<steps.opp.id>>\"", typeWithArticle(s.Type))
		return
	}
	switch s.Type {
	case "", steps.TypeAny:
		return
	case steps.TypeObject:
		m, ok := val.(map[string]any)
		if !ok {
			c.mistyped(path, s.Type, val)
			return
		}
		// A misspelt required field is reported once, as unknown with a
		// did-you-mean, not also as missing.
		meant := map[string]bool{}
		if !s.AdditionalProperties {
			for k := range m {
				if s.Properties[k] == nil {
					meant[suggest(k, s.PropertyNames())] = true
				}
			}
		}
		for _, r := range s.Required {
			if _, has := m[r]; !has && !meant[r] {
				msg := fmt.Sprintf("required field %q is missing; add it", r)
				if p := s.Properties[r]; p != nil && p.Description != "" {
					msg += " (" + strings.TrimSuffix(p.Description, ".") + ")"
				}
				c.v.add(joinRefPath(path, r), "%s", msg)
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			krel := joinKey(rel, k)
			if ks := s.Properties[k]; ks != nil {
				c.check(krel, m[k], ks, false)
				continue
			}
			if s.AdditionalProperties || (len(s.Properties) == 0 && !top) {
				continue
			}
			names := s.PropertyNames()
			msg := fmt.Sprintf("unknown field %q", k)
			switch {
			case len(names) == 0:
				msg = fmt.Sprintf("step type %q takes no input; remove %q", c.info.step.Type, k)
			case suggest(k, names) != "":
				msg += fmt.Sprintf("; did you mean %q?", suggest(k, names))
			case top:
				msg += fmt.Sprintf("; step type %q takes: %s", c.info.step.Type, strings.Join(names, ", "))
			default:
				msg += "; known fields: " + strings.Join(names, ", ")
			}
			c.v.add(joinRefPath(c.base, krel), "%s", msg)
		}
	case steps.TypeArray:
		a, ok := val.([]any)
		if !ok {
			c.mistyped(path, s.Type, val)
			return
		}
		for i, item := range a {
			c.check(joinIndex(rel, i), item, s.Items, false)
		}
	case steps.TypeString:
		str, ok := val.(string)
		if !ok {
			c.mistyped(path, s.Type, val)
			return
		}
		switch s.Format {
		case "duration":
			if _, err := Duration(str).Parse(); err != nil {
				c.v.add(path, "%v", err)
				return
			}
		case "date-time":
			if _, err := time.Parse(time.RFC3339, str); err != nil {
				c.v.add(path, "%q is not an RFC 3339 date-time; write it like \"2025-01-31T09:00:00Z\" or \"2025-01-31T09:00:00+01:00\"", str)
				return
			}
		}
	case steps.TypeNumber:
		if _, ok := val.(float64); !ok {
			c.mistyped(path, s.Type, val)
			return
		}
	case steps.TypeInteger:
		n, ok := val.(float64)
		if !ok || n != math.Trunc(n) {
			c.mistyped(path, s.Type, val)
			return
		}
	case steps.TypeBoolean:
		if _, ok := val.(bool); !ok {
			c.mistyped(path, s.Type, val)
			return
		}
	}
	if len(s.Enum) > 0 && !enumHas(s.Enum, val) {
		opts := make([]string, len(s.Enum))
		var strs []string
		for i, e := range s.Enum {
			b, _ := json.Marshal(e)
			opts[i] = string(b)
			if es, ok := e.(string); ok {
				strs = append(strs, es)
			}
		}
		msg := fmt.Sprintf("%s is not one of %s", describe(val), strings.Join(opts, ", "))
		if str, ok := val.(string); ok {
			if sug := suggest(str, strs); sug != "" {
				msg += fmt.Sprintf("; did you mean %q?", sug)
			}
		}
		c.v.add(path, "%s", msg)
	}
}

func (c inputChecker) holdsRef(rel, s string) bool {
	if c.info.compiled {
		return c.info.refs[rel] > 0
	}
	return strings.Contains(s, "<<")
}

func (c inputChecker) exactlyOneRef(rel, s string) bool {
	if !strings.HasPrefix(s, "<<") || !strings.HasSuffix(s, ">>") {
		return false
	}
	if c.info.compiled {
		return c.info.refs[rel] == 1
	}
	return strings.Count(s, "<<") == 1
}

func (c inputChecker) mistyped(path, want string, val any) {
	hints := map[string]string{
		steps.TypeObject:  "write an object such as {\"key\": \"value\"}",
		steps.TypeArray:   "write a list such as [\"a\", \"b\"]",
		steps.TypeString:  "put the value in double quotes",
		steps.TypeNumber:  "write a number such as 1.5",
		steps.TypeInteger: "write a whole number such as 10",
		steps.TypeBoolean: "write true or false",
	}
	c.v.add(path, "must be %s, got %s; %s, or a single \"<< >>\" reference", typeWithArticle(want), describe(val), hints[want])
}

func typeWithArticle(t string) string {
	switch t {
	case steps.TypeObject, steps.TypeArray, steps.TypeInteger:
		return "an " + t
	}
	return "a " + t
}

func jsonKindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	return "null"
}

// describe names a literal value for a message: `string "yes"`, `number 1.5`.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		return "string " + strconv.Quote(v)
	case float64:
		return "number " + formatNumber(v)
	case bool:
		return "boolean " + strconv.FormatBool(v)
	}
	return jsonKindOf(v)
}

func formatNumber(n float64) string {
	return strconv.FormatFloat(n, 'g', -1, 64)
}

func enumHas(enum []any, val any) bool {
	b, err := json.Marshal(val)
	if err != nil {
		return false
	}
	for _, e := range enum {
		eb, err := json.Marshal(e)
		if err == nil && bytes.Equal(b, eb) {
			return true
		}
	}
	return false
}

// checkEdges checks the edges of one scope and builds its graph from the
// valid ones.
func (v *validator) checkEdges(sc *scope) {
	base := joinKey(sc.base, "edges")
	seen := map[Edge]int{}
	for k, e := range sc.edges {
		p := joinIndex(base, k)
		from, okF := v.edgeEnd(sc, p+".from", e.From, "starts at")
		to, okT := v.edgeEnd(sc, p+".to", e.To, "leads to")
		if e.Branch != "" && okF && from.spec != nil {
			v.checkBranch(p+".branch", from, e.Branch)
		}
		if !okF || !okT {
			continue
		}
		if e.From == e.To {
			v.add(p, "the edge leads from %q to itself; remove it (a step cannot run after itself)", e.From)
			continue
		}
		if j, dup := seen[e]; dup {
			v.add(p, "duplicate of %s (%s -> %s); remove one of them", joinIndex(base, j), e.From, e.To)
			continue
		}
		seen[e] = k
		_ = to
		if !slices.Contains(sc.parents[e.To], e.From) {
			sc.parents[e.To] = append(sc.parents[e.To], e.From)
		}
		sc.children[e.From] = append(sc.children[e.From], childEdge{to: e.To, index: k})
	}
}

// edgeEnd resolves one end of an edge within its scope.
func (v *validator) edgeEnd(sc *scope, p, id, verb string) (*stepInfo, bool) {
	if id == "" {
		v.add(p, "missing; name the id of the step the edge %s", verb)
		return nil, false
	}
	if info, ok := sc.byID[id]; ok {
		return info, true
	}
	if other, ok := v.ids[id]; ok {
		switch {
		case other.scope.owner != nil && !encloses(other.scope, sc):
			v.add(p, "step %q is in the body of fanout %q: an edge cannot cross into a fanout body; connect body steps in %s", id, other.scope.owner.step.ID, joinKey(other.scope.base, "edges"))
		default:
			v.add(p, "step %q is outside fanout %q: the edges of a fanout body connect only the steps in its body; to run after %q, connect %q to %q instead, and read its output with \"<<steps.%s>>\"", id, sc.owner.step.ID, id, id, sc.owner.step.ID, id)
		}
		return nil, false
	}
	ids := make([]string, 0, len(sc.byID))
	for _, s := range sc.steps {
		if s.step.ID != "" {
			ids = append(ids, s.step.ID)
		}
	}
	if s := suggest(id, ids); s != "" {
		v.add(p, "no step %q; did you mean %q?", id, s)
	} else {
		v.add(p, "no step %q; an edge must name the id of a step in the same \"steps\" list", id)
	}
	return nil, false
}

// encloses reports whether outer is inner or one of the scopes around it.
func encloses(outer, inner *scope) bool {
	for s := inner; s != nil; {
		if s == outer {
			return true
		}
		if s.owner == nil {
			return false
		}
		s = s.owner.scope
	}
	return false
}

func (v *validator) checkBranch(p string, from *stepInfo, branch string) {
	spec := from.spec
	if !spec.HasBranches() {
		v.add(p, "step %s (%s) has no branches; remove \"branch\"", from.step.ID, from.step.Type)
		return
	}
	branches := spec.Branches(from.input)
	if slices.Contains(branches, branch) {
		return
	}
	if len(branches) == 0 {
		v.add(p, "step %s (%s) has no branch %q: it has no branches yet; name them in its input (%q)", from.step.ID, from.step.Type, branch, spec.CaseBranches)
		return
	}
	quoted := make([]string, len(branches))
	for i, b := range branches {
		quoted[i] = strconv.Quote(b)
	}
	msg := fmt.Sprintf("step %s (%s) has no branch %q; ", from.step.ID, from.step.Type, branch)
	if s := suggest(branch, branches); s != "" {
		msg += fmt.Sprintf("did you mean %q? ", s)
	}
	v.add(p, "%sits branches are %s", msg, strings.Join(quoted, ", "))
}

// checkCycles reports one cycle for every back edge a depth-first search
// meets, so every cyclic part of the graph is named.
func (v *validator) checkCycles(sc *scope) {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	base := joinKey(sc.base, "edges")
	var visit func(id string)
	visit = func(id string) {
		color[id] = grey
		stack = append(stack, id)
		for _, c := range sc.children[id] {
			switch color[c.to] {
			case white:
				visit(c.to)
			case grey:
				start := slices.Index(stack, c.to)
				cycle := append(slices.Clone(stack[start:]), c.to)
				v.add(joinIndex(base, c.index), "cycle: %s; a workflow must not loop back: remove or redirect one of these edges", strings.Join(cycle, " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
	}
	for _, s := range sc.steps {
		if id := s.step.ID; id != "" && sc.byID[id] == s && color[id] == white {
			visit(id)
		}
	}
}

// upstreamOf returns the steps that have finished whenever info runs: its
// ancestors through edges in its own DAG and, inside a fanout body, the
// fanout's upstream steps.
func (v *validator) upstreamOf(info *stepInfo) map[string]*stepInfo {
	if info.upstream != nil {
		return info.upstream
	}
	up := map[string]*stepInfo{}
	sc := info.scope
	queue := slices.Clone(sc.parents[info.step.ID])
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if _, done := up[id]; done || id == info.step.ID {
			continue
		}
		up[id] = sc.byID[id]
		queue = append(queue, sc.parents[id]...)
	}
	if sc.owner != nil {
		for id, s := range v.upstreamOf(sc.owner) {
			up[id] = s
		}
	}
	info.upstream = up
	return up
}

func (v *validator) checkReferences(info *stepInfo) {
	if info.tmpl == nil {
		return
	}
	p := info.path + ".input"
	id := info.step.ID
	inFanout := info.scope.owner != nil
	roots := baseRoots
	if inFanout {
		roots = fanoutRoots
	}
	// A step without an id of its own has no place in the graph: check only
	// the roots of its references.
	placed := id != "" && v.ids[id] == info
	up := map[string]*stepInfo{}
	if placed {
		up = v.upstreamOf(info)
	}
	flagged := map[string]bool{}
	for sp := range info.syntax {
		flagged[sp] = true
	}
	for _, r := range info.tmpl.Refs() {
		rp := joinRefPath(p, r.Path)
		expr := showExpr(r.Expr)
		for _, root := range r.Roots {
			if slices.Contains(roots, root) {
				continue
			}
			flagged[rp] = true
			switch {
			case root == "item" || root == "index":
				v.add(rp, "%q in %s is defined only inside a fanout body (the current item and its position); known roots here: %s", root, expr, strings.Join(roots, ", "))
			case suggest(root, roots) != "":
				v.add(rp, "unknown root %q in %s; did you mean %q? known roots: %s", root, expr, suggest(root, roots), strings.Join(roots, ", "))
			default:
				v.add(rp, "unknown root %q in %s; known roots: %s", root, expr, strings.Join(roots, ", "))
			}
		}
		for _, sid := range r.Steps {
			if _, ok := up[sid]; ok || !placed {
				continue
			}
			flagged[rp] = true
			target, exists := v.ids[sid]
			switch {
			case !exists:
				ids := make([]string, 0, len(v.ids))
				for _, s := range v.all {
					if v.ids[s.step.ID] == s && s.step.ID != "" {
						ids = append(ids, s.step.ID)
					}
				}
				msg := fmt.Sprintf("steps.%s in %s is not a step of this workflow", sid, expr)
				if s := suggest(sid, ids); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				v.add(rp, "%s", msg)
			case sid == id:
				v.add(rp, "step %s reads its own output in %s; a step can read only steps that run before it", id, expr)
			case target.scope.owner != nil && !encloses(target.scope, info.scope):
				v.add(rp, "steps.%s in %s is inside fanout %s and cannot be read outside its body; read steps.%s, the list of per-item results, instead", sid, expr, target.scope.owner.step.ID, target.scope.owner.step.ID)
			default:
				v.add(rp, "steps.%s is not upstream of %s: add an edge path from %s to %s, or reference a step that runs before %s", sid, id, sid, id, id)
			}
		}
	}

	if !placed {
		return
	}
	env := v.env(up, inFanout)
	for _, pr := range templating.Check(info.tmpl, env) {
		pp := joinRefPath(p, pr.Path)
		if flagged[pp] {
			continue
		}
		msg := pr.Message
		if m := undeclaredVar.FindStringSubmatchIndex(msg); m != nil {
			key, err := strconv.Unquote(msg[m[2]:m[3]])
			switch {
			case err != nil:
			case len(v.w.Vars) == 0:
				msg = fmt.Sprintf("%s: the workflow declares no vars; add \"vars\": {%q: ...}", msg[:m[0]], key)
			default:
				names := make([]string, 0, len(v.w.Vars))
				for k := range v.w.Vars {
					names = append(names, k)
				}
				sort.Strings(names)
				msg += fmt.Sprintf("; the workflow declares %s: add %q to \"vars\" or read one of those", strings.Join(names, ", "), key)
			}
		}
		v.add(pp, "%s", msg)
	}
}

// undeclaredVar matches what templating.Check says of a field of vars that
// the workflow does not declare, when it has no suggestion to make; group 1
// is the quoted field name.
var undeclaredVar = regexp.MustCompile(`: no field ("(?:[^"\\]|\\.)*") in vars$`)

// env returns the shapes references of a step may read.
func (v *validator) env(up map[string]*stepInfo, inFanout bool) map[string]*templating.Shape {
	stepShapes := &templating.Shape{Type: steps.TypeObject, Properties: map[string]*templating.Shape{}}
	for id, s := range up {
		stepShapes.Properties[id] = outputShape(s)
	}
	str := &templating.Shape{Type: steps.TypeString}
	open := &templating.Shape{Type: steps.TypeObject, Open: true}
	env := map[string]*templating.Shape{
		"trigger": templating.Any,
		"steps":   stepShapes,
		"run": {Type: steps.TypeObject, Properties: map[string]*templating.Shape{
			"id": str, "workflow_id": str, "started_at": str,
		}},
		"user": {Type: steps.TypeObject, Properties: map[string]*templating.Shape{
			"id": str, "metadata": open, "settings": open,
		}},
		"vars": open,
	}
	switch {
	case v.varsUnread:
		// vars are in the document but could not be read: anything goes.
	case len(v.w.Vars) == 0:
		// No vars declared: reading one is a mistake found on save, not a
		// run-time "no field" failure.
		env["vars"] = &templating.Shape{Type: steps.TypeObject, Properties: map[string]*templating.Shape{}}
	default:
		env["vars"] = shapeOfValue(v.w.Vars)
	}
	if inFanout {
		env["item"] = templating.Any
		env["index"] = &templating.Shape{Type: steps.TypeInteger}
	}
	return env
}

// errorShape is what a step that failed with on_error: continue outputs
// under "error".
var errorShape = &templating.Shape{Type: steps.TypeObject, Properties: map[string]*templating.Shape{
	"message": {Type: steps.TypeString},
	"code":    {Type: steps.TypeString},
}}

func outputShape(s *stepInfo) *templating.Shape {
	if s == nil || s.spec == nil {
		return templating.Any
	}
	out := s.spec.Output.Shape()
	if s.spec.Container {
		out = &templating.Shape{Type: steps.TypeArray, Items: templating.Any}
	}
	if s.step.OnError != OnErrorContinue {
		return out
	}
	// A step that continues on error outputs {"error": {...}} (a fanout
	// also "items" and "failed") in place of its usual output.
	if s.spec.Container || out.Type != steps.TypeObject {
		return templating.Any
	}
	widened := *out
	widened.Properties = make(map[string]*templating.Shape, len(out.Properties)+1)
	for k, p := range out.Properties {
		widened.Properties[k] = p
	}
	widened.Properties["error"] = errorShape
	return &widened
}

// shapeOfValue is the shape of a literal JSON value (the workflow's vars).
func shapeOfValue(v any) *templating.Shape {
	switch v := v.(type) {
	case map[string]any:
		sh := &templating.Shape{Type: steps.TypeObject, Properties: map[string]*templating.Shape{}}
		for k, x := range v {
			sh.Properties[k] = shapeOfValue(x)
		}
		return sh
	case []any:
		sh := &templating.Shape{Type: steps.TypeArray, Items: templating.Any}
		if len(v) > 0 {
			first := shapeOfValue(v[0])
			same := true
			for _, x := range v[1:] {
				if shapeOfValue(x).Type != first.Type {
					same = false
					break
				}
			}
			if same && first.Type != steps.TypeObject {
				sh.Items = first
			}
		}
		return sh
	case string:
		return &templating.Shape{Type: steps.TypeString}
	case float64:
		return &templating.Shape{Type: steps.TypeNumber}
	case bool:
		return &templating.Shape{Type: steps.TypeBoolean}
	}
	return templating.Any
}

// orderOf is the position of path p in a document order: that of p, or of
// its nearest ancestor that has one.
func orderOf(order map[string]int, p string) int {
	for {
		if n, ok := order[p]; ok {
			return n
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return 0
		}
		p = p[:i]
	}
}

// sortProblems orders problems by where their paths appear in the
// canonical document; problems at the same place keep their order.
func sortProblems(w *Workflow, problems []Problem) {
	order := documentOrder(w)
	key := func(p string) int { return orderOf(order, p) }
	sort.SliceStable(problems, func(i, j int) bool {
		return key(problems[i].Path) < key(problems[j].Path)
	})
}

// documentOrder numbers every path of the canonical form of w in order.
func documentOrder(w *Workflow) map[string]int {
	order := map[string]int{"": 0}
	add := func(p string) {
		if _, ok := order[p]; !ok {
			order[p] = len(order)
		}
	}
	for _, f := range []string{"name", "description", "trigger", "trigger.type", "trigger.connection", "trigger.cron", "trigger.timezone", "vars", "timeout"} {
		add(f)
	}
	var addSteps func(base string, list []Step, edges []Edge)
	addEdges := func(base string, edges []Edge) {
		add(joinKey(base, "edges"))
		for k := range edges {
			p := joinIndex(joinKey(base, "edges"), k)
			add(p)
			add(p + ".from")
			add(p + ".to")
			add(p + ".branch")
		}
	}
	addSteps = func(base string, list []Step, edges []Edge) {
		add(joinKey(base, "steps"))
		for i := range list {
			st := &list[i]
			p := joinIndex(joinKey(base, "steps"), i)
			add(p)
			for _, f := range []string{"id", "type", "name", "connection", "input"} {
				add(p + "." + f)
			}
			walkRaw(st.Input, p+".input", add)
			for _, f := range []string{"retry", "retry.max_attempts", "retry.backoff", "retry.initial", "retry.max", "timeout", "on_error"} {
				add(p + "." + f)
			}
			addSteps(p, st.Steps, st.Edges)
			add(p + ".position")
		}
		addEdges(base, edges)
	}
	addSteps("", w.Steps, w.Edges)
	return order
}

// walkRaw calls add with the path of every value inside raw, in order.
func walkRaw(raw json.RawMessage, base string, add func(string)) {
	if len(raw) == 0 {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // a number out of range is still a value with a path
	var walk func(path string) bool
	walk = func(path string) bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		add(path)
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return false
				}
				key, _ := k.(string)
				if !walk(joinRefPath(path, key)) {
					return false
				}
			}
			_, err = dec.Token()
			return err == nil
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if !walk(joinIndex(path, i)) {
					return false
				}
			}
			_, err = dec.Token()
			return err == nil
		}
		return true
	}
	walk(base)
}
