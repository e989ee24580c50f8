package gormstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// migration is one versioned schema change. Versions are applied in order,
// once each, and recorded in schema_migrations. Never edit a released
// migration: append a new one.
type migration struct {
	version int
	name    string
	stmts   []string
	// after, when set, runs after stmts in the same transaction: a data
	// change that is simpler in Go than in SQL both databases accept.
	after func(tx *gorm.DB) error
	// outside, when set, runs after the migrations' transaction commits,
	// outside any transaction (SQLite's VACUUM cannot run in one), at
	// every open once the migration is applied: a crash between the commit
	// and it is made good on the next open. It must be idempotent, and
	// cheap when there is nothing left to do.
	outside func(ctx context.Context, db *gorm.DB, d dialect) error
}

// migrations is the schema's whole history. The DDL is written in SQL that
// SQLite and PostgreSQL both accept. Times are BIGINT microseconds since
// the Unix epoch (UTC); JSON is TEXT (the empty string when empty); a run
// nobody holds has an empty lease_owner and a NULL lease_until. Binary
// columns are written {{bytes}}, which migrate replaces with the dialect's
// type (BLOB, BYTEA).
var migrations = []migration{
	{
		version: 1,
		name:    "workflows, versions, runs and step runs",
		stmts: []string{
			`CREATE TABLE workflows (
				id             TEXT    NOT NULL PRIMARY KEY,
				name           TEXT    NOT NULL DEFAULT '',
				latest_version INTEGER NOT NULL,
				user_id        TEXT    NOT NULL DEFAULT '',
				created_at     BIGINT  NOT NULL,
				updated_at     BIGINT  NOT NULL
			)`,
			`CREATE TABLE workflow_versions (
				workflow_id TEXT    NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
				version     INTEGER NOT NULL,
				name        TEXT    NOT NULL DEFAULT '',
				definition  TEXT    NOT NULL,
				created_at  BIGINT  NOT NULL,
				PRIMARY KEY (workflow_id, version)
			)`,
			`CREATE TABLE runs (
				id               TEXT    NOT NULL PRIMARY KEY,
				workflow_id      TEXT    NOT NULL,
				version          INTEGER NOT NULL,
				user_id          TEXT    NOT NULL DEFAULT '',
				status           TEXT    NOT NULL,
				error            TEXT    NOT NULL DEFAULT '',
				"trigger"        TEXT    NOT NULL DEFAULT '',
				created_at       BIGINT  NOT NULL,
				started_at       BIGINT,
				finished_at      BIGINT,
				wake_at          BIGINT,
				lease_owner      TEXT    NOT NULL DEFAULT '',
				lease_until      BIGINT,
				cancel_requested BOOLEAN NOT NULL DEFAULT FALSE
			)`,
			// Claiming: queued runs oldest first, waiting runs by wake time,
			// expired leases; listing: by workflow and by status, newest first.
			`CREATE INDEX runs_status_wake_at ON runs (status, wake_at)`,
			`CREATE INDEX runs_lease_until ON runs (lease_until)`,
			`CREATE INDEX runs_workflow_id_id ON runs (workflow_id, id)`,
			`CREATE INDEX runs_status_id ON runs (status, id)`,
			`CREATE TABLE step_runs (
				run_id      TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
				"key"       TEXT    NOT NULL,
				step_id     TEXT    NOT NULL,
				type        TEXT    NOT NULL DEFAULT '',
				status      TEXT    NOT NULL,
				attempts    INTEGER NOT NULL DEFAULT 0,
				input       TEXT    NOT NULL DEFAULT '',
				output      TEXT    NOT NULL DEFAULT '',
				error       TEXT    NOT NULL DEFAULT '',
				branch      TEXT    NOT NULL DEFAULT '',
				started_at  BIGINT,
				finished_at BIGINT,
				wake_at     BIGINT,
				PRIMARY KEY (run_id, "key")
			)`,
		},
	},
	{
		version: 2,
		name:    "connections and pending OAuth states",
		stmts: []string{
			// One row per (user, name): user_id is '' for the workspace's
			// own connections. "public" is caller JSON; secrets is the
			// caller's sealed blob; revision fences concurrent updates.
			`CREATE TABLE connections (
				user_id            TEXT      NOT NULL DEFAULT '',
				name               TEXT      NOT NULL,
				provider           TEXT      NOT NULL DEFAULT '',
				environment        TEXT      NOT NULL DEFAULT '',
				auth               TEXT      NOT NULL DEFAULT '',
				status             TEXT      NOT NULL DEFAULT '',
				status_message     TEXT      NOT NULL DEFAULT '',
				"public"           TEXT      NOT NULL DEFAULT '',
				secrets            {{bytes}} NOT NULL,
				access_expires_at  BIGINT,
				refresh_expires_at BIGINT,
				revision           BIGINT    NOT NULL,
				created_at         BIGINT    NOT NULL,
				updated_at         BIGINT    NOT NULL,
				PRIMARY KEY (user_id, name)
			)`,
			`CREATE TABLE oauth_states (
				id         TEXT      NOT NULL PRIMARY KEY,
				user_id    TEXT      NOT NULL DEFAULT '',
				payload    {{bytes}} NOT NULL,
				expires_at BIGINT    NOT NULL,
				created_at BIGINT    NOT NULL
			)`,
			// Taking a state sweeps the expired ones.
			`CREATE INDEX oauth_states_expires_at ON oauth_states (expires_at)`,
		},
	},
	{
		version: 3,
		name:    "connection refresh claims and revision tombstones",
		stmts: []string{
			// A process refreshing a connection's tokens claims it until
			// refresh_claim_until (NULL: no claim).
			`ALTER TABLE connections ADD COLUMN refresh_claim_until BIGINT`,
			`ALTER TABLE connections ADD COLUMN refresh_claim_owner TEXT NOT NULL DEFAULT ''`,
			// The last revision of each deleted connection, so one created
			// again under the same name starts above it.
			`CREATE TABLE connection_tombstones (
				user_id  TEXT   NOT NULL DEFAULT '',
				name     TEXT   NOT NULL,
				revision BIGINT NOT NULL,
				PRIMARY KEY (user_id, name)
			)`,
		},
	},
	{
		version: 4,
		name:    "workflow state, API tokens, the event inbox, run origins",
		stmts: []string{
			// A workflow is disabled until enabled; trigger_type and
			// trigger_connection copy the latest version's trigger (for
			// routing events without decoding every definition);
			// deleted_at marks a soft delete (NULL: live).
			`ALTER TABLE workflows ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT FALSE`,
			`ALTER TABLE workflows ADD COLUMN trigger_type TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE workflows ADD COLUMN trigger_connection TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE workflows ADD COLUMN deleted_at BIGINT`,
			`CREATE INDEX workflows_trigger ON workflows (trigger_connection, trigger_type)`,
			// hash is the SHA-256 (hex) of the token; the token itself is
			// never stored.
			`CREATE TABLE api_tokens (
				id           TEXT    NOT NULL PRIMARY KEY,
				name         TEXT    NOT NULL DEFAULT '',
				hash         TEXT    NOT NULL,
				admin        BOOLEAN NOT NULL DEFAULT FALSE,
				user_id      TEXT    NOT NULL DEFAULT '',
				created_at   BIGINT  NOT NULL,
				last_used_at BIGINT,
				revoked_at   BIGINT
			)`,
			`CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (hash)`,
			`CREATE INDEX api_tokens_created_at ON api_tokens (created_at)`,
			// The inbox: every event received, before it is routed. run_ids
			// is a JSON list of the runs it started.
			`CREATE TABLE events (
				id          TEXT    NOT NULL PRIMARY KEY,
				source      TEXT    NOT NULL,
				connection  TEXT    NOT NULL DEFAULT '',
				user_id     TEXT    NOT NULL DEFAULT '',
				type        TEXT    NOT NULL DEFAULT '',
				dedupe_key  TEXT    NOT NULL DEFAULT '',
				payload     TEXT    NOT NULL DEFAULT '',
				received_at BIGINT  NOT NULL,
				status      TEXT    NOT NULL,
				error       TEXT    NOT NULL DEFAULT '',
				run_ids     TEXT    NOT NULL DEFAULT '',
				routed_at   BIGINT,
				replays     INTEGER NOT NULL DEFAULT 0
			)`,
			// An event delivered twice is kept once (InsertEvent's ON
			// CONFLICT names this index's columns and predicate).
			`CREATE UNIQUE INDEX events_dedupe ON events (source, user_id, connection, dedupe_key) WHERE dedupe_key <> ''`,
			// Pending events oldest first; listings by status, connection
			// and type newest first.
			`CREATE INDEX events_status_received_at ON events (status, received_at)`,
			`CREATE INDEX events_connection_id ON events (connection, id)`,
			`CREATE INDEX events_type_id ON events (type, id)`,
			`CREATE INDEX events_received_at ON events (received_at)`,
			// What started a run: the trigger type, and the inbox event.
			`ALTER TABLE runs ADD COLUMN event_id TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE runs ADD COLUMN trigger_type TEXT NOT NULL DEFAULT ''`,
			`CREATE INDEX runs_event_id ON runs (event_id) WHERE event_id <> ''`,
			`CREATE INDEX runs_trigger_type_id ON runs (trigger_type, id)`,
			`CREATE INDEX runs_created_at ON runs (created_at)`,
			// Run counts by workflow and status, from the index alone.
			`CREATE INDEX runs_workflow_id_status ON runs (workflow_id, status)`,
		},
		after: backfillTriggers,
	},
	{
		version: 5,
		name:    "trigger state: schedules' next fire times and polls' cursors",
		stmts: []string{
			// kind is 'schedule' or 'poll'; key is '' for a schedule and the
			// user, connection and trigger type for a poll (whose
			// workflow_id is ''). "cursor" is the next fire time or the
			// poll cursor (NULL: unset); data is the trigger's JSON;
			// version fences concurrent writers.
			`CREATE TABLE trigger_state (
				workflow_id TEXT   NOT NULL DEFAULT '',
				kind        TEXT   NOT NULL,
				"key"       TEXT   NOT NULL DEFAULT '',
				"cursor"    BIGINT,
				data        TEXT   NOT NULL DEFAULT '',
				version     BIGINT NOT NULL,
				updated_at  BIGINT NOT NULL,
				PRIMARY KEY (workflow_id, kind, "key")
			)`,
		},
	},
	{
		version: 6,
		name:    "retention: finished runs by workflow version, incremental vacuum",
		stmts: []string{
			// The pruner deletes a version's runs finished before a cutoff,
			// oldest first.
			`CREATE INDEX runs_retention ON runs (workflow_id, version, finished_at)`,
		},
		// Space freed by the pruner goes back to the file system.
		outside: func(ctx context.Context, db *gorm.DB, d dialect) error {
			return d.enableIncrementalVacuum(ctx, db)
		},
	},
	{
		version: 7,
		name:    "concurrency: a run's key and limit, why it waits",
		stmts: []string{
			// The group a run of a limited workflow belongs to; 0 is no
			// limit (see store.Concurrency).
			`ALTER TABLE runs ADD COLUMN concurrency_key TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE runs ADD COLUMN concurrency_limit INTEGER NOT NULL DEFAULT 0`,
			`ALTER TABLE runs ADD COLUMN wait_reason TEXT NOT NULL DEFAULT ''`,
			// Counting a group's active and earlier queued runs; partial,
			// so runs without a limit cost it nothing.
			`CREATE INDEX runs_concurrency ON runs (workflow_id, concurrency_key, status, id) WHERE concurrency_limit > 0`,
		},
	},
}

// backfillTriggers copies the latest version's trigger of every workflow
// saved before migration 4 into its trigger columns.
func backfillTriggers(tx *gorm.DB) error {
	var rows []struct {
		ID         string
		Definition string
	}
	if err := tx.Raw(`SELECT w.id AS id, v.definition AS definition FROM workflows w
		JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.latest_version`).Scan(&rows).Error; err != nil {
		return fmt.Errorf("reading workflow definitions: %w", err)
	}
	for _, r := range rows {
		typ, conn := triggerOf([]byte(r.Definition))
		if typ == "" && conn == "" {
			continue
		}
		if err := tx.Exec(`UPDATE workflows SET trigger_type = ?, trigger_connection = ? WHERE id = ?`, typ, conn, r.ID).Error; err != nil {
			return fmt.Errorf("setting the trigger of workflow %s: %w", r.ID, err)
		}
	}
	return nil
}

// ddl is a migration statement in d's SQL.
func ddl(d dialect, stmt string) string {
	return strings.ReplaceAll(stmt, "{{bytes}}", d.bytesType())
}

// migrate brings the schema up to date in one transaction: concurrent
// openers of the same database apply each migration once.
func migrate(ctx context.Context, db *gorm.DB, d dialect, now time.Time) error {
	if err := applyMigrations(ctx, db, d, migrations, now); err != nil {
		return err
	}
	for _, m := range migrations {
		if m.outside != nil {
			if err := m.outside(ctx, db, d); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
			}
		}
	}
	return nil
}

// applyMigrations applies those of ms not yet applied, in one transaction.
func applyMigrations(ctx context.Context, db *gorm.DB, d dialect, ms []migration, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := d.lockMigrations(tx); err != nil {
			return fmt.Errorf("locking schema_migrations: %w", err)
		}
		if err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER NOT NULL PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at BIGINT  NOT NULL
		)`).Error; err != nil {
			return fmt.Errorf("creating schema_migrations: %w", err)
		}
		var applied []int
		if err := tx.Raw(`SELECT version FROM schema_migrations`).Scan(&applied).Error; err != nil {
			return fmt.Errorf("reading schema_migrations: %w", err)
		}
		done := make(map[int]bool, len(applied))
		known := 0
		for _, m := range ms {
			known = max(known, m.version)
		}
		for _, v := range applied {
			if v > known {
				return fmt.Errorf("the database schema is at version %d, newer than this Leverflow knows (%d): upgrade Leverflow", v, known)
			}
			done[v] = true
		}
		for _, m := range ms {
			if done[m.version] {
				continue
			}
			for _, stmt := range m.stmts {
				if err := tx.Exec(ddl(d, stmt)).Error; err != nil {
					return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
				}
			}
			if m.after != nil {
				if err := m.after(tx); err != nil {
					return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
				}
			}
			if err := tx.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, now.UnixMicro()).Error; err != nil {
				return fmt.Errorf("recording migration %d: %w", m.version, err)
			}
		}
		return nil
	})
}
