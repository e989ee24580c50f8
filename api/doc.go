// Package api will hold the gin HTTP API of DESIGN.md (workflows, runs,
// step types, connections, tokens, the webhook endpoint) and serve the
// editor. It is built by a later milestone.
package api
