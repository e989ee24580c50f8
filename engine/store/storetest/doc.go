// Package storetest is the conformance suite every store.Store
// implementation must pass: Run exercises the documented contract of each
// method (workflow versions, runs and step runs, claiming under leases,
// fenced writes, cancel and retry, connections under optimistic
// concurrency, take-once OAuth states, workflow state and soft delete, run
// origins and filters, API tokens, the deduplicating event inbox) against
// fresh stores, including claims and deduplicated inserts raced from many
// goroutines. An implementation's tests call
//
//	storetest.Run(t, func(t *testing.T) store.Store { ... a fresh, empty store ... })
package storetest
