package core

import (
	"context"
	"strings"

	"github.com/leverflow/leverflow/steps"
)

type respondInput struct {
	Status  int            `json:"status"`
	Headers map[string]any `json:"headers"`
	Body    any            `json:"body"`
}

type respondOutput struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    any               `json:"body"`
}

func respondSpec() steps.Spec {
	spec := steps.Spec{
		Type:     "respond",
		Title:    "Respond",
		Category: "HTTP",
		Description: "Sets the answer to the API caller waiting for this run (POST /workflows/:id/runs?wait=...): " +
			"its status, headers and body. The run goes on after it; its output is the answer.",
		Input: obj("The answer.", map[string]*steps.Schema{
			"status": {
				Type:        steps.TypeInteger,
				Description: "The HTTP status code, from 100 to 599.",
				Default:     200,
			},
			"headers": {
				Type:                 steps.TypeObject,
				AdditionalProperties: true,
				Description:          "Response headers by name. Text; numbers and booleans are written as text, and null leaves it out.",
				Example:              map[string]any{"X-Request-Id": "<<trigger.request_id>>"},
			},
			"body": {
				Type:        steps.TypeAny,
				Description: "The response body: any JSON value, with references resolved.",
				Example:     map[string]any{"opportunity_id": "<<steps.opp.id>>"},
			},
		}),
		Output: obj("The answer, with defaults filled in.", map[string]*steps.Schema{
			"status":  {Type: steps.TypeInteger, Description: "The HTTP status code."},
			"headers": {Type: steps.TypeObject, AdditionalProperties: true, Description: "The response headers by name ({} when none)."},
			"body":    {Type: steps.TypeAny, Description: "The response body (null when none)."},
		}, "status", "headers", "body"),
		Examples: []steps.Example{
			example("Answer with a JSON body",
				`{"body": {"opportunity_id": "opp-1", "tagged": true}}`,
				`{"status": 200, "headers": {}, "body": {"opportunity_id": "opp-1", "tagged": true}}`),
			example("Answer 201 with a header",
				`{"status": 201, "headers": {"Location": "/candidates/opp-1", "X-Count": 3}, "body": "created"}`,
				`{"status": 201, "headers": {"Location": "/candidates/opp-1", "X-Count": "3"}, "body": "created"}`),
			errorExample("The status is a real HTTP status",
				`{"status": 42}`,
				`input.status: must be between 100 and 599, got 42`),
		},
	}
	return steps.Typed(spec, func(_ context.Context, _ *steps.Request, in respondInput) (respondOutput, error) {
		if in.Status < 100 || in.Status > 599 {
			return respondOutput{}, steps.Permanentf("input.status: must be between 100 and 599, got %d; 200 is OK, 201 Created, 202 Accepted", in.Status)
		}
		out := respondOutput{Status: in.Status, Headers: make(map[string]string, len(in.Headers)), Body: in.Body}
		for _, k := range sortedKeys(in.Headers) {
			path := joinKey("input.headers", k)
			if !validHeaderName(k) {
				return respondOutput{}, steps.Permanentf("%s: %q is not a valid header name; use letters, digits and dashes, such as \"X-Request-Id\"", path, k)
			}
			vals, err := textValues(path, in.Headers[k], false)
			if err != nil {
				return respondOutput{}, err
			}
			for _, v := range vals {
				if strings.ContainsAny(v, "\r\n\x00") {
					return respondOutput{}, steps.Permanentf("%s: header values cannot hold line breaks or NUL characters", path)
				}
				out.Headers[k] = v
			}
		}
		return out, nil
	})
}
