// Package client is the typed REST client for Lever's v1 Data API.
//
// It owns everything about talking HTTP to Lever and nothing above that:
//
//   - authentication: an API key sent as HTTP Basic (key as user, empty
//     password) or an OAuth bearer token fetched from a TokenSource on every
//     request (refreshing tokens is the caller's job);
//   - the {"data": ...} envelope, 201/204 handling and the {"code","message"}
//     error body, turned into *APIError with errors.Is sentinels
//     (ErrNotFound, ErrUnauthorized, ErrForbidden, ErrRateLimited);
//   - the client-side token bucket (10 req/s, bursts of 20 by default; pass
//     Config.Limiter to share one bucket per credential between clients);
//   - retries: 429 always, 5xx and network errors for GET/PUT/DELETE, and for
//     POST only with the Idempotent or BeforeRetry call options, because Lever
//     has no idempotency keys and a retried POST writes twice;
//   - pagination over hasNext/next with the opaque offset token sent back
//     unchanged (Page, FetchPage, List and the typed List* iterators);
//   - typed request and response structs for opportunities, contacts,
//     postings, applications, users, stages, archive reasons, tags, sources
//     and webhooks. Timestamps are Unix milliseconds (Millis); ids that
//     expand can turn into objects are Ref.
//
// It does not own workflow semantics (step inputs, dedupe policy, polling
// cursors), OAuth code exchange, or webhook receiving; those live in
// steps/lever and triggers. The package imports only the standard library
// and golang.org/x/time/rate.
//
// Field names follow Lever's documentation; see the project's Lever
// reference (shared/lever/README.md) for what is confirmed and what is
// inferred.
package client
