// Package workflow is the leaf vocabulary of the engine: the workflow
// document (Workflow, Step, Edge, Trigger), its strict JSON decoding and
// validation, and the records of a run (Run, StepRun and their statuses).
//
// A workflow is a JSON DAG of steps started by a trigger. Decode is strict:
// an unknown field anywhere is an error, so a typo in a hand-written file is
// caught instead of silently ignored. Step inputs are kept as raw JSON so a
// document round-trips byte-stable through Decode and Encode: key order and
// number spelling are the author's.
package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxSteps is the most steps a workflow may hold, counting the steps inside
// fanouts.
const MaxSteps = 500

// Workflow is one version of a workflow document.
type Workflow struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Trigger     Trigger        `json:"trigger"`
	Vars        map[string]any `json:"vars,omitempty"`
	// Timeout bounds a whole run (a Go duration such as "10m"); empty means
	// no limit beyond the steps' own.
	Timeout Duration `json:"timeout,omitempty"`
	// Concurrency limits how many runs of the workflow run at once,
	// optionally per key (one run at a time per opportunity); the others
	// wait in order. Nil means no limit beyond the engine's worker pool.
	Concurrency *Concurrency `json:"concurrency,omitempty"`
	// Retention is how long finished runs are kept (a Go duration, or a
	// number of days such as "30d"); empty means the server's default
	// (DefaultRetention).
	Retention Duration `json:"retention,omitempty"`
	// RedactPII, when true, replaces candidate emails, phone numbers and
	// names in the run data the store keeps (step inputs and outputs, the
	// trigger) with "[redacted]"; the steps themselves see the real values.
	RedactPII bool `json:"redact_pii,omitempty"`
	// OnFailure says who hears of a failed run.
	OnFailure *OnFailure `json:"on_failure,omitempty"`
	Steps     []Step     `json:"steps"`
	Edges     []Edge     `json:"edges,omitempty"`
}

// DefaultRetention is how long finished runs are kept when a workflow
// names no retention.
const DefaultRetention = 30 * 24 * time.Hour

// Concurrency is a workflow's limit on simultaneous runs.
type Concurrency struct {
	// Limit is how many runs may run at once (per key when Key is set).
	Limit int `json:"limit"`
	// Key, when set, is a reference such as "<<trigger.opportunityId>>":
	// the limit applies per value of it.
	Key string `json:"key,omitempty"`
}

// OnFailure names what is told of a failed run: an error workflow started
// with the failed run's summary as its trigger data, and a URL the summary
// is POSTed to as JSON.
type OnFailure struct {
	Workflow string `json:"workflow,omitempty"`
	Webhook  string `json:"webhook,omitempty"`
}

// Trigger says what starts a run.
type Trigger struct {
	Type       string `json:"type"`
	Connection string `json:"connection,omitempty"`
	// Cron and Timezone are a schedule's.
	Cron     string `json:"cron,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	// Overlap says what a schedule does when a slot comes while the last
	// slot's run is still going: skip (the default), queue or allow.
	Overlap string `json:"overlap,omitempty"`
	// CatchUp says what a schedule does with slots missed while the server
	// was down: none (the default), last, or all of them up to CatchUpMax
	// (default DefaultCatchUpMax).
	CatchUp    string `json:"catch_up,omitempty"`
	CatchUpMax int    `json:"catch_up_max,omitempty"`
	// PollInterval is how often a polled Lever trigger asks Lever for
	// changes (default DefaultPollInterval, at least MinPollInterval).
	PollInterval Duration `json:"poll_interval,omitempty"`
}

// The values of Trigger.Overlap and Trigger.CatchUp, and the polling
// bounds.
const (
	OverlapSkip  = "skip"
	OverlapQueue = "queue"
	OverlapAllow = "allow"

	CatchUpNone = "none"
	CatchUpLast = "last"
	CatchUpAll  = "all"

	DefaultCatchUpMax   = 10
	MaxCatchUpMax       = 1000
	DefaultPollInterval = time.Minute
	MinPollInterval     = time.Second
)

// Step is one node of the DAG.
type Step struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Name       string          `json:"name,omitempty"`
	Connection string          `json:"connection,omitempty"`
	Input      json.RawMessage `json:"input,omitempty"`
	Retry      *RetryPolicy    `json:"retry,omitempty"`
	Timeout    Duration        `json:"timeout,omitempty"`
	OnError    OnError         `json:"on_error,omitempty"`
	// Steps and Edges are the body of a container step (fanout), run once
	// per item.
	Steps    []Step    `json:"steps,omitempty"`
	Edges    []Edge    `json:"edges,omitempty"`
	Position *Position `json:"position,omitempty"`
}

// Edge connects two steps. Branch, when set, makes the edge active only when
// the parent chose that branch (condition: "true"/"false"; switch: a case
// name or "default").
type Edge struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Branch string `json:"branch,omitempty"`
}

// Position is where the editor draws a step; the engine ignores it.
type Position struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// OnError says what a step's final failure does to the run.
type OnError string

// The values of OnError. The zero value means OnErrorFail.
const (
	OnErrorFail     OnError = "fail"
	OnErrorContinue OnError = "continue"
)

// RetryPolicy says how often and how fast a failing step is tried again.
// Errors marked permanent are never retried.
type RetryPolicy struct {
	MaxAttempts int      `json:"max_attempts,omitempty"`
	Backoff     string   `json:"backoff,omitempty"` // "exponential" (default) or "fixed"
	Initial     Duration `json:"initial,omitempty"`
	Max         Duration `json:"max,omitempty"`
}

// The back-off kinds of RetryPolicy.Backoff.
const (
	BackoffExponential = "exponential"
	BackoffFixed       = "fixed"
)

// DefaultRetry is the policy of a step that sets none.
var DefaultRetry = RetryPolicy{MaxAttempts: 3, Backoff: BackoffExponential, Initial: "1s", Max: "1m"}

// Duration is a Go duration string ("1.5s", "2m"). It is kept as written so
// documents round-trip unchanged; Parse reads it.
type Duration string

// Parse returns the duration; the empty Duration is zero.
func (d Duration) Parse() (time.Duration, error) {
	if d == "" {
		return 0, nil
	}
	var v time.Duration
	var err error
	if days, ok := strings.CutSuffix(string(d), "d"); ok {
		// Days, as retention is said: "30d".
		var n float64
		n, err = strconv.ParseFloat(days, 64)
		v = time.Duration(n * float64(24*time.Hour))
		if n > 1e5 {
			err = errors.New("too many days")
		}
	} else {
		v, err = time.ParseDuration(string(d))
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: use a number with a unit such as \"30s\", \"5m\", \"1h\" or \"30d\"", string(d))
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is negative: durations must be positive", string(d))
	}
	return v, nil
}

// Std returns the parsed duration, or def when d is empty or invalid.
// Validated workflows never hold an invalid duration.
func (d Duration) Std(def time.Duration) time.Duration {
	v, err := d.Parse()
	if err != nil || d == "" {
		return def
	}
	return v
}

// Effective returns the retry policy in force for the step, with defaults
// filled in.
func (s *Step) Effective() RetryPolicy {
	p := DefaultRetry
	if s.Retry == nil {
		return p
	}
	if s.Retry.MaxAttempts > 0 {
		p.MaxAttempts = s.Retry.MaxAttempts
	}
	if s.Retry.Backoff != "" {
		p.Backoff = s.Retry.Backoff
	}
	if s.Retry.Initial != "" {
		p.Initial = s.Retry.Initial
	}
	if s.Retry.Max != "" {
		p.Max = s.Retry.Max
	}
	return p
}

// InputMap decodes the step's input into generic JSON values (objects as
// map[string]any, numbers as float64). A step without input gives an empty
// map.
func (s *Step) InputMap() (map[string]any, error) {
	if len(s.Input) == 0 {
		return map[string]any{}, nil
	}
	var m map[string]any
	if err := json.Unmarshal(s.Input, &m); err != nil {
		return nil, fmt.Errorf("step %s: input must be a JSON object: %w", s.ID, err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}
