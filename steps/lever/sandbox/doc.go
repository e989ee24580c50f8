// Package sandbox is an in-memory imitation of Lever's v1 Data API.
//
// Tests, the demo and the default connection talk to it because no machine
// here reaches Lever. A *Sandbox is an http.Handler: mount it at a server
// root; the API root is then <server>/v1 and the OAuth endpoints are
// <server>/oauth/authorize and <server>/oauth/token.
//
// It owns, and reproduces as faithfully as the project's Lever reference
// (shared/lever/README.md) and its fixtures allow:
//
//   - authentication: HTTP Basic with an API key as user and an empty
//     password, a Bearer token issued by IssueToken, or a Bearer OAuth
//     access token (below); anything else is a 401 UnauthorizedError;
//   - the {"data": ...} envelope, lists as {"data": [...], "hasNext",
//     "next"} with keyset pagination behind opaque, percent-encoded offset
//     tokens (accepted double-encoded too), limit 1..100 (default 100),
//     201 on create, 200 on read and update, 204 on delete, and the
//     {"code","message"} error body for 400/401/403/404/429;
//   - a token bucket per credential (10 req/s, bursts of 20 by default);
//   - opportunities (with contacts, dedupe by email, stage changes,
//     archiving, tags, links and sources), deleted opportunities (GET
//     /opportunities/deleted, filled by DeleteOpportunity since Lever's API
//     cannot delete), contacts, postings with their application form (GET
//     and POST /postings/:id/apply), users, stages, archive reasons, tags,
//     sources and webhook management;
//   - signed webhook deliveries (applicationCreated, candidateStageChange,
//     candidateArchiveChange, candidateHired, candidateDeleted,
//     contactCreated, contactUpdated) made asynchronously with retries, and
//     an attempt log (Deliveries);
//   - Lever's OAuth 2.0 authorization-code flow as its Auth0 tenant
//     behaves: GET /oauth/authorize shows an HTML consent page ("Authorize
//     <app>", the scopes, the account, Accept and Deny) for a registered
//     client (Options.OAuthClients, or a generated built-in client that
//     accepts any http://127.0.0.1 or http://localhost callback); an
//     unknown client or a redirect_uri that is not registered exactly is a
//     400 page and never a redirect; other errors, Deny and the test hook
//     SetAuthorizeError redirect with error and error_description; Accept
//     redirects with a single-use code valid for 10 minutes. POST
//     /oauth/token (form-encoded or JSON; client credentials in the form or
//     as HTTP Basic) exchanges a code (redirect_uri must repeat the
//     authorization's) or a refresh token, answering {access_token,
//     refresh_token, token_type, scope, expires_in} or Auth0-style
//     {error, error_description} (400 invalid_request, invalid_grant,
//     unsupported_grant_type; 401 invalid_client). A refresh token is issued
//     only for offline_access and is rotated: each refresh returns a new one
//     and the used one stops working at once; it expires RefreshTokenTTL
//     after the authorization (365 days) or RefreshIdleTTL after its last
//     use (90 days). Access tokens are HS256 JWTs (iss, sub, aud, iat, exp,
//     scope, azp, jti and the https://oauth.lever.co/ userId, accountId and
//     clientId claims) that the API accepts until exp (AccessTokenTTL, 1h)
//     when their aud is http(s)://<request Host>/v1/ (see Audience); a
//     token without an audience (the consent then offers only
//     offline_access, as Lever's does) or for another audience is a 401.
//     All lifetimes are measured on Options.Now. Scopes are checked for
//     spelling at authorization, not enforced per endpoint;
//   - deterministic seed data (Options.Seed) with believable names, and a
//     stable account (AccountID, AccountName).
//
// It does not own the Lever client (steps/lever/client), storing or
// refreshing a connection's tokens, or webhook receiving; Sign is exported
// so receivers and tests compute the same signature as the sender. The
// package imports only the standard library and logs nothing: secrets
// (keys, client secrets, tokens) appear only in the responses that issue
// them.
//
// Where the reference marks behaviour as UNCONFIRMED the sandbox picks the
// documented recommendation: update endpoints answer {data: opportunity},
// 429 carries no Retry-After unless Options.RetryAfter is set, and the
// catalog lists carry hasNext:false like every other list, applying twice
// to the same posting with the same email returns the first application,
// the apply form carries one custom question form and no EEO questions
// (the account is European), and DeleteOpportunity records the account's
// super admin (DeletedBy) as the deleter.
package sandbox
