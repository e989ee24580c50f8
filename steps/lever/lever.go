package lever

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/lever/client"
)

// Category is the catalog category of every Lever step.
const Category = "Lever"

// ErrNoConnections is the cause of every Lever step's failure in a process
// registered with a nil Clients.
var ErrNoConnections = errors.New("no Lever connections are configured in this process")

// Clients gives a step the Lever client for its connection.
type Clients interface {
	Client(ctx context.Context, userID, connection string) (*client.Client, error)
}

// Register adds the Lever step types to reg. A nil clients registers them
// all the same (the catalog, validation and the editor need them), but every
// run fails permanently with ErrNoConnections.
func Register(reg *steps.Registry, clients Clients) error {
	return RegisterWithOptions(reg, clients, Options{})
}

func register(reg *steps.Registry, f *family) error {
	for _, spec := range []steps.Spec{
		f.createOpportunitySpec(),
		f.getOpportunitySpec(),
		f.getOpportunitiesSpec(),
		f.updateOpportunityStageSpec(),
		f.archiveOpportunitySpec(),
		f.unarchiveOpportunitySpec(),
		f.opportunityTagsSpec(true),
		f.opportunityTagsSpec(false),
		f.updateContactSpec(),
		f.getContactSpec(),
		f.createPostingSpec(),
		f.updatePostingSpec(),
		f.getPostingSpec(),
		f.getPostingsSpec(),
		f.getUsersSpec(),
		f.getUserSpec(),
		f.requestSpec(),
	} {
		spec.Category = Category
		spec.NeedsConnection = true
		spec.Run = f.throttled(spec.Run)
		if err := reg.Add(spec); err != nil {
			return fmt.Errorf("registering Lever steps: %w", err)
		}
	}
	return nil
}

// family holds what every Lever step shares.
type family struct {
	clients Clients
	// maxWait is Options.MaxThrottleWait.
	maxWait time.Duration
}

// client returns the Lever client for the step's connection. Its errors
// are permanent (a missing or unusable connection does not fix itself)
// unless Clients returned a retryable *steps.Error or the context ended.
func (f *family) client(ctx context.Context, req *steps.Request) (*client.Client, error) {
	if f.clients == nil {
		return nil, steps.Permanent(ErrNoConnections)
	}
	if c := clientOf(ctx); c != nil {
		return c, nil
	}
	c, err := f.clients.Client(ctx, req.UserID, req.Connection)
	if err == nil && c == nil {
		err = errors.New("no client was returned for it")
	}
	if err != nil {
		wrapped := fmt.Errorf("connection %q: %w", req.Connection, err)
		var se *steps.Error
		if (errors.As(err, &se) && !steps.IsPermanent(err)) || ctx.Err() != nil {
			return nil, wrapped
		}
		return nil, steps.Permanent(wrapped)
	}
	return c, nil
}

// clientForID checks the Lever id the step is about (input field name)
// and returns the client for the step's connection.
func (f *family) clientForID(ctx context.Context, req *steps.Request, name, id string) (*client.Client, error) {
	if err := requireID(name, id); err != nil {
		return nil, err
	}
	return f.client(ctx, req)
}

// leverError maps an error from the client onto the step contract: a 4xx
// other than 429 is permanent, with Lever's message; a 429 is retryable
// (after its Retry-After, when Lever sent one); 5xx and network errors are
// retryable; context errors pass through.
func leverError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *steps.Error
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, client.ErrPerformAsRequired) {
		return steps.Permanentf("input.perform_as: Lever requires the id of the user to act as; set it to a user id (see lever.get_users)")
	}
	var ae *client.APIError
	if !errors.As(err, &ae) {
		return err
	}
	msg := fmt.Sprintf("Lever answered %d", ae.Status)
	if ae.Code != "" {
		msg += " " + ae.Code
	}
	if ae.Message != "" {
		msg += ": " + ae.Message
	}
	e := &leverAPIError{msg: msg, err: ae}
	switch {
	case ae.Status == http.StatusTooManyRequests:
		if ae.RetryAfter > 0 {
			return steps.RetryAfter(e, ae.RetryAfter)
		}
		return e
	case ae.Status >= 400 && ae.Status < 500:
		return steps.Permanent(e)
	}
	return e
}

// leverAPIError reads as Lever's answer and unwraps to the client's
// *client.APIError, so errors.Is(err, client.ErrNotFound) holds.
type leverAPIError struct {
	msg string
	err *client.APIError
}

func (e *leverAPIError) Error() string { return e.msg }
func (e *leverAPIError) Unwrap() error { return e.err }

// getObject GETs path and returns Lever's data as a JSON object.
func getObject(ctx context.Context, c *client.Client, path string, q url.Values) (map[string]any, error) {
	var raw json.RawMessage
	if err := c.Do(ctx, http.MethodGet, path, q, nil, &raw); err != nil {
		return nil, leverError(err)
	}
	return decodeObject(raw)
}

// doObject sends a write and returns Lever's data as a JSON object.
func doObject(ctx context.Context, c *client.Client, method, path string, q url.Values, body any, opts ...client.CallOption) (map[string]any, error) {
	var raw json.RawMessage
	if err := c.Do(ctx, method, path, q, body, &raw, opts...); err != nil {
		return nil, leverError(err)
	}
	return decodeObject(raw)
}

// decodeObject decodes Lever's data, which must be an object.
func decodeObject(raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 {
		return map[string]any{}, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("reading Lever's answer: expected an object: %w", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// performAsQuery is the perform_as query parameter, nil when id is empty.
func performAsQuery(id string) url.Values {
	if id == "" {
		return nil
	}
	return url.Values{"perform_as": {id}}
}

// requireID checks an id input at run time (the schema has it required,
// but a reference may render to "").
func requireID(name, v string) error {
	if p := checkID(name, v); p != nil {
		return p.Err()
	}
	return nil
}

func checkID(name, v string) *steps.Problem {
	if v == "" {
		return &steps.Problem{Path: name, Message: "must not be empty; set it to a Lever id"}
	}
	for _, r := range v {
		if r == '/' || r == '?' || r == '#' || r < ' ' {
			return &steps.Problem{Path: name, Message: fmt.Sprintf("%q is not a Lever id: ids hold no '/', '?', '#' or control characters", v)}
		}
	}
	return nil
}

// checkLiteralIDs is a Spec.Check for the named id inputs.
func checkLiteralIDs(names ...string) func(map[string]any) []steps.Problem {
	return func(input map[string]any) []steps.Problem {
		var out []steps.Problem
		for _, n := range names {
			if s, ok := input[n].(string); ok && !steps.HasReference(s) {
				if p := checkID(n, s); p != nil {
					out = append(out, *p)
				}
			}
		}
		return out
	}
}

// combineChecks runs several checks and joins their problems.
func combineChecks(checks ...func(map[string]any) []steps.Problem) func(map[string]any) []steps.Problem {
	return func(input map[string]any) []steps.Problem {
		var out []steps.Problem
		for _, c := range checks {
			out = append(out, c(input)...)
		}
		return out
	}
}
