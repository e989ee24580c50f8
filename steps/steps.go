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
	Key        string
	Attempt    int
	Connection string
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
	out := append([]string(nil), s.StaticBranches...)
	if s.CaseBranches == "" {
		return out
	}
	cases, _ := input[s.CaseBranches].([]any)
	for _, c := range cases {
		if m, ok := c.(map[string]any); ok {
			if name, ok := m["name"].(string); ok && name != "" {
				out = append(out, name)
			}
		}
	}
	return out
}

// HasBranches reports whether steps of this type choose a branch.
func (s *Spec) HasBranches() bool {
	return len(s.StaticBranches) > 0 || s.CaseBranches != ""
}
