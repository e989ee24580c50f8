package gormstore

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"strings"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// dialect is everything that differs between the databases gormstore runs
// on. Queries and migrations are written in SQL that SQLite and PostgreSQL
// both accept (with gorm rewriting the ? placeholders); nothing outside
// this file may be database-specific.
type dialect interface {
	// name names the database in errors.
	name() string
	// writer is the dialector of the pool that runs write transactions.
	writer() gorm.Dialector
	// reader is the dialector of the read pool; nil when reads share the
	// writer pool (an in-memory SQLite database exists once per connection).
	reader() gorm.Dialector
	// writerConns and readerConns cap the pools' open connections.
	writerConns() int
	readerConns() int
	// lockMigrations serialises concurrent migrators inside tx.
	lockMigrations(tx *gorm.DB) error
	// rebind rewrites the ? placeholders of a query run through
	// database/sql directly (not through gorm, which rewrites them itself).
	rebind(query string) string
	// bytesType is the column type of binary data (the {{bytes}} of a
	// migration): BLOB on SQLite, BYTEA on PostgreSQL.
	bytesType() string
	// enableIncrementalVacuum makes the space of deleted rows reclaimable
	// (SQLite: auto_vacuum=INCREMENTAL, applied by a VACUUM; PostgreSQL:
	// nothing, its autovacuum does it). It runs outside any transaction.
	enableIncrementalVacuum(ctx context.Context, db *gorm.DB) error
	// reclaimSpace gives the space of deleted rows back to the file system
	// (SQLite: PRAGMA incremental_vacuum and a WAL checkpoint; PostgreSQL:
	// nothing). It runs outside any transaction.
	reclaimSpace(ctx context.Context, db *gorm.DB) error
}

// dialectFor picks the dialect from the DSN: "sqlite://<path>", a bare file
// path, a "file:" URI or ":memory:" open SQLite.
func dialectFor(dsn string) (dialect, error) {
	switch {
	case dsn == "":
		return nil, fmt.Errorf("empty DSN: give a SQLite file path (or sqlite:///path/file.db)")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return nil, fmt.Errorf("PostgreSQL is not supported yet: use a SQLite file path")
	case strings.HasPrefix(dsn, "sqlite://"):
		return newSQLite(strings.TrimPrefix(dsn, "sqlite://")), nil
	case strings.Contains(dsn, "://"):
		return nil, fmt.Errorf("unsupported database URL %q: use a SQLite file path or sqlite:///path/file.db", dsn)
	}
	return newSQLite(dsn), nil
}

// sqliteDialect opens SQLite through mattn/go-sqlite3. Every connection
// gets WAL, a 5s busy timeout, foreign keys and synchronous=NORMAL (durable
// in WAL mode except for the last commits before a power loss, never
// corrupt). Writers begin with BEGIN IMMEDIATE (_txlock=immediate) so a
// write transaction takes the write lock up front and never fails upgrading
// a read lock; one writer connection serialises this process's writes and
// the busy timeout serialises them with other processes'. Readers are
// query_only connections that WAL lets read while a write is in progress.
type sqliteDialect struct {
	path   string // file path or "file:" URI, without parameters
	params url.Values
	memory bool
}

func newSQLite(dsn string) *sqliteDialect {
	d := &sqliteDialect{path: dsn, params: url.Values{}}
	if i := strings.IndexByte(dsn, '?'); i >= 0 {
		d.path = dsn[:i]
		d.params, _ = url.ParseQuery(dsn[i+1:])
	}
	d.memory = d.path == ":memory:" || strings.HasPrefix(d.path, "file::memory:") || d.params.Get("mode") == "memory"
	return d
}

func (d *sqliteDialect) name() string { return "sqlite" }

func (d *sqliteDialect) dsn(extra map[string]string) string {
	p := url.Values{}
	for k, v := range d.params {
		p[k] = v
	}
	set := func(k, v string) {
		if p.Get(k) == "" {
			p.Set(k, v)
		}
	}
	if !d.memory {
		set("_journal_mode", "WAL")
	}
	set("_busy_timeout", "5000")
	set("_foreign_keys", "on")
	set("_synchronous", "NORMAL")
	for k, v := range extra {
		p.Set(k, v)
	}
	return d.path + "?" + p.Encode()
}

func (d *sqliteDialect) writer() gorm.Dialector {
	return sqlite.Open(d.dsn(map[string]string{"_txlock": "immediate"}))
}

func (d *sqliteDialect) reader() gorm.Dialector {
	if d.memory {
		return nil
	}
	return sqlite.Open(d.dsn(map[string]string{"_query_only": "on"}))
}

func (d *sqliteDialect) writerConns() int { return 1 }

func (d *sqliteDialect) readerConns() int { return max(4, runtime.GOMAXPROCS(0)) }

func (d *sqliteDialect) rebind(query string) string { return query }

func (d *sqliteDialect) bytesType() string { return "BLOB" }

// lockMigrations is a no-op: the migration transaction began IMMEDIATE,
// which already holds the database's write lock.
func (d *sqliteDialect) lockMigrations(*gorm.DB) error { return nil }

// The space a SQLite database gives back. The file is put in incremental
// auto-vacuum mode once (migration 6, through enableIncrementalVacuum):
// pages freed by deletions then go to a free list that reclaimSpace
// truncates off the end of the file, without rewriting the whole database
// as a full VACUUM would.

// enableIncrementalVacuum puts the database in incremental auto-vacuum
// mode. Changing the mode of a database that has tables takes a VACUUM,
// which cannot run inside a transaction: db must not be in one. It is a
// cheap read when the mode is set already, and does nothing in memory.
func (d *sqliteDialect) enableIncrementalVacuum(ctx context.Context, db *gorm.DB) error {
	if d.memory {
		return nil
	}
	var mode int
	if err := db.WithContext(ctx).Raw(`PRAGMA auto_vacuum`).Scan(&mode).Error; err != nil {
		return fmt.Errorf("reading auto_vacuum: %w", err)
	}
	if mode == sqliteIncrementalVacuum {
		return nil
	}
	conn, err := db.DB()
	if err != nil {
		return err
	}
	// One connection for both statements: the mode is a pending change
	// of that connection until its VACUUM.
	c, err := conn.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
		return fmt.Errorf("setting auto_vacuum: %w", err)
	}
	if _, err := c.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("vacuuming to apply auto_vacuum: %w", err)
	}
	return nil
}

// sqliteIncrementalVacuum is PRAGMA auto_vacuum's value for INCREMENTAL.
const sqliteIncrementalVacuum = 2

// reclaimSpace frees the database's free pages (PRAGMA incremental_vacuum,
// whose rows must be read to the end for every page to be freed) and
// checkpoints the write-ahead log into the file, truncating both.
func (d *sqliteDialect) reclaimSpace(ctx context.Context, db *gorm.DB) error {
	if d.memory {
		return nil
	}
	conn, err := db.DB()
	if err != nil {
		return err
	}
	for _, q := range []string{`PRAGMA incremental_vacuum`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}
