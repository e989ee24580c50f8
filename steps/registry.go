package steps

import (
	"fmt"
	"regexp"
	"sort"
)

var typePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// Registry holds the step types a process knows. It is built explicitly at
// start-up and read-only afterwards, so lookups need no lock.
type Registry struct {
	specs map[string]*Spec
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{specs: map[string]*Spec{}}
}

// Add registers spec. It refuses a duplicate type (ErrDuplicateType) and a
// spec that is not runnable.
func (r *Registry) Add(spec Spec) error {
	if !typePattern.MatchString(spec.Type) {
		return fmt.Errorf("adding step type %q: type must be lower-case words joined by dots", spec.Type)
	}
	if _, dup := r.specs[spec.Type]; dup {
		return fmt.Errorf("adding step type %q: %w", spec.Type, ErrDuplicateType)
	}
	if spec.Run == nil && !spec.Container {
		return fmt.Errorf("adding step type %q: no Run handler", spec.Type)
	}
	if spec.Container && spec.Items == nil {
		return fmt.Errorf("adding step type %q: a container needs Items to read its input", spec.Type)
	}
	if spec.HasBranches() && spec.BranchOf == nil {
		return fmt.Errorf("adding step type %q: has branches but no BranchOf", spec.Type)
	}
	if spec.Input == nil {
		spec.Input = &Schema{Type: TypeObject}
	}
	if spec.Output == nil {
		spec.Output = &Schema{Type: TypeAny}
	}
	s := spec
	r.specs[spec.Type] = &s
	return nil
}

// Lookup returns the spec of a step type.
func (r *Registry) Lookup(typ string) (*Spec, bool) {
	s, ok := r.specs[typ]
	return s, ok
}

// Types returns every registered type, sorted.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.specs))
	for t := range r.specs {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// All returns every spec, sorted by type.
func (r *Registry) All() []*Spec {
	types := r.Types()
	out := make([]*Spec, len(types))
	for i, t := range types {
		out[i] = r.specs[t]
	}
	return out
}
