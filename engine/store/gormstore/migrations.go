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
}

// ddl is a migration statement in d's SQL.
func ddl(d dialect, stmt string) string {
	return strings.ReplaceAll(stmt, "{{bytes}}", d.bytesType())
}

// migrate brings the schema up to date in one transaction: concurrent
// openers of the same database apply each migration once.
func migrate(ctx context.Context, db *gorm.DB, d dialect, now time.Time) error {
	return applyMigrations(ctx, db, d, migrations, now)
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
		known := ms[len(ms)-1].version
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
			if err := tx.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, now.UnixMicro()).Error; err != nil {
				return fmt.Errorf("recording migration %d: %w", m.version, err)
			}
		}
		return nil
	})
}
