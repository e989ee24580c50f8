package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
)

// The OpenAPI 3 document of the API, built from the operation table below
// (a test checks the table against the routes gin has registered, both
// ways). Served at GET /api/v1/openapi.json without a token.

type authKind int

const (
	authNone    authKind = iota
	authBearer           // Authorization: Bearer <token>
	authBrowser          // Bearer header or ?access_token=
)

type paramDoc struct {
	name, in, typ, description string
	required                   bool
}

type operationDoc struct {
	method, path, summary string
	auth                  authKind
	params                []paramDoc
	// body is the request body schema ref ("" for none); bodyOptional
	// marks a body that may be left out.
	body         string
	bodyOptional bool
	// ok maps success statuses to a response: a schema ref, "html",
	// "redirect", "empty" or "any".
	ok map[int]string
	// errors are the error statuses the operation answers.
	errors []int
}

func pathParam(name, description string) paramDoc {
	return paramDoc{name: name, in: "path", typ: "string", description: description, required: true}
}

func queryParam(name, typ, description string) paramDoc {
	return paramDoc{name: name, in: "query", typ: typ, description: description}
}

var (
	workflowIDParam = pathParam("id", "The workflow id.")
	runIDParam      = pathParam("id", "The run id.")
	connNameParam   = pathParam("name", "The connection name.")
	eventIDParam    = pathParam("id", "The event id.")
	pageParams      = []paramDoc{queryParam("limit", "integer", "Page size, 1-200 (default 50)."),
		queryParam("after", "string", "The next cursor of the previous page.")}
)

func withPage(params ...paramDoc) []paramDoc { return append(params, pageParams...) }

// operations lists every route. Keep it in step with routes(): the
// OpenAPI test fails otherwise.
var operations = []operationDoc{
	{method: "GET", path: "/healthz", summary: "Health: 200 when the database answers a ping and the engine's worker loop ticks; 503 with the reason otherwise.", auth: authNone,
		ok: map[int]string{200: "Health"}, errors: []int{503}},
	{method: "GET", path: "/metrics", summary: "Prometheus metrics in the text exposition format: runs, steps, queue depth, webhooks, Lever requests and HTTP requests.", auth: authNone,
		ok: map[int]string{200: "text"}},
	{method: "POST", path: "/hooks/lever/{connection}", summary: "Lever's webhook deliveries for a connection (register <base URL>/hooks/lever/<name> in Lever). No token: the delivery's signature authenticates it. Answered once the event is committed to the inbox; a repeated delivery is duplicate:true and starts nothing. 401 (bad signature or stale) has no body.", auth: authNone,
		params: []paramDoc{pathParam("connection", "The connection name.")}, body: "LeverWebhook",
		ok: map[int]string{200: "WebhookReceipt"}, errors: []int{400, 401, 404, 413, 503}},
	{method: "GET", path: "/api/v1/openapi.json", summary: "This document.", auth: authNone,
		ok: map[int]string{200: "any"}},
	{method: "GET", path: "/api/v1/workflows", summary: "Workflows (not deleted) by id, with their trigger, newest run and run counts by status; keyset paging.", auth: authBearer,
		params: withPage(queryParam("enabled", "boolean", "Only enabled (true) or disabled (false) workflows."),
			queryParam("trigger_type", "string", "Only workflows with this trigger type; repeat it or separate types with commas."),
			queryParam("connection", "string", "Only workflows triggered through this connection.")),
		ok: map[int]string{200: "WorkflowPage"}, errors: []int{400, 401}},
	{method: "POST", path: "/api/v1/workflows", summary: "Create a workflow (version 1, disabled), validated against the step types and the connections that exist; 409 when the id exists or existed.", auth: authBearer,
		params: []paramDoc{queryParam("id", "string", "The id to give it (1-63 of a-z, 0-9, - and _); a UUIDv7 when left out.")},
		body:   "Workflow", ok: map[int]string{201: "WorkflowVersion"}, errors: []int{400, 401, 403, 409, 413, 415, 422}},
	{method: "POST", path: "/api/v1/workflows/validate", summary: "Validate a workflow without saving it; malformed JSON is a problem too.", auth: authBearer,
		body: "Workflow", ok: map[int]string{200: "ValidationResult"}, errors: []int{401, 403, 413, 415}},
	{method: "POST", path: "/api/v1/workflows/test-step", summary: "Run one step of a workflow (saved or not) once, for real, with the given trigger data and earlier steps' outputs; nothing is stored. The answer says what the step did (status succeeded, failed or waiting). Admin only.", auth: authBearer,
		body: "TestStepRequest", ok: map[int]string{200: "TestStepResult"}, errors: []int{400, 401, 403, 413, 415, 422}},
	{method: "GET", path: "/api/v1/workflows/{id}", summary: "A workflow's latest version, or ?version=N.", auth: authBearer,
		params: []paramDoc{workflowIDParam, queryParam("version", "integer", "The version; the latest when left out.")},
		ok:     map[int]string{200: "WorkflowVersion"}, errors: []int{400, 401, 404}},
	{method: "PUT", path: "/api/v1/workflows/{id}", summary: "Save a new version of an existing workflow; it stays enabled or disabled.", auth: authBearer,
		params: []paramDoc{workflowIDParam}, body: "Workflow",
		ok: map[int]string{200: "WorkflowVersion"}, errors: []int{400, 401, 403, 404, 413, 415, 422}},
	{method: "DELETE", path: "/api/v1/workflows/{id}", summary: "Delete a workflow: it is disabled and no longer found; its runs stay readable and its id is never reused.", auth: authBearer,
		params: []paramDoc{workflowIDParam}, ok: map[int]string{204: "empty"}, errors: []int{401, 403, 404}},
	{method: "GET", path: "/api/v1/workflows/{id}/versions", summary: "A workflow's versions, newest first, without their definitions.", auth: authBearer,
		params: []paramDoc{workflowIDParam}, ok: map[int]string{200: "VersionList"}, errors: []int{401, 404}},
	{method: "GET", path: "/api/v1/workflows/{id}/diff", summary: "The structural changes from one version to another: {path, op (add, remove, replace), from, to, step_id}; steps are matched by id, so a moved step is no change.", auth: authBearer,
		params: []paramDoc{workflowIDParam, queryParam("from", "integer", "The older version (default: the one before to)."),
			queryParam("to", "integer", "The newer version (default: the latest).")},
		ok: map[int]string{200: "WorkflowDiff"}, errors: []int{400, 401, 404}},
	{method: "POST", path: "/api/v1/workflows/{id}/enable", summary: "Turn a workflow on for its trigger, after validating its latest version again (422 with every problem).", auth: authBearer,
		params: []paramDoc{workflowIDParam}, ok: map[int]string{200: "WorkflowState"}, errors: []int{401, 403, 404, 422}},
	{method: "POST", path: "/api/v1/workflows/{id}/disable", summary: "Turn a workflow off: its trigger starts no more runs; runs already started go on.", auth: authBearer,
		params: []paramDoc{workflowIDParam}, ok: map[int]string{200: "WorkflowState"}, errors: []int{401, 403, 404}},
	{method: "POST", path: "/api/v1/workflows/{id}/runs", summary: "Start a run; the body is the trigger data (any JSON, {} when empty).", auth: authBearer,
		params: []paramDoc{workflowIDParam,
			{name: "Idempotency-Key", in: "header", typ: "string", description: "A repeated key (per workflow) with the same body answers 200 with the first run instead of starting another; with another body, 409. At most 255 characters."},
			queryParam("wait", "string", "Wait up to this long (a Go duration, at most 5m) for the run to finish: 200 with the run, or the answer of its respond step; 202 when it has not finished by then.")},
		body: "TriggerData", bodyOptional: true,
		ok:     map[int]string{200: "Run", 202: "RunSummary"},
		errors: []int{400, 401, 404, 409, 413, 415, 422}},
	{method: "GET", path: "/api/v1/runs", summary: "Runs, newest first, with keyset paging.", auth: authBearer,
		params: []paramDoc{queryParam("workflow_id", "string", "Only this workflow's runs."),
			queryParam("status", "string", "Only runs in this status: queued, running, waiting, succeeded, failed, cancelled."),
			queryParam("trigger_type", "string", "Only runs started by this trigger type (api, schedule, lever.candidate_stage_changed, ...)."),
			queryParam("event_id", "string", "Only runs started by this inbox event."),
			queryParam("since", "string", "Only runs created at or after this RFC 3339 time."),
			queryParam("until", "string", "Only runs created before this RFC 3339 time."),
			queryParam("limit", "integer", "Page size, 1-200 (default 50)."),
			queryParam("after", "string", "The next cursor of the previous page.")},
		ok: map[int]string{200: "RunPage"}, errors: []int{400, 401}},
	{method: "GET", path: "/api/v1/runs/{id}", summary: "A run with every step's status, input, output, error, attempts and times.", auth: authBearer,
		params: []paramDoc{runIDParam}, ok: map[int]string{200: "Run"}, errors: []int{401, 404}},
	{method: "POST", path: "/api/v1/runs/{id}/cancel", summary: "Cancel a queued, running or waiting run.", auth: authBearer,
		params: []paramDoc{runIDParam}, ok: map[int]string{200: "RunSummary"}, errors: []int{401, 404, 409}},
	{method: "POST", path: "/api/v1/runs/{id}/retry", summary: "Run a failed or cancelled run again: from its failed steps (finished steps keep their outputs) or from the start, on its own version or the workflow's latest (then only steps unchanged there, with unchanged steps before them, keep their outputs). 409 names the run's status when it cannot be retried.", auth: authBearer,
		params: []paramDoc{runIDParam}, body: "RetryRequest", bodyOptional: true,
		ok: map[int]string{200: "RunSummary"}, errors: []int{400, 401, 404, 409, 413, 415}},
	{method: "POST", path: "/api/v1/runs/retry", summary: "Retry, newest first, up to max runs a filter selects (workflow, status failed or cancelled, creation time range), each as POST /runs/{id}/retry would; runs that cannot be retried are left out of the answer. Admin only.", auth: authBearer,
		body: "BulkRetryRequest", bodyOptional: true,
		ok: map[int]string{200: "BulkRetryResult"}, errors: []int{400, 401, 403, 413, 415}},
	{method: "GET", path: "/api/v1/step-types", summary: "The step catalog: every step type's spec with its input and output schemas.", auth: authBearer,
		ok: map[int]string{200: "StepTypeList"}, errors: []int{401}},
	{method: "GET", path: "/api/v1/trigger-types", summary: "The trigger catalog: every trigger type with how it is delivered, the schema of its trigger data and an example.", auth: authBearer,
		ok: map[int]string{200: "TriggerTypeList"}, errors: []int{401}},
	{method: "GET", path: "/api/v1/tokens", summary: "API tokens, revoked ones too, newest first; never a token or its hash. Admin only.", auth: authBearer,
		ok: map[int]string{200: "TokenList"}, errors: []int{401, 403}},
	{method: "POST", path: "/api/v1/tokens", summary: "Create an API token; the answer is the only time the token is shown. Admin only.", auth: authBearer,
		body: "CreateTokenRequest", ok: map[int]string{201: "CreatedToken"}, errors: []int{400, 401, 403, 413, 415}},
	{method: "DELETE", path: "/api/v1/tokens/{id}", summary: "Revoke an API token: it is refused (401) from then on. Admin only.", auth: authBearer,
		params: []paramDoc{pathParam("id", "The token id.")}, ok: map[int]string{204: "empty"}, errors: []int{401, 403, 404}},
	{method: "GET", path: "/api/v1/events", summary: "The event inbox (Lever webhooks, polls), newest first, with each event's payload; keyset paging.", auth: authBearer,
		params: withPage(queryParam("source", "string", "lever, poll or api."), queryParam("connection", "string", "Only events of this connection."),
			queryParam("type", "string", "Only events of this type, e.g. candidateStageChange."),
			queryParam("status", "string", "pending, routed, unmatched or failed."),
			queryParam("since", "string", "Received at or after this RFC 3339 time."),
			queryParam("until", "string", "Received before this RFC 3339 time.")),
		ok: map[int]string{200: "EventPage"}, errors: []int{400, 401}},
	{method: "GET", path: "/api/v1/events/{id}", summary: "An event with the runs it started and the status of each.", auth: authBearer,
		params: []paramDoc{eventIDParam}, ok: map[int]string{200: "EventDetail"}, errors: []int{401, 404}},
	{method: "POST", path: "/api/v1/events/{id}/replay", summary: "Route an event again to every enabled workflow that matches it now: the event with all its runs and new_run_ids. Admin only.", auth: authBearer,
		params: []paramDoc{eventIDParam}, ok: map[int]string{200: "EventDetail"}, errors: []int{401, 403, 404, 409, 503}},
	{method: "POST", path: "/api/v1/events/replay", summary: "Replay up to max (default 100, at most 1000) events that the filter selects, newest first; pending ones are skipped. Admin only.", auth: authBearer,
		body: "ReplayRequest", ok: map[int]string{200: "ReplayResult"}, errors: []int{400, 401, 403, 413, 415, 503}},
	{method: "GET", path: "/api/v1/connections", summary: "The workspace's Lever connections (never a secret).", auth: authBearer,
		ok: map[int]string{200: "ConnectionList"}, errors: []int{401}},
	{method: "POST", path: "/api/v1/connections", summary: "Connect a Lever account with an API key; 409 when the name is taken (send replace) or the key reaches another account (send confirm_account_change).", auth: authBearer,
		body: "CreateConnectionRequest", ok: map[int]string{200: "Connection", 201: "Connection"},
		errors: []int{400, 401, 403, 409, 413, 415, 502}},
	{method: "GET", path: "/api/v1/connections/{name}", summary: "One connection: status, the account reached, expiry warnings; never a secret.", auth: authBearer,
		params: []paramDoc{connNameParam}, ok: map[int]string{200: "Connection"}, errors: []int{401, 404}},
	{method: "DELETE", path: "/api/v1/connections/{name}", summary: "Delete a connection.", auth: authBearer,
		params: []paramDoc{connNameParam}, ok: map[int]string{204: "empty"}, errors: []int{401, 403, 404}},
	{method: "POST", path: "/api/v1/connections/{name}/test", summary: "Make a cheap authenticated Lever call and report the account reached.", auth: authBearer,
		params: []paramDoc{connNameParam}, ok: map[int]string{200: "TestResult"}, errors: []int{401, 403, 404, 409, 502}},
	{method: "POST", path: "/api/v1/connections/lever/authorize", summary: "Start connecting a Lever account with your own OAuth app: the client id and secret in the body (never in a URL); answers the authorize URL to open, and sets the browser-binding cookie.", auth: authBearer,
		body: "AuthorizeRequest", ok: map[int]string{200: "AuthorizeURL"}, errors: []int{400, 401, 403, 409, 413, 415}},
	{method: "GET", path: "/api/v1/connections/lever/authorize", summary: "Start connecting a Lever account with OAuth (the local sandbox's built-in app, or reconnecting with the connection's own app): a 302 to Lever's consent page, with a browser-binding cookie. A browser navigates here, so the token may be ?access_token=. A client_secret parameter is refused: POST it.", auth: authBrowser,
		params: []paramDoc{{name: "name", in: "query", typ: "string", description: "The connection name.", required: true},
			{name: "environment", in: "query", typ: "string", description: "production, sandbox or local.", required: true},
			queryParam("client_id", "string", "Your Lever app's Client ID (local: the built-in app when left out)."),
			queryParam("scopes", "string", "Lever scopes separated by spaces or commas; offline_access is added."),
			queryParam("replace", "boolean", "Replace an existing connection of that name."),
			queryParam("confirm_account_change", "boolean", "Allow the replacement to reach another Lever account."),
			queryParam("access_token", "string", "The API token, when the Authorization header cannot be sent.")},
		ok: map[int]string{302: "redirect"}, errors: []int{400, 401, 403, 409}},
	{method: "GET", path: "/api/v1/connections/lever/callback", summary: "Where Lever sends the browser back; authenticated by the one-time state and the binding cookie. An HTML page that also posts {type: \"leverflow:oauth\", status, connection, code} to window.opener.", auth: authNone,
		params: []paramDoc{queryParam("state", "string", "The state sent to Lever."), queryParam("code", "string", "The authorization code."),
			queryParam("error", "string", "Lever's OAuth error code."), queryParam("error_description", "string", "Lever's error description.")},
		ok: map[int]string{200: "html", 400: "html", 409: "html"}},
}

// proxyOperations documents the Lever proxy, one operation per method.
func proxyOperations() []operationDoc {
	var ops []operationDoc
	for _, m := range proxyMethods {
		op := operationDoc{method: m, path: "/api/v1/connections/{name}/proxy/{path}",
			summary: "Call any Lever endpoint with the connection's credentials; Lever's status and body come back as they are (X-Leverflow-Upstream: lever).",
			auth:    authBearer,
			params:  []paramDoc{connNameParam, pathParam("path", "The Lever API path under /v1, e.g. opportunities.")},
			ok:      map[int]string{200: "any"}, errors: []int{401, 403, 404, 409, 413, 415, 502}}
		if m != http.MethodGet && m != http.MethodDelete {
			op.body, op.bodyOptional = "LeverBody", true
		}
		ops = append(ops, op)
	}
	return ops
}

var (
	openAPIOnce sync.Once
	openAPIDoc  []byte
)

// OpenAPIDocument returns the OpenAPI 3 document as JSON.
func OpenAPIDocument() []byte {
	openAPIOnce.Do(func() {
		doc, err := json.MarshalIndent(buildOpenAPI(), "", "  ")
		if err != nil {
			panic("api: encoding the OpenAPI document: " + err.Error())
		}
		openAPIDoc = append(doc, '\n')
	})
	return openAPIDoc
}

func (s *Server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", OpenAPIDocument())
}

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func buildOpenAPI() obj {
	paths := obj{}
	for _, op := range append(append([]operationDoc{}, operations...), proxyOperations()...) {
		item, _ := paths[op.path].(obj)
		if item == nil {
			item = obj{}
			paths[op.path] = item
		}
		o := obj{"summary": op.summary, "operationId": operationID(op)}
		switch op.auth {
		case authNone:
			o["security"] = []any{}
		case authBrowser:
			o["security"] = []any{obj{"bearer": []any{}}, obj{"accessTokenQuery": []any{}}}
		}
		var params []any
		for _, p := range op.params {
			params = append(params, obj{"name": p.name, "in": p.in, "required": p.required,
				"description": p.description, "schema": obj{"type": p.typ}})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.body != "" {
			o["requestBody"] = obj{"required": !op.bodyOptional,
				"content": obj{"application/json": obj{"schema": ref(op.body)}}}
		}
		responses := obj{}
		for status, kind := range op.ok {
			responses[strconv.Itoa(status)] = successResponse(status, kind)
		}
		errs := op.errors
		if op.auth != authNone {
			errs = append(errs[:len(errs):len(errs)], http.StatusTooManyRequests) // the per-token limit
		}
		for _, status := range errs {
			responses[strconv.Itoa(status)] = obj{"$ref": "#/components/responses/" + strconv.Itoa(status)}
		}
		o["responses"] = responses
		item[strings.ToLower(op.method)] = o
	}
	errResponses := obj{}
	for status, code := range map[int]string{
		400: CodeBadRequest, 401: CodeUnauthorized, 403: CodeForbidden, 404: CodeNotFound, 405: CodeMethodNotAllowed,
		409: CodeConflict, 413: CodePayloadTooLarge, 415: CodeUnsupportedMediaType, 422: CodeInvalidWorkflow, 429: CodeRateLimited,
		500: CodeInternal, 502: CodeBadGateway, 503: CodeUnavailable,
	} {
		desc := http.StatusText(status) + " (code " + code + ")"
		if status == 503 {
			errResponses[strconv.Itoa(status)] = obj{"description": desc + "; GET /healthz answers a Health instead",
				"content": obj{"application/json": obj{"schema": obj{"oneOf": []any{ref("Error"), ref("Health")}}}}}
			continue
		}
		errResponses[strconv.Itoa(status)] = obj{"description": desc, "content": obj{"application/json": obj{"schema": ref("Error")}}}
	}
	return obj{
		"openapi": "3.0.3",
		"info": obj{"title": "Leverflow API", "version": "1",
			"description": "Workflows, runs, step and trigger types, Lever connections, API tokens, the event inbox and Lever webhooks, health and metrics. Every error is {\"error\": {\"code\", \"message\", \"details\"}}; every answer carries X-Request-Id."},
		"servers":  []any{obj{"url": "/"}},
		"security": []any{obj{"bearer": []any{}}},
		"paths":    paths,
		"components": obj{
			"securitySchemes": obj{
				"bearer":           obj{"type": "http", "scheme": "bearer"},
				"accessTokenQuery": obj{"type": "apiKey", "in": "query", "name": "access_token"},
			},
			"responses": errResponses,
			"schemas":   schemas(),
		},
	}
}

func successResponse(status int, kind string) obj {
	switch kind {
	case "html":
		return obj{"description": http.StatusText(status) + " (an HTML page)", "content": obj{"text/html": obj{"schema": obj{"type": "string"}}}}
	case "redirect":
		return obj{"description": "Redirect to Lever's consent page",
			"headers": obj{"Location": obj{"schema": obj{"type": "string"}}, "Set-Cookie": obj{"schema": obj{"type": "string"}}}}
	case "empty":
		return obj{"description": http.StatusText(status)}
	case "any":
		return obj{"description": http.StatusText(status), "content": obj{"application/json": obj{"schema": obj{}}}}
	case "text":
		return obj{"description": http.StatusText(status), "content": obj{"text/plain": obj{"schema": obj{"type": "string"}}}}
	}
	desc := http.StatusText(status)
	if status == 200 && kind == "Run" {
		desc = "The finished run; or, when the run has a succeeded respond step, that step's status, headers and body."
	}
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": ref(kind)}}}
}

func operationID(op operationDoc) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(op.method))
	for _, part := range strings.FieldsFunc(op.path, func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '.' || r == '-' }) {
		if part == "api" || part == "v1" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func str(desc string) obj { return obj{"type": "string", "description": desc} }
func dt(desc string) obj {
	return obj{"type": "string", "format": "date-time", "nullable": true, "description": desc}
}
func anyv(desc string) obj { return obj{"description": desc} }

func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props}
	if required != nil {
		o["required"] = required
	}
	return o
}

var workflowStateSchema = object([]string{"id", "name", "version", "enabled", "trigger", "created_at", "updated_at"}, obj{
	"id": str(""), "name": str("The latest version's name."), "version": obj{"type": "integer", "description": "The latest version."},
	"enabled": obj{"type": "boolean"},
	"trigger": object([]string{"type"}, obj{"type": str("The latest version's trigger type."), "connection": str("Its connection, if any.")}),
	"last_run": obj{"nullable": true, "allOf": []any{object([]string{"id", "status", "created_at"}, obj{"id": str(""), "status": str(""), "created_at": dt("")})},
		"description": "The newest run (listings only); null when it never ran."},
	"run_counts": obj{"type": "object", "additionalProperties": obj{"type": "integer"}, "description": "Runs by status, every status present (listings only)."},
	"created_at": dt(""), "updated_at": dt(""),
})

func schemas() obj {
	runProps := obj{
		"id": str("The run id (UUIDv7: ordered by when the run was started)."), "workflow_id": str("The workflow."),
		"version": obj{"type": "integer"}, "user_id": str("The connected user, when not the workspace."),
		"status": obj{"type": "string", "enum": []string{"queued", "running", "waiting", "succeeded", "failed", "cancelled"}},
		"error":  str("Why the run failed (empty otherwise)."), "trigger": anyv("The trigger data."),
		"trigger_type": str("What started the run: api, schedule, error or a Lever event type."),
		"event_id":     str("The inbox event that started the run, if any."),
		"wait_reason":  str("Why a queued or waiting run waits (its turn under the workflow's concurrency limit, Lever's rate limit on a connection); empty otherwise."),
		"created_at":   dt("When the run was started."), "started_at": dt(""), "finished_at": dt(""),
		"wake_at": dt("When a waiting run is due again."), "cancel_requested": obj{"type": "boolean"},
	}
	retryProps := obj{
		"from":    obj{"type": "string", "enum": []string{"failed", "start"}, "description": "failed (default): rerun the failed steps, keep the finished ones; start: rerun every step."},
		"version": obj{"type": "string", "enum": []string{"original", "latest"}, "description": "original (default): the version the run started with; latest: the workflow's latest version."},
	}
	withSteps := obj{}
	for k, v := range runProps {
		withSteps[k] = v
	}
	withSteps["steps"] = obj{"type": "object", "additionalProperties": ref("StepRun"),
		"description": "Step runs by step id; a fanout item's steps by \"<fanout>[<index>].<step>\"."}
	return obj{
		"Error": object([]string{"error"}, obj{"error": object([]string{"code", "message", "details"}, obj{
			"code": obj{"type": "string", "enum": []string{CodeBadRequest, CodeUnauthorized, CodeForbidden, CodeNotFound,
				CodeMethodNotAllowed, CodeConflict, CodePayloadTooLarge, CodeUnsupportedMediaType, CodeInvalidWorkflow, CodeInternal, CodeBadGateway, CodeUnavailable}},
			"message": str("What went wrong and how to fix it."),
			"details": obj{"type": "array", "items": obj{"description": "For invalid_workflow and field errors: {path, message}."}},
		})}),
		"Problem":          object([]string{"path", "message"}, obj{"path": str("A JSON path such as steps[2].input.opportunity_id; empty for the document."), "message": str("")}),
		"Workflow":         obj{"type": "object", "description": "A workflow document: name, description, trigger, vars, timeout, steps, edges (see DESIGN.md)."},
		"TriggerData":      anyv("Any JSON: the run's trigger data."),
		"LeverBody":        anyv("The JSON body passed to Lever."),
		"WorkflowVersion":  object([]string{"id", "version", "name", "enabled", "created_at", "workflow"}, obj{"id": str(""), "version": obj{"type": "integer"}, "name": str(""), "enabled": obj{"type": "boolean", "description": "Whether the workflow is enabled now."}, "created_at": dt(""), "workflow": ref("Workflow")}),
		"ValidationResult": object([]string{"valid", "problems"}, obj{"valid": obj{"type": "boolean"}, "problems": obj{"type": "array", "items": ref("Problem")}}),
		"RunSummary":       object([]string{"id", "workflow_id", "version", "status"}, runProps),
		"Run":              object([]string{"id", "workflow_id", "version", "status", "steps"}, withSteps),
		"StepRun": object([]string{"step_id", "type", "status", "attempts"}, obj{
			"step_id": str(""), "type": str(""), "status": obj{"type": "string", "enum": []string{"pending", "running", "succeeded", "failed", "skipped"}},
			"input": anyv("The resolved input (sensitive fields redacted)."), "output": anyv("The output."), "error": str(""),
			"branch": str("The branch a condition or switch chose."), "attempts": obj{"type": "integer"},
			"started_at": dt(""), "finished_at": dt(""), "wake_at": dt("When a parked step is due again."),
		}),
		"RetryRequest": object(nil, retryProps),
		"BulkRetryRequest": object(nil, obj{
			"from": retryProps["from"], "version": retryProps["version"],
			"workflow_id":  str("Only this workflow's runs."),
			"trigger_type": str("Only runs started by this trigger type."),
			"status":       obj{"type": "string", "enum": []string{"failed", "cancelled"}, "description": "The runs' status (default failed)."},
			"since":        dt("Only runs created at or after this time."),
			"until":        dt("Only runs created before this time."),
			"max":          obj{"type": "integer", "minimum": 1, "maximum": MaxBulkRetry, "description": "At most this many runs (default 100)."},
		}),
		"TestStepRequest": object([]string{"workflow", "step_id"}, obj{
			"workflow": ref("Workflow"),
			"step_id":  str("The id of the step to run (a step inside a fanout too; not a fanout itself)."),
			"trigger":  obj{"description": "The trigger data: `trigger` in references."},
			"steps":    obj{"type": "object", "additionalProperties": true, "description": "Earlier steps' outputs by step id: `steps.<id>` in references."},
			"item":     obj{"description": "`item` for a step inside a fanout."},
			"index":    obj{"type": "integer", "description": "`index` for a step inside a fanout."},
		}),
		"TestStepResult": object([]string{"step_id", "type", "status", "input", "output", "error", "duration_ms"}, obj{
			"step_id":     str("The step tested."),
			"type":        str("Its type."),
			"status":      obj{"type": "string", "enum": []string{"succeeded", "failed", "waiting"}},
			"input":       obj{"description": "The resolved input (sensitive fields redacted)."},
			"output":      obj{"description": "The step's output when it succeeded."},
			"error":       str("Why it failed (or until when it would wait)."),
			"retryable":   obj{"type": "boolean", "description": "Whether a run would retry this failure."},
			"duration_ms": obj{"type": "number"},
		}),
		"BulkRetryResult": object([]string{"retried", "count"}, obj{
			"retried": obj{"type": "array", "items": obj{"type": "string"}, "description": "The ids of the runs re-queued, newest first."},
			"count":   obj{"type": "integer"},
		}),
		"RunPage":      object([]string{"runs", "next"}, obj{"runs": obj{"type": "array", "items": ref("RunSummary")}, "next": obj{"type": "string", "nullable": true, "description": "Pass as ?after= for the next page; null on the last."}}),
		"StepTypeList": object([]string{"step_types"}, obj{"step_types": obj{"type": "array", "items": obj{"type": "object", "description": "A step spec: type, title, category, description, input and output schemas, branches, examples."}}}),
		"Connection": object([]string{"name", "environment", "auth", "status"}, obj{
			"name": str(""), "user_id": str(""), "environment": str("production, sandbox or local"), "auth": str("api_key or oauth"),
			"status": str("connected or needs_reauth"), "status_message": str(""), "fix": obj{"type": "array", "items": obj{"type": "string"}},
			"account": obj{"type": "object"}, "client_id": str(""), "scopes": obj{"type": "array", "items": obj{"type": "string"}},
			"warnings": obj{"type": "array", "items": obj{"type": "string"}}, "created_at": dt(""), "updated_at": dt(""),
		}),
		"ConnectionList": object([]string{"connections"}, obj{"connections": obj{"type": "array", "items": ref("Connection")}}),
		"CreateConnectionRequest": object([]string{"name", "environment"}, obj{
			"name": str("1-63 of a-z, 0-9 and -."), "environment": str("production, sandbox or local"), "auth": str("api_key (the default)"),
			"api_key": str("The Lever API key (local: the built-in sandbox key when left out)."), "replace": obj{"type": "boolean"},
			"confirm_account_change": obj{"type": "boolean"},
		}),
		"AuthorizeRequest": object([]string{"name", "environment"}, obj{
			"name": obj{"type": "string"}, "environment": obj{"type": "string", "enum": []string{"production", "sandbox", "local"}},
			"client_id": obj{"type": "string"}, "client_secret": obj{"type": "string", "writeOnly": true},
			"scopes":  obj{"type": "array", "items": obj{"type": "string"}},
			"replace": obj{"type": "boolean"}, "confirm_account_change": obj{"type": "boolean"}}),
		"AuthorizeURL": object([]string{"authorize_url"}, obj{"authorize_url": obj{"type": "string", "format": "uri"}}),
		"TestResult":   object([]string{"connection", "account", "latency_ms"}, obj{"connection": ref("Connection"), "account": obj{"type": "object"}, "latency_ms": obj{"type": "integer"}}),
		"Health": object([]string{"status", "checks"}, obj{"status": str("ok, or unavailable"),
			"checks": obj{"type": "object", "additionalProperties": obj{"type": "string"}, "description": "database and engine: ok, or why the check failed."},
			"reason": str("The first failure, when unavailable.")}),
		"WorkflowState": workflowStateSchema,
		"WorkflowPage": object([]string{"workflows", "next"}, obj{"workflows": obj{"type": "array", "items": ref("WorkflowState")},
			"next": obj{"type": "string", "nullable": true, "description": "Pass as ?after= for the next page; null on the last."}}),
		"VersionList": object([]string{"workflow_id", "versions"}, obj{"workflow_id": str(""), "versions": obj{"type": "array",
			"items": object([]string{"version", "name", "created_at"}, obj{"version": obj{"type": "integer"}, "name": str(""), "created_at": dt("")})}}),
		"WorkflowDiff": object([]string{"workflow_id", "from", "to", "changes"}, obj{"workflow_id": str(""),
			"from": obj{"type": "integer"}, "to": obj{"type": "integer"}, "changes": obj{"type": "array", "items": ref("Change")}}),
		"Change": object([]string{"path", "op"}, obj{
			"path":    str("Where, e.g. steps[2].input.tags: keys joined with \".\", array items as [index] (in the newer version; in the older for a remove), \"\" for the whole document."),
			"op":      obj{"type": "string", "enum": []string{OpAdd, OpRemove, OpReplace}},
			"from":    anyv("The old value (absent for add)."),
			"to":      anyv("The new value (absent for remove)."),
			"step_id": str("The (innermost) step the change is in, if any."),
		}),
		"TriggerTypeList": object([]string{"trigger_types"}, obj{"trigger_types": obj{"type": "array", "items": object(
			[]string{"type", "title", "category", "description", "needs_connection", "delivery", "data", "example"}, obj{
				"type": str("The trigger.type value."), "title": str(""), "category": str("API, Schedule or Lever"), "description": str(""),
				"needs_connection": obj{"type": "boolean"}, "delivery": str("webhook, poll, webhook+poll, api or schedule"),
				"lever_events": obj{"type": "array", "items": obj{"type": "string"}},
				"data":         obj{"type": "object", "description": "The schema of `trigger` in references."},
				"example":      anyv("A `trigger` value as a run sees it."),
			})}}),
		"Token": object([]string{"id", "name", "admin", "created_at"}, obj{"id": str(""), "name": str(""), "admin": obj{"type": "boolean"},
			"user_id": str(""), "created_at": dt(""), "last_used_at": dt("Recorded at most once a minute."), "revoked_at": dt("")}),
		"TokenList":          object([]string{"tokens"}, obj{"tokens": obj{"type": "array", "items": ref("Token")}}),
		"CreateTokenRequest": object([]string{"name"}, obj{"name": str("Who uses it (1-100 characters)."), "admin": obj{"type": "boolean", "description": "Admin tokens may change workflows, connections and tokens."}}),
		"CreatedToken":       obj{"allOf": []any{ref("Token"), object([]string{"token"}, obj{"token": str("The token (lf_...): shown this once, keep it safe.")})}},
		"Event": object([]string{"id", "source", "connection", "type", "status", "received_at", "run_ids", "payload"}, obj{
			"id": str(""), "source": str("lever, poll or api"), "connection": str(""), "user_id": str(""),
			"type": str("Lever's event name, e.g. candidateStageChange."), "status": obj{"type": "string", "enum": []string{"pending", "routed", "unmatched", "failed"}},
			"error": str("Why routing failed."), "received_at": dt(""), "routed_at": dt(""), "replays": obj{"type": "integer"},
			"run_ids": obj{"type": "array", "items": obj{"type": "string"}}, "payload": anyv("The body as received."),
		}),
		"EventPage": object([]string{"events", "next"}, obj{"events": obj{"type": "array", "items": ref("Event")},
			"next": obj{"type": "string", "nullable": true, "description": "Pass as ?after= for the next page; null on the last."}}),
		"EventDetail": obj{"allOf": []any{ref("Event"), object([]string{"runs"}, obj{
			"runs": obj{"type": "array", "items": object([]string{"id", "workflow_id", "status"}, obj{"id": str(""), "workflow_id": str(""),
				"version": obj{"type": "integer"}, "status": str(""), "error": str(""), "created_at": dt(""), "finished_at": dt("")})},
			"new_run_ids": obj{"type": "array", "items": obj{"type": "string"}, "description": "After a replay: the runs it started."},
		})}},
		"ReplayRequest": object(nil, obj{"source": str(""), "connection": str(""), "type": str(""),
			"status": str("routed, unmatched or failed (pending events are skipped)."), "since": dt("RFC 3339."), "until": dt("RFC 3339."),
			"max": obj{"type": "integer", "description": "At most this many, 1-1000 (default 100)."}}),
		"ReplayResult":   object([]string{"replayed"}, obj{"replayed": obj{"type": "integer"}}),
		"LeverWebhook":   object([]string{"event", "triggeredAt"}, obj{"id": str(""), "event": str(""), "triggeredAt": obj{"type": "integer"}, "token": str(""), "signature": str(""), "data": obj{"type": "object"}}),
		"WebhookReceipt": object([]string{"event_id", "duplicate"}, obj{"event_id": str("The inbox event (the first one, for a duplicate)."), "duplicate": obj{"type": "boolean"}}),
	}
}
