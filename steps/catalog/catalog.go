package catalog

import (
	"fmt"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/core"
)

// Options configures the step families.
type Options struct {
	// Core configures the built-in steps (http.request's client and limits).
	Core core.Options
}

// New returns a registry holding every step type Leverflow offers.
func New(opts Options) (*steps.Registry, error) {
	reg := steps.NewRegistry()
	if err := core.Register(reg, opts.Core); err != nil {
		return nil, fmt.Errorf("building the step catalog: %w", err)
	}
	// The Lever steps (steps/lever: lever.get_opportunity, ...) are
	// registered here, after core, when that package lands: they take the
	// connections they call Lever through, which will arrive as a field of
	// Options.
	return reg, nil
}
