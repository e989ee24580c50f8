// Package triggers will turn the outside world into runs: Lever webhooks,
// Lever polling, schedules and API calls, reaching the engine through one
// small interface the engine satisfies. It is built by a later milestone;
// until then runs are started through the engine directly (the CLI's run
// and test commands).
package triggers
