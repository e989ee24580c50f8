// Package steps owns the step contract: what a step type is (Spec, with its
// input and output Schema, branches and examples), how it is run (Handler,
// Request), how it reports failure (retryable unless Permanent, with an
// optional Retry-After, or a Sleep that parks the run), and the Registry that
// holds the step types a process knows. Step families (steps/core,
// steps/lever) add their specs to a Registry explicitly; nothing registers
// itself.
package steps

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Handler runs one attempt of a step. It returns the step's output, a JSON
// value: any value encoding/json can marshal.
type Handler func(ctx context.Context, req *Request) (any, error)

// Request is what a step attempt gets.
type Request struct {
	RunID  string
	StepID string
	// Key identifies the step run: the step id, or for a step inside a
	// fanout "<fanout key>[<index>].<step id>".
	Key     string
	Attempt int
	// Connection is the name of the step's connection ("" for a step
	// without one), and UserID the connected user the run belongs to (""
	// for the workspace's own); together they name the account a Lever
	// step calls.
	Connection string
	UserID     string
	// Input is the resolved input: references rendered, decoded JSON
	// (objects are map[string]any).
	Input map[string]any
	// Now is the engine's clock at the start of the attempt.
	Now time.Time
	// StartedAt is when the step's first attempt started; a delay counts
	// from it, so a parked and woken step does not wait twice.
	StartedAt time.Time
}

// Spec describes a step type: everything the validator, the editor's catalog
// and the engine need.
type Spec struct {
	Type        string  `json:"type"`
	Title       string  `json:"title"`
	Category    string  `json:"category"`
	Description string  `json:"description"`
	Input       *Schema `json:"input"`
	Output      *Schema `json:"output"`
	// StaticBranches are the branch names every step of this type has
	// (condition: "true", "false").
	StaticBranches []string `json:"branches,omitempty"`
	// CaseBranches, when set, names the input field holding a list of
	// {name, ...} objects whose names are further branches (switch: "cases").
	CaseBranches string `json:"case_branches,omitempty"`
	// BranchOf picks the branch from a step's output; nil for a step type
	// without branches.
	BranchOf func(output any) (string, error) `json:"-"`
	// Container marks a step that holds its own steps and edges (fanout). The
	// engine runs it; Run is nil and Items is set.
	Container bool `json:"container,omitempty"`
	// Items reads a container's rendered input: the items to run its body
	// for and how many may run at once. Its errors are shown to the user.
	Items func(input map[string]any) (items []any, concurrency int, err error) `json:"-"`
	// NeedsConnection marks a step that must name a connection.
	NeedsConnection bool      `json:"needs_connection,omitempty"`
	Examples        []Example `json:"examples,omitempty"`
	Run             Handler   `json:"-"`
	// Check, when set, checks a step's literal (unrendered) input beyond
	// what Input's schema says: rules such as "case names are unique". The
	// validator calls it on save and reports each problem at
	// steps[i].input.<Path>. It must skip every value that holds a
	// reference (see HasReference), whose value is known only at run time,
	// and leave to the schema what the schema checks (required fields, JSON
	// types, enums). The step's handler should apply the same rules to the
	// rendered input through the same functions, so that a rule gives the
	// same message on save and at run time.
	Check func(input map[string]any) []Problem `json:"-"`
}

// Problem is one thing wrong with a step's input found by Spec.Check.
type Problem struct {
	// Path is where, relative to the step's input: "" for the input as a
	// whole, "url", "cases[1].name".
	Path string
	// Message says what is wrong and how to fix it, without the path.
	Message string
}

// String returns the problem as a run-time error names it:
// "input.cases[1].name: message", or "input: message" for the input as a
// whole.
func (p Problem) String() string {
	switch {
	case p.Path == "":
		return "input: " + p.Message
	case p.Path[0] == '[':
		return "input" + p.Path + ": " + p.Message
	}
	return "input." + p.Path + ": " + p.Message
}

// Err returns the problem as a permanent step error (see String).
func (p Problem) Err() error {
	return Permanentf("%s", p.String())
}

// HasReference reports whether v, a literal (unrendered) input value, holds
// a "<< >>" reference anywhere: a string with a "<<" that is not escaped as
// "\<<", or a list or object holding such a string. A value with a
// reference is known only at run time, so static checks skip it.
func HasReference(v any) bool {
	switch v := v.(type) {
	case string:
		for i := 0; i+1 < len(v); {
			j := strings.Index(v[i:], "<<")
			if j < 0 {
				return false
			}
			j += i
			if j == 0 || v[j-1] != '\\' {
				return true
			}
			i = j + 2
		}
	case []any:
		for _, x := range v {
			if HasReference(x) {
				return true
			}
		}
	case map[string]any:
		for _, x := range v {
			if HasReference(x) {
				return true
			}
		}
	}
	return false
}

// Example is a documented use of a step type. A test runs every registered
// example and compares the output.
type Example struct {
	Name   string          `json:"name"`
	Input  json.RawMessage `json:"input"`
	Output json.RawMessage `json:"output,omitempty"`
	// Error, when set, is a substring of the error the example must fail with.
	Error string `json:"error,omitempty"`
}

// Branches returns the branch names of a step with the given (unrendered)
// input: the static ones plus one per named case.
func (s *Spec) Branches(input map[string]any) []string {
	// Each name is listed once, however often it appears.
	var out []string
	add := func(name string) {
		if name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, b := range s.StaticBranches {
		add(b)
	}
	if s.CaseBranches == "" {
		return out
	}
	cases, _ := input[s.CaseBranches].([]any)
	for _, c := range cases {
		if m, ok := c.(map[string]any); ok {
			if name, ok := m["name"].(string); ok {
				add(name)
			}
		}
	}
	return out
}

// HasBranches reports whether steps of this type choose a branch.
func (s *Spec) HasBranches() bool {
	return len(s.StaticBranches) > 0 || s.CaseBranches != ""
}
