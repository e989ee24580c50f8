// Package sandbox is an in-memory imitation of Lever's v1 Data API.
//
// Tests, the demo and the default connection talk to it because no machine
// here reaches Lever. A *Sandbox is an http.Handler whose routes live under
// /v1 (mount it at the server root; the API root is then <server>/v1).
//
// It owns, and reproduces as faithfully as the project's Lever reference
// (shared/lever/README.md) and its fixtures allow:
//
//   - authentication: HTTP Basic with an API key as user and an empty
//     password, or a Bearer token that the sandbox itself issued
//     (IssueToken) and that has not expired; anything else is a 401
//     UnauthorizedError;
//   - the {"data": ...} envelope, lists as {"data": [...], "hasNext",
//     "next"} with keyset pagination behind opaque, percent-encoded offset
//     tokens (accepted double-encoded too), limit 1..100 (default 100),
//     201 on create, 200 on read and update, 204 on delete, and the
//     {"code","message"} error body for 400/401/403/404/429;
//   - a token bucket per credential (10 req/s, bursts of 20 by default);
//   - opportunities (with contacts, dedupe by email, stage changes,
//     archiving, tags, links and sources), contacts, postings, users,
//     stages, archive reasons, tags, sources and webhook management;
//   - signed webhook deliveries (applicationCreated, candidateStageChange,
//     candidateArchiveChange, candidateHired, contactCreated, contactUpdated)
//     made asynchronously with retries, and an attempt log (Deliveries);
//   - deterministic seed data (Options.Seed) with believable names.
//
// It does not own the Lever client (steps/lever/client), OAuth code
// exchange, or webhook receiving; Sign is exported so receivers and tests
// compute the same signature as the sender. The package imports only the
// standard library.
//
// Where the reference marks behaviour as UNCONFIRMED the sandbox picks the
// documented recommendation: update endpoints answer {data: opportunity},
// 429 carries no Retry-After unless Options.RetryAfter is set, and the
// catalog lists carry hasNext:false like every other list.
package sandbox
