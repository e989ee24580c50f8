// Package api is Leverflow's HTTP API (gin, JSON under /api/v1): workflows,
// runs, the step and trigger catalogs, Lever connections, API tokens and
// the event inbox, with the OAuth callback, the Lever proxy, the Lever
// webhook endpoint, GET /healthz, GET /metrics and the OpenAPI 3 document
// at /api/v1/openapi.json.
//
// Build a Server with New(Config) and serve Handler(). Every route under
// /api/v1 needs "Authorization: Bearer <token>" checked by an
// Authenticator (StaticTokens for LEVERFLOW_ADMIN_TOKEN, StoreTokens for
// the tokens of the store, composed with Chain), except the
// OpenAPI document and the OAuth callback, which the one-time state and a
// browser-binding cookie authenticate. GET /connections/lever/authorize
// also takes the token as ?access_token=, because a browser navigates to
// it; a client secret never travels in a URL: an own OAuth app's id and
// secret go to POST /connections/lever/authorize, which answers the URL
// to open and sets the same browser-binding cookie. Admin tokens may change workflows and connections; other tokens may
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
//     are 400 naming the line and column or the field;
//   - each token has its own token bucket (Config.RateLimit, 100 requests
//     a second with bursts of 200 by default): over it, 429 with
//     Retry-After.
//
// Every error is {"error": {"code", "message", "details": [...]}}:
// bad_request 400, unauthorized 401 (with WWW-Authenticate: Bearer),
// forbidden 403, not_found 404 (unknown routes too), method_not_allowed 405
// (with Allow), conflict 409, payload_too_large 413,
// unsupported_media_type 415, invalid_workflow 422 (details: every {path,
// message} problem), rate_limited 429 (with Retry-After), internal 500 (a panic too; the cause is logged, never
// answered), bad_gateway 502 (Lever failed or could not be reached),
// unavailable 503 (no event inbox, or the inbox could not store an event).
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
// Idempotency-Key is recorded in the event inbox (source "api", unique per
// workflow and key) before the run starts, and the run id is derived from
// that record (triggers.RunID: time-ordered like every run id), so a
// repeated key answers 200 with the first run (Idempotent-Replayed: true)
// instead of starting another, even after a race or a crash; the same key
// with another body is a 409.
// ?wait= (at most MaxWait) answers 200 with the finished run, or as soon
// as a top-level respond step succeeds, that step's status, headers and
// body; 202 {id, status, ...} when the wait runs out. GET /runs pages
// newest first with a keyset cursor: {runs, next}, ?after=next.
//
// Recovery: POST /runs/:id/cancel stops a run within a second, a step in
// flight included (its context is cancelled; on another server, that
// server's cancel watch sees the request within engine.Options.CancelPoll).
// POST /runs/:id/retry re-queues a failed or cancelled run; its optional
// body {from: "failed"|"start", version: "original"|"latest"} chooses
// whether finished steps keep their outputs and which workflow version
// runs (on the latest, only steps unchanged there keep theirs; see
// engine.RetryRunWith). A run that cannot be retried (another status, a
// redact_pii workflow) is a 409 naming why. POST /runs/retry (admin) does
// the same for up to max (default 100, at most 1000) runs selected by
// {workflow_id, status: "failed"|"cancelled", since, until}, newest first,
// and answers {retried: [ids], count}; a bad filter is a 400.
//
// Connections: the proxy (ANY of GET, POST, PUT, PATCH, DELETE on
// /connections/:name/proxy/*path) forwards the method, query and JSON body
// to Lever through the connection's client and answers Lever's status and
// body as they are, Lever errors included (as Lever's {"code",
// "message"}), marked X-Leverflow-Upstream: lever so a Lever 401 is not
// mistaken for the API's own.
//
// Workflows: POST creates version 1 of a new, disabled workflow (409 when
// the id exists or existed: ids are never reused); PUT saves the next
// version of an existing one, which stays enabled or disabled. GET
// /workflows lists them by id with keyset paging ({workflows, next},
// ?after=next), each with its trigger, newest run and run counts by status
// (every status present). A deleted workflow (DELETE, 204) is 404
// everywhere, its versions and diffs included; its runs stay readable.
// POST /workflows/:id/enable validates the latest version again,
// connections included, and answers 422 with every problem. GET
// /workflows/:id/diff?from=N&to=M (defaults: the latest and the one before)
// is a structural diff, a list of {path, op, from, to, step_id}; see Diff
// for the format (steps are matched by id, so moving a step changes
// nothing). engine.ErrInvalidArgument is a 400.
//
// Tokens: Config.Auth is usually Chain(static, NewStoreTokens(store, ...)):
// the LEVERFLOW_ADMIN_TOKEN first, then the tokens of the store, looked up
// by their SHA-256 (a revoked one is 401 "the token was revoked"). Their
// use is recorded at most once a minute per token, in the background.
// Admins list (never a token or its hash), create (POST /tokens: the token
// is in that answer only) and revoke (DELETE /tokens/:id) them; NewToken
// makes the "lf_" tokens for the CLI as well.
//
// Events and webhooks: POST /hooks/lever/:connection (no token; outside
// /api/v1, next to /healthz and /metrics) reads at most
// triggers.MaxWebhookBody bytes (413) and hands the body to
// Config.Inbox.ReceiveLever, answering 200 {event_id, duplicate} only once
// the event is committed; 400 malformed, 404 unknown connection (or one
// without webhooks), 401 bad signature or stale with no body at all, 503
// when it could not be stored (Lever retries). The runs start right after,
// routed by the receiver. GET /events pages the inbox newest first, with
// each payload; GET /events/:id adds the runs it started with their
// statuses; POST /events/:id/replay routes one again (the answer has
// new_run_ids) and POST /events/replay replays up to max (default 100, at
// most 1000) events a filter selects. Without Config.Inbox the webhook and
// replay routes answer 503 unavailable.
//
// Operations: GET /healthz pings the database and asks engine.Healthy
// (200, or 503 with the reason); GET /metrics (no token) serves Metrics,
// a Prometheus registry of its own. Pass one NewMetrics() value to
// engine.Options.Observer, triggers.ReceiverConfig.Metrics and
// Config.Metrics; Config.LeverStats adds the Lever clients' counters.
package api
