// Package catalog is the one place that decides which step families exist.
// New builds the registry the engine, the validator, the API's
// GET /step-types and the CLI share; adding a family is one line here.
package catalog
