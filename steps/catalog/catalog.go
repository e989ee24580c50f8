package catalog

import (
	"fmt"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/core"
	"github.com/leverflow/leverflow/steps/lever"
)

// Options configures the step families.
type Options struct {
	// Core configures the built-in steps (http.request's client and limits).
	Core core.Options
	// Lever gives the Lever steps a client per connection. Nil registers
	// them all the same (validation and the editor need them), but running
	// one fails with lever.ErrNoConnections.
	Lever lever.Clients
}

// New returns a registry holding every step type Leverflow offers: the core
// steps, then the Lever steps.
func New(opts Options) (*steps.Registry, error) {
	reg := steps.NewRegistry()
	if err := core.Register(reg, opts.Core); err != nil {
		return nil, fmt.Errorf("building the step catalog: %w", err)
	}
	if err := lever.Register(reg, opts.Lever); err != nil {
		return nil, fmt.Errorf("building the step catalog: %w", err)
	}
	return reg, nil
}
