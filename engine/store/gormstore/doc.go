// Package gormstore is the engine's store.Store on a SQL database through
// gorm: the schema and its migrations, claiming runs under leases, the
// fenced writes of run state, connections (revision-fenced updates) with
// their take-once pending OAuth states, workflow state (enabled, trigger,
// soft delete), API tokens (by SHA-256 hash) and the event inbox (deduped by
// a partial unique index, INSERT ... ON CONFLICT DO NOTHING). It is the only
// package in Leverflow that imports gorm.
//
// SQLite is the default (one file, WAL mode, one writer connection and a
// pool of read-only reader connections); everything that differs between
// databases (connection strings, pragmas, pool sizes, migration locking)
// sits behind the dialect seam in dialect.go so that PostgreSQL can be added
// without touching the queries, which are written in SQL both databases
// accept.
//
// The hot path (Apply once per step, claims, CreateRun, InsertEvent,
// TouchToken) runs statements prepared once on the writer pool and reused in
// every transaction, folded into shared transactions by the group commit
// (batch.go), and writes step runs with one multi-row INSERT ... ON
// CONFLICT (run_id, key) DO UPDATE per 500 rows; everything else goes
// through gorm.
//
// Times are stored as BIGINT microseconds since the Unix epoch (UTC): one
// representation that compares and indexes the same way on every database,
// and round-trips to the microsecond. JSON documents are stored as TEXT, an
// empty document as the empty string.
package gormstore
