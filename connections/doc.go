// Package connections owns Leverflow's Lever connections: named Lever
// accounts ("acme", "acme-sandbox"), unique per connected user (user id ""
// is the workspace's own), that the Lever steps, triggers and API reach
// Lever through. It owns their secrets (sealed at rest), the OAuth
// authorization-code flow, access token refresh, status, "test
// connection", and the *client.Client each connection hands out.
//
// It does not own persistence (engine/store keeps the records, sealed
// blobs and all, and knows nothing of Lever), the HTTP handlers (api/
// maps the errors below to statuses), nor the Lever client itself
// (steps/lever/client).
//
// # Secrets at rest
//
// The key is 32 bytes (AES-256) from LEVERFLOW_SECRET_KEY, given as
// standard or URL-safe base64 (padded or not) or as 64 hex characters, or
// else from a key file that LoadKey creates on first start with mode 0600
// (a random key in base64); a key file readable by group or others is
// refused. Every secret of a connection (API key, client secret, access
// and refresh tokens, webhook signature tokens) is one JSON document
// sealed with AES-256-GCM:
//
//	blob = version (1 byte, 1) || nonce (12 random bytes) || ciphertext || tag
//
// with additional data "leverflow/connection" + user id + name (and the
// version byte), so a blob moved to another row or another connection
// does not open. A pending OAuth authorization's payload (it carries the
// client secret) is sealed the same way, bound to its state. The store
// holds only a SHA-256 of the OAuth state. Secrets are never returned
// (Connection has no field for them) nor logged: logs carry the
// connection name and user id only, and the secrets type formats itself
// as "[secrets redacted]".
//
// # Environments
//
// "production" and "sandbox" are Lever's (API root, authorize and token
// URLs and audience as in the project's Lever reference). "local" is the
// built-in Lever sandbox, given by the caller with LocalEnvironment: its
// root URL, its built-in OAuth app (so OAuth needs no client id or secret)
// and its API key (so an API key connection needs none).
//
// # API keys and the account they reach
//
// CreateAPIKey checks the key with one authenticated call before storing
// anything. Lever's v1 API has no "who am I" endpoint for API keys, so the
// account is identified by its earliest-created Super Admin (GET
// /users?accessRole=super admin&includeDeactivated=true; deactivated ones
// count, so deactivating someone does not change the identity): that
// user's id and email are Account.UserID/UserEmail/SuperAdminID, and the
// email's domain is Account.Name. A key Lever rejects (401) is refused
// with an *AuthError carrying Lever's reason; a key that may not read
// users (403) is accepted with a warning and an unidentified account.
//
// # OAuth
//
// Authorize validates everything up front, stores a pending authorization
// under a random 32-byte state (valid StateTTL, used once) and returns
// Lever's authorize URL (client_id, redirect_uri, response_type=code,
// state, audience, scope = the scopes + offline_access, prompt=consent).
// Authorize also takes a Binding, an opaque random value the caller ties
// to the browser that starts the flow (the HTTP API sets it as an
// HttpOnly, SameSite=Lax cookie); only its SHA-256 is kept, in the sealed
// payload. Callback takes a CallbackRequest (the query, the binding read
// back from the browser, the authenticated user id) and checks the state
// (ErrBadState when missing, unknown, expired or reused) and that the
// callback comes from the browser and user that started the flow
// (ErrBadState: "started in another browser or session"; the hashes are
// compared in constant time): the login-CSRF check. An authorization
// started without a binding finishes only without one; the HTTP API must
// always bind, only the CLI (which finishes the flow itself) may not.
// Callback turns an error parameter into an *AuthError
// with the steps that fix the known cases ("has not logged into Lever
// recently", access_denied), exchanges the code (form POST with the client
// credentials in the body), and stores the tokens sealed with
// refresh_expires_at = now + 365 days (Lever's documented lifetime; the
// 90 days without use are tracked as refresh_idle_expires_at). The account
// and user come from the access token's JWT claims
// https://oauth.lever.co/accountId and .../userId. The JWT's signature is
// not checked: the token came straight from Lever's token endpoint over
// TLS in answer to our own request, and is only read, never used to
// authenticate anyone. When the token may read users, the account's
// earliest Super Admin is recorded too, so OAuth and API key connections
// to one account compare equal.
//
// Reusing a name is refused with ErrNameTaken unless Replace is set (or
// the connection is needs_reauth: reconnecting it needs no Replace, and
// reuses its app and scopes when none are given). Replacing credentials
// with ones that reach another Lever account (or an account that cannot be
// compared) is refused with ErrDifferentAccount, naming both accounts,
// unless ConfirmAccountChange is set. Nothing is written on failure.
//
// # Refresh
//
// An OAuth client's token source returns the access token and refreshes it
// RefreshBefore (5 min) its expiry. One refresh at a time runs per
// connection in a process (singleflight; 100 concurrent callers make one
// token request). Across processes a claim decides: before calling Lever,
// a process records "refreshing until now+30 s by <process id>" in the
// connection (store.Connection.RefreshClaimUntil/Owner) with an update
// conditional on the revision it read, then saves the new tokens and
// clears the claim in one write. A process that finds someone else's live
// claim sends nothing: it polls the store (Config.Now/Sleep) for the new
// tokens until the claim ends, and takes over only after it expired. The
// rotated refresh token is persisted before the new access token is used.
// A needs_reauth mark is conditional on the revision read, so it never
// overwrites tokens a claimant saved; and a claimant whose save finds the
// connection changed (its claim expired and a taker-over was refused the
// token it had rotated) writes its fresh tokens over it unless the
// credentials were replaced. invalid_grant (and any other 4xx
// OAuth error), or a refresh token past its stored expiry, turns the
// connection needs_reauth with the message
//
//	connection "acme" needs to be reconnected: <reason>. Reconnect it in
//	the editor's Connections page or with GET
//	/api/v1/connections/lever/authorize?name=acme
//
// which Client and the token source then return wrapped as
// ErrNeedsReauth.
//
// A 401 from Lever during a call goes through the transport of the client
// Client builds: for OAuth, when the refused request carried the token
// still stored, one refresh is forced (through the same single flight and
// claim) and the request is resent once with the new token (a request
// whose body cannot be re-read, without GetBody, is not resent); if the
// refresh fails for good, or the resent request is still refused, the
// connection turns needs_reauth ("Lever refused the connection's
// authorization", with how to reconnect). An API key Lever refuses turns
// it needs_reauth at once, saying the key was revoked or rotated and where
// in Lever to create a new one. The call then fails with the needs_reauth
// error, which also matches client.ErrUnauthorized. That error is also a permanent steps.Error, so a Lever
// step fails at once instead of spending its retries on an account that
// only a person can reconnect. Network errors, 429 and 5xx from the token endpoint are
// returned as retryable errors and leave the connection connected.
//
// A connected OAuth connection whose authorization ends within 14 days
// carries a warning in its view; CheckExpiry lists them for every user
// (store.ListAllConnections) and logs one warning each (name, user id and
// date only).
//
// # Webhooks
//
// RegisterWebhooks makes the connection's Lever account deliver Lever
// events (by default WebhookEvents, the ten Lever pushes) to a receiver
// URL, the server's POST /hooks/lever/<name>. It is idempotent: it lists
// the account's webhooks (GET /webhooks), keeps the ones already
// delivering a wanted event to that URL whose signature token the
// connection holds, deletes the connection's stale ones (at that URL
// without a held token, duplicates, events no longer wanted, its own at
// another URL, and ones an earlier attempt failed to delete), creates the
// missing ones (POST /webhooks) and seals each signatureToken, which Lever
// returns only once, in the connection's secrets (event → webhook id and
// token). The public view (Connection.Webhooks, a WebhookSet) has the URL
// and, per event, the webhook id and creation time; never a token.
//
// One change of a connection's webhooks runs at a time: a lock in the
// process and, across processes, a claim recorded in the connection
// (conditional on the revision read, valid 2 minutes) that other
// processes wait out. The tokens are saved in one write over the claim's
// revision; when a token refresh saved meanwhile, the connection is read
// again and the webhooks written over the fresh secrets, and a refresh
// that finds the connection changed keeps the webhook tokens likewise, so
// neither change is lost. Webhooks created but not saved are deleted
// again (best effort; the next registration deletes leftovers).
// Replacing a connection's credentials keeps its webhooks when the new
// credentials reach the same account in the same environment.
//
// WebhookSecrets gives the receiver the token of each event to verify a
// delivery with (triggers.VerifyLeverSignature). It is cached in memory:
// this process's changes invalidate the cache at once, other processes'
// within 10 seconds. UnregisterWebhooks deletes them from Lever, and
// Delete unregisters first, best effort (a failure is logged with the
// connection's name and does not stop the delete).
//
// # Errors
//
// ErrInvalid (which field and why), ErrNameTaken, ErrDifferentAccount,
// ErrNotFound, ErrBadState and ErrNeedsReauth are sentinels wrapped with
// context; *AuthError{Code, Description, Fix} is a Lever authorization
// failure.
package connections
