package gormstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/leverflow/leverflow/engine/store"
)

var _ store.Store = (*Store)(nil)

// Config configures Open.
type Config struct {
	// DSN names the database: a SQLite file path ("runs.db",
	// "/var/lib/leverflow/runs.db"), the same as a URL
	// ("sqlite:///var/lib/leverflow/runs.db"), a SQLite "file:" URI, or
	// ":memory:" for a private in-memory database (one connection; for
	// tests). Query parameters understood by mattn/go-sqlite3 override the
	// defaults (WAL, busy_timeout 5000ms, foreign keys on,
	// synchronous=NORMAL).
	DSN string
}

// Store is a store.Store on a SQL database. It is safe for concurrent use,
// and several Stores (in one process or many) may share one database: runs
// are claimed and written under leases checked inside each write
// transaction.
type Store struct {
	// w runs every write transaction (on SQLite: one connection, BEGIN
	// IMMEDIATE); r serves reads that need no transaction with a writer.
	w, r *gorm.DB
	d    dialect
	// stmts are the hot path's statements, prepared on the writer pool.
	stmts stmtCache
	// gc folds concurrent Apply and CreateRun calls into shared
	// transactions on the writer pool.
	gc groupCommit
	// pools are the connection pools Close closes.
	pools []*sql.DB
}

// stepBatch caps the step runs written by one INSERT (13 bound values per
// row keeps a batch well under every database's variable limit).
const stepBatch = 500

// inBatch caps the ids in one "IN (...)" list.
const inBatch = 500

// Open opens the database named by cfg.DSN, creating it if needed, and
// brings its schema up to date.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	d, err := dialectFor(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	s := &Store{d: d}
	// gorm's prepared statements do not survive transactions (it
	// re-prepares them in each), and every use of the writer is a
	// transaction: the hot statements use stmts instead.
	s.w, err = s.openPool(d.writer(), d.writerConns(), false)
	if err != nil {
		return nil, fmt.Errorf("opening %s store %s: %w", d.name(), cfg.DSN, err)
	}
	s.stmts.db = s.pools[0]
	s.gc.db = s.pools[0]
	if err := migrate(ctx, s.w, d, time.Now().UTC()); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrating %s store %s: %w", d.name(), cfg.DSN, err)
	}
	s.r = s.w
	if rd := d.reader(); rd != nil {
		s.r, err = s.openPool(rd, d.readerConns(), true)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("opening %s store %s for reading: %w", d.name(), cfg.DSN, err)
		}
	}
	return s, nil
}

func (s *Store) openPool(d gorm.Dialector, conns int, prepare bool) (*gorm.DB, error) {
	db, err := gorm.Open(d, &gorm.Config{
		SkipDefaultTransaction: true,
		PrepareStmt:            prepare,
		PrepareStmtMaxSize:     512,
		TranslateError:         true,
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, err
	}
	pool, err := db.DB()
	if err != nil {
		return nil, err
	}
	s.pools = append(s.pools, pool)
	pool.SetMaxOpenConns(conns)
	pool.SetMaxIdleConns(conns)
	pool.SetConnMaxLifetime(0)
	pool.SetConnMaxIdleTime(0)
	return db, nil
}

// Close closes the store's connections.
func (s *Store) Close() error {
	s.stmts.close()
	var errs []error
	for _, p := range s.pools {
		errs = append(errs, p.Close())
	}
	s.pools = nil
	return errors.Join(errs...)
}

// write runs fn in one write transaction. Statements from s.stmts must be
// fetched before it begins (see stmtCache).
func (s *Store) write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.w.WithContext(ctx).Transaction(fn)
}

// read runs fn in one read transaction: its queries see one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.r.WithContext(ctx).Transaction(fn, &sql.TxOptions{ReadOnly: true})
}

// rawErr maps an error of SQL run through database/sql directly (not
// through gorm) the way gorm's TranslateError would, then to the store's
// sentinels.
func (s *Store) rawErr(err error) error {
	if tr, ok := s.w.Dialector.(gorm.ErrorTranslator); ok && err != nil {
		if t := tr.Translate(err); t != err {
			err = fmt.Errorf("%w: %w", t, err)
		}
	}
	return dbErr(err)
}

// dbErr maps gorm's errors to the store's sentinels.
func dbErr(err error) error {
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return store.ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	return err
}

// chunks splits ids into slices of at most n.
func chunks(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

// dedupe returns ids without repeats, in first-seen order.
func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// colVal is a column and the value a list filter wants in it.
type colVal struct{ col, val string }

// whereEqual narrows q to the rows whose column equals its value, for each
// filter with a value (an empty one matches every row).
func whereEqual(q *gorm.DB, filters ...colVal) *gorm.DB {
	for _, f := range filters {
		if f.val != "" {
			q = q.Where(f.col+" = ?", f.val)
		}
	}
	return q
}

// findNewest finds into rows one keyset page of q, newest first by id: the
// rows whose timeCol is at or after from and strictly before to (a zero
// bound is open), with an id lower than the cursor after (when given), at
// most limit of them (0 means 50).
func findNewest(q *gorm.DB, timeCol string, from, to time.Time, after string, limit int, rows any) error {
	if limit <= 0 {
		limit = 50
	}
	if !from.IsZero() {
		q = q.Where(timeCol+" >= ?", micros(from))
	}
	if !to.IsZero() {
		q = q.Where(timeCol+" < ?", micros(to))
	}
	if after != "" {
		q = q.Where("id < ?", after)
	}
	return q.Order("id DESC").Limit(limit).Find(rows).Error
}

// execFound runs one statement that must touch a row: none touched gives
// store.ErrNotFound.
func execFound(tx *gorm.DB, sql string, args ...any) error {
	res := tx.Exec(sql, args...)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return store.ErrNotFound
	}
	return nil
}
