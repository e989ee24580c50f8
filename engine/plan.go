package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/templating"
)

// ErrInvalidWorkflow wraps the problems of a workflow that does not
// validate; errors.As with *InvalidError gives the list.
var ErrInvalidWorkflow = errors.New("invalid workflow")

// InvalidError carries every validation problem of a workflow.
type InvalidError struct {
	Problems []workflow.Problem
}

func (e *InvalidError) Error() string {
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		parts = append(parts, p.String())
	}
	return fmt.Sprintf("invalid workflow: %s", strings.Join(parts, "; "))
}

func (e *InvalidError) Unwrap() error { return ErrInvalidWorkflow }

// plan is a validated workflow version compiled for execution: templates
// parsed, specs looked up, graph edges indexed. Plans are immutable and
// shared by every run of the version.
type plan struct {
	workflowID string
	version    int
	wf         *workflow.Workflow
	root       *scope
	nodes      map[string]*node // every step, fanout bodies included, by id
	timeout    time.Duration
	vars       map[string]any
}

// scope is one DAG: the workflow's top level or a fanout's body.
type scope struct {
	nodes []*node // in topological order
}

type node struct {
	step          *workflow.Step
	spec          *steps.Spec
	input         *templating.Template
	parents       []inEdge
	isLeaf        bool // no outgoing edge: a fanout item's result comes from leaves
	body          *scope
	retry         retryPolicy
	timeout       time.Duration
	continueOnErr bool
	// sensitive says the step's input schema marks a field sensitive: its
	// stored input is redacted (see redactSensitive).
	sensitive bool
}

type inEdge struct {
	from   *node
	branch string
}

type retryPolicy struct {
	maxAttempts int
	fixed       bool
	initial     time.Duration
	max         time.Duration
}

// defaultStepTimeout bounds one attempt of a step that sets no timeout.
const defaultStepTimeout = 10 * time.Minute

func compilePlan(workflowID string, version int, wf *workflow.Workflow, reg Catalog) (*plan, error) {
	if probs := workflow.Validate(wf, workflow.ValidateOptions{Steps: reg}); len(probs) > 0 {
		return nil, &InvalidError{Problems: probs}
	}
	root, err := compileScope(wf.Steps, wf.Edges, reg)
	if err != nil {
		return nil, err
	}
	timeout, _ := wf.Timeout.Parse()
	nodes := map[string]*node{}
	var index func(*scope)
	index = func(sc *scope) {
		for _, n := range sc.nodes {
			nodes[n.step.ID] = n
			if n.body != nil {
				index(n.body)
			}
		}
	}
	index(root)
	return &plan{workflowID: workflowID, version: version, wf: wf, root: root, nodes: nodes, timeout: timeout, vars: wf.Vars}, nil
}

func compileScope(stepList []workflow.Step, edges []workflow.Edge, reg Catalog) (*scope, error) {
	byID := make(map[string]*node, len(stepList))
	order := make([]*node, 0, len(stepList))
	for i := range stepList {
		st := &stepList[i]
		spec, ok := reg.Lookup(st.Type)
		if !ok {
			return nil, fmt.Errorf("step %s: unknown step type %q", st.ID, st.Type)
		}
		in, err := st.InputMap()
		if err != nil {
			return nil, err
		}
		tpl, err := templating.Compile(in)
		if err != nil {
			return nil, fmt.Errorf("step %s: %w", st.ID, err)
		}
		pol := st.Effective()
		n := &node{
			step:          st,
			spec:          spec,
			input:         tpl,
			isLeaf:        true,
			timeout:       st.Timeout.Std(defaultStepTimeout),
			continueOnErr: st.OnError == workflow.OnErrorContinue,
			sensitive:     hasSensitive(spec.Input),
			retry: retryPolicy{
				maxAttempts: pol.MaxAttempts,
				fixed:       pol.Backoff == workflow.BackoffFixed,
				initial:     pol.Initial.Std(time.Second),
				max:         pol.Max.Std(time.Minute),
			},
		}
		if spec.Container {
			n.body, err = compileScope(st.Steps, st.Edges, reg)
			if err != nil {
				return nil, fmt.Errorf("fanout %s: %w", st.ID, err)
			}
		}
		byID[st.ID] = n
		order = append(order, n)
	}
	for _, e := range edges {
		from, to := byID[e.From], byID[e.To]
		if from == nil || to == nil {
			return nil, fmt.Errorf("edge %s -> %s: unknown step", e.From, e.To)
		}
		to.parents = append(to.parents, inEdge{from: from, branch: e.Branch})
		from.isLeaf = false
	}
	sorted, err := topoSort(order)
	if err != nil {
		return nil, err
	}
	return &scope{nodes: sorted}, nil
}

// topoSort orders nodes so every parent comes before its children, keeping
// document order among independent steps.
func topoSort(nodes []*node) ([]*node, error) {
	placed := make(map[*node]bool, len(nodes))
	out := make([]*node, 0, len(nodes))
	for len(out) < len(nodes) {
		progress := false
		for _, n := range nodes {
			if placed[n] {
				continue
			}
			ready := true
			for _, p := range n.parents {
				if !placed[p.from] {
					ready = false
					break
				}
			}
			if ready {
				placed[n] = true
				out = append(out, n)
				progress = true
			}
		}
		if !progress {
			return nil, errors.New("workflow has a cycle")
		}
	}
	return out, nil
}

// planCache holds compiled plans by workflow id and version. Versions are
// immutable, so entries never go stale; the cache is bounded.
type planCache struct {
	mu    sync.Mutex
	plans map[string]*plan
}

const planCacheSize = 1024

func (c *planCache) get(ctx context.Context, st store.Store, reg Catalog, workflowID string, version int) (*plan, error) {
	if version == 0 {
		// "The latest" changes with every save: ask the store which it is,
		// reading the workflow's row only (not the definition: the plan
		// of that version is usually cached). A deleted workflow has no
		// latest version.
		w, err := st.GetWorkflow(ctx, workflowID)
		if err != nil {
			return nil, fmt.Errorf("loading workflow %s: %w", workflowID, err)
		}
		version = w.LatestVersion
	}
	var v *store.WorkflowVersion
	key := fmt.Sprintf("%s@%d", workflowID, version)
	c.mu.Lock()
	p := c.plans[key]
	c.mu.Unlock()
	if p != nil {
		return p, nil
	}
	if v == nil {
		var err error
		if v, err = st.GetWorkflowVersion(ctx, workflowID, version); err != nil {
			return nil, fmt.Errorf("loading workflow %s version %d: %w", workflowID, version, err)
		}
	}
	wf, probs := workflow.Decode(v.Definition)
	if len(probs) > 0 {
		return nil, &InvalidError{Problems: probs}
	}
	p, err := compilePlan(workflowID, v.Version, wf, reg)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.plans == nil || len(c.plans) >= planCacheSize {
		c.plans = make(map[string]*plan)
	}
	c.plans[key] = p
	c.mu.Unlock()
	return p, nil
}
