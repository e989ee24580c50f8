// Package api is Leverflow's HTTP API (gin, JSON under /api/v1): workflows,
// runs, the step catalog and Lever connections, with the OAuth callback,
// the Lever proxy, GET /healthz and the OpenAPI 3 document at
// /api/v1/openapi.json.
//
// Build a Server with New(Config) and serve Handler(). Every route under
// /api/v1 needs "Authorization: Bearer <token>" checked by an
// Authenticator (StaticTokens for LEVERFLOW_ADMIN_TOKEN), except the
// OpenAPI document and the OAuth callback, which the one-time state and a
// browser-binding cookie authenticate. GET /connections/lever/authorize
// also takes the token as ?access_token=, because a browser navigates to
// it. Admin tokens may change workflows and connections; other tokens may
// read and start runs.
//
// Cross-cutting behaviour:
//
//   - every answer carries X-Request-Id (the caller's, when it is a plain
//     token of at most 128 characters, else a new UUIDv7);
//   - one slog access-log line per request: method, route pattern,
//     status, duration, bytes, request id and token id; never headers,
//     query strings, bodies or secrets;
//   - request bodies are capped (Config.BodyLimit, 1 MiB by default): a
//     larger Content-Length, or a longer body, is 413;
//   - JSON bodies need Content-Type: application/json (415 otherwise) and
//     are decoded strictly: malformed JSON, unknown fields and wrong types
//     are 400 naming the line and column or the field.
//
// Every error is {"error": {"code", "message", "details": [...]}}:
// bad_request 400, unauthorized 401 (with WWW-Authenticate: Bearer),
// forbidden 403, not_found 404 (unknown routes too), method_not_allowed 405
// (with Allow), conflict 409, payload_too_large 413,
// unsupported_media_type 415, invalid_workflow 422 (details: every {path,
// message} problem), internal 500 (a panic too; the cause is logged, never
// answered), bad_gateway 502 (Lever failed or could not be reached).
//
// Sentinels map to statuses in one place (errorFrom): store.ErrNotFound
// and connections.ErrNotFound 404; store.ErrConflict,
// connections.ErrNameTaken and connections.ErrDifferentAccount 409;
// connections.ErrInvalid and ErrBadState 400; engine.ErrInvalidWorkflow
// 422; connections.ErrNeedsReauth 409 conflict, whose message says how to
// reconnect (the request is well formed; the connection's state refuses
// it), with details [{"reason": "needs_reauth"}]; a *connections.AuthError
// (Lever rejected an API key) 400 with the fix steps in details.
//
// Workflow bodies are read by workflow.Parse: malformed JSON is a 400 with
// the line and column; every other problem (unknown fields, wrong types,
// unknown step types or connections, ...) is one 422 listing them all.
//
// Runs: POST /workflows/:id/runs takes any JSON as trigger data. An
// Idempotency-Key derives the run id (UUIDv5 of the workflow id and the
// key, see IdempotencyNamespace), so a repeated key answers 200 with the
// first run (Idempotent-Replayed: true) instead of starting another.
// ?wait= (at most MaxWait) answers 200 with the finished run, or as soon
// as a top-level respond step succeeds, that step's status, headers and
// body; 202 {id, status, ...} when the wait runs out. GET /runs pages
// newest first with a keyset cursor: {runs, next}, ?after=next.
//
// Connections: the proxy (ANY of GET, POST, PUT, PATCH, DELETE on
// /connections/:name/proxy/*path) forwards the method, query and JSON body
// to Lever through the connection's client and answers Lever's status and
// body as they are, Lever errors included (as Lever's {"code",
// "message"}), marked X-Leverflow-Upstream: lever so a Lever 401 is not
// mistaken for the API's own.
//
// Later phases add their routes in routes(): workflow listing, deletion,
// enabling and versions; tokens in the store (a store-backed
// Authenticator); the event inbox and the Lever webhook endpoint.
package api
