// Package lever owns the Lever action steps: lever.create_opportunity,
// lever.get_opportunity, lever.get_opportunities, lever.update_contact,
// lever.get_postings, lever.get_users, lever.request and the rest. Each is a
// steps.Spec (title, category "Lever", documented input and output schemas,
// a save-time Check and runnable examples) whose handler calls Lever through
// the client (steps/lever/client) that Clients hands out for the step's
// connection.
//
// What the package decides, beyond passing Lever's JSON through:
//
//   - outputs are Lever's "data", unwrapped, with Lever's own (camelCase)
//     field names; list steps answer {"items", "count", "has_next", "next"};
//   - errors: a 4xx other than 429 is permanent and carries Lever's message
//     ("Lever answered 404 ResourceNotFound: ..."); 429, 5xx and network
//     errors are retryable (a 429's Retry-After is passed on); context
//     errors pass through unchanged;
//   - Lever has no idempotency keys, so lever.create_opportunity and
//     lever.create_posting look for what an earlier, failed attempt may
//     already have written before they write again (see dedupe.go);
//   - lever.update_contact merges the given fields over the current contact;
//   - lever.get_users and lever.get_user add directory fields (first_name,
//     status, license_status, ...) for SaaS-management syncs.
//
// It does not own connections (how a connection name becomes a client is
// the Clients implementation's business), nor HTTP, auth, rate limiting or
// pagination mechanics (the client's).
package lever
