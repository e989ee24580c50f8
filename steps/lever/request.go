package lever

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/lever/client"
)

var requestMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

type requestInput struct {
	Method string         `json:"method"`
	Path   string         `json:"path"`
	Query  map[string]any `json:"query"`
	Body   any            `json:"body"`
}

type requestOutput struct {
	Status  int    `json:"status"`
	Data    any    `json:"data"`
	HasNext bool   `json:"has_next"`
	Next    string `json:"next"`
	Body    any    `json:"body"`
}

// checkPath says what is wrong with a lever.request path.
func checkPath(p string) *steps.Problem {
	bad := func(why string) *steps.Problem {
		return &steps.Problem{Path: "path", Message: fmt.Sprintf("%s, got %q; write a path relative to Lever's API root such as \"/opportunities/abc/notes\"", why, p)}
	}
	switch {
	case p == "":
		return bad("must not be empty")
	case strings.Contains(p, "://") || strings.HasPrefix(p, "//"):
		return bad("must not hold a scheme or host (the connection decides where Lever is)")
	case !strings.HasPrefix(p, "/"):
		return bad("must start with \"/\"")
	case strings.ContainsAny(p, "?#"):
		return bad("must not hold a query or fragment (put parameters in query)")
	case strings.HasPrefix(p, "/v1/") || p == "/v1":
		return bad("must not start with /v1 (the API root already ends in /v1)")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." {
			return bad("must not hold \".\" or \"..\" segments")
		}
	}
	for _, r := range p {
		if r < ' ' || r == 0x7f || r == '\\' {
			return bad("must not hold control characters or backslashes")
		}
	}
	return nil
}

// queryValues reads lever.request's query: text or lists of text.
func queryValues(q map[string]any) (url.Values, *steps.Problem) {
	out := url.Values{}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := "query." + k
		switch v := q[k].(type) {
		case nil:
		case string:
			out.Add(k, v)
		case []any:
			for i, item := range v {
				s, ok := item.(string)
				if !ok {
					return nil, &steps.Problem{Path: fmt.Sprintf("%s[%d]", path, i), Message: "must be text, got " + steps.Describe(item)}
				}
				out.Add(k, s)
			}
		default:
			return nil, &steps.Problem{Path: path, Message: "must be text or a list of text, got " + steps.Describe(v) + "; write numbers and booleans as text, such as \"100\""}
		}
	}
	return out, nil
}

func checkRequest(input map[string]any) []steps.Problem {
	var out []steps.Problem
	if p, ok := input["path"].(string); ok && !steps.HasReference(p) {
		if pr := checkPath(p); pr != nil {
			out = append(out, *pr)
		}
	}
	if q, ok := input["query"].(map[string]any); ok {
		lit := map[string]any{}
		for k, v := range q {
			if !steps.HasReference(v) {
				lit[k] = v
			}
		}
		if _, pr := queryValues(lit); pr != nil {
			out = append(out, *pr)
		}
	}
	return out
}

func (f *family) requestSpec() steps.Spec {
	methods := enum("The HTTP method.", requestMethods...)
	methods.Default = "GET"
	spec := steps.Spec{
		Type:  "lever.request",
		Title: "Lever API Request",
		Description: "Calls any endpoint of Lever's v1 API with the connection's credentials: notes, interviews, feedback, ... " +
			"Errors follow the other Lever steps (4xx permanent, 429 and 5xx retried). A POST is not repeated after a 5xx or network error, since Lever has no idempotency keys.",
		Input: object("The call.", map[string]*steps.Schema{
			"method": methods,
			"path":   str("The path after Lever's API root, starting with \"/\", such as \"/opportunities/<<trigger.opportunityId>>/notes\"."),
			"query": &steps.Schema{Type: steps.TypeObject, AdditionalProperties: true,
				Description: "Query parameters: each text or a list of text (repeated parameters)."},
			"body": anyValue("The JSON body of a POST, PUT or PATCH."),
		}, "path"),
		Output: object("Lever's answer.", map[string]*steps.Schema{
			"status":   integer("The HTTP status Lever answered with (200, 201, 204, ...)."),
			"data":     anyValue("Lever's data: the object or list; null when there was none."),
			"has_next": boolean("For a list, whether Lever has more (pass next as query.offset)."),
			"next":     str("For a list, the next page's offset token; else empty."),
			"body":     anyValue("The whole answer, as {\"data\", \"hasNext\", \"next\"}."),
		}, "status", "data", "has_next", "next", "body"),
		Check: checkRequest,
		Examples: []steps.Example{
			example("List the archive reasons for hires", `{"path": "/archive_reasons", "query": {"type": "hired"}}`, exampleReasonsRequest),
			errorExample("The path is relative to the API root", `{"path": "https://api.lever.co/v1/stages"}`,
				`input.path: must not hold a scheme or host`),
			errorExample("No way out of the API root", `{"path": "/opportunities/../../admin"}`, `input.path: must not hold "." or ".." segments`),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in requestInput) (requestOutput, error) {
		if p := checkPath(in.Path); p != nil {
			return requestOutput{}, p.Err()
		}
		q, p := queryValues(in.Query)
		if p != nil {
			return requestOutput{}, p.Err()
		}
		c, err := f.client(ctx, req)
		if err != nil {
			return requestOutput{}, err
		}
		status, raw, err := c.Raw(ctx, in.Method, in.Path, q, in.Body)
		if err != nil {
			return requestOutput{}, requestError(in.Method, in.Path, leverError(err))
		}
		return answer(in.Method, in.Path, status, raw)
	})
}

// requestError keeps lever.request from repeating a POST: Lever has no
// idempotency keys, and after a 5xx or a lost connection the first POST may
// have written (a note, an interview), so another attempt could write it
// twice. Such a failure is permanent and says so; a 429, which never
// writes, stays retryable.
func requestError(method, path string, err error) error {
	if method != http.MethodPost || steps.IsPermanent(err) || errors.Is(err, client.ErrRateLimited) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return steps.Permanentf("%w; POST %s was not repeated because it may already have written (Lever has no idempotency keys): check Lever before running it again", err, path)
}

// answer reads Lever's answer to lever.request: the envelope's data,
// hasNext and next when the body is one, and the whole body as it came.
func answer(method, path string, status int, raw []byte) (requestOutput, error) {
	out := requestOutput{Status: status}
	if len(raw) == 0 {
		return out, nil
	}
	if err := json.Unmarshal(raw, &out.Body); err != nil {
		return requestOutput{}, fmt.Errorf("reading Lever's answer to %s %s: %w", method, path, err)
	}
	if env, ok := out.Body.(map[string]any); ok {
		out.Data = env["data"]
		out.HasNext, _ = env["hasNext"].(bool)
		if out.HasNext {
			out.Next, _ = env["next"].(string)
		}
	}
	return out, nil
}
