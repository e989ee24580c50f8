package gormstore

import (
	"context"
	"time"
)

// AppliedMigrations lists the versions recorded in schema_migrations, in
// order, with repeats.
func AppliedMigrations(ctx context.Context, s *Store) ([]int, error) {
	var versions []int
	err := s.r.WithContext(ctx).Raw(`SELECT version FROM schema_migrations ORDER BY version`).Scan(&versions).Error
	return versions, err
}

// KnownMigrations lists the versions of the migrations this package has.
func KnownMigrations() []int {
	var out []int
	for _, m := range migrations {
		out = append(out, m.version)
	}
	return out
}

// Pragmas reads SQLite settings from a writer and a reader connection.
func Pragmas(ctx context.Context, s *Store, names ...string) (writer, reader map[string]string, err error) {
	writer, reader = map[string]string{}, map[string]string{}
	for _, n := range names {
		var w, r string
		if err := s.w.WithContext(ctx).Raw("PRAGMA " + n).Scan(&w).Error; err != nil {
			return nil, nil, err
		}
		if err := s.r.WithContext(ctx).Raw("PRAGMA " + n).Scan(&r).Error; err != nil {
			return nil, nil, err
		}
		writer[n], reader[n] = w, r
	}
	return writer, reader, nil
}

// Commits counts the write transactions the group commit has committed.
func Commits(s *Store) int64 { return s.gc.commits.Load() }

// CreateAtVersion creates the database at dsn with the migrations up to
// version only, as an older Leverflow left it.
func CreateAtVersion(ctx context.Context, dsn string, version int) error {
	d, err := dialectFor(dsn)
	if err != nil {
		return err
	}
	s := &Store{d: d}
	defer s.Close()
	db, err := s.openPool(d.writer(), d.writerConns(), false)
	if err != nil {
		return err
	}
	var ms []migration
	for _, m := range migrations {
		if m.version <= version {
			ms = append(ms, m)
		}
	}
	return applyMigrations(ctx, db, d, ms, time.Now().UTC())
}

// SeedAtVersion creates the database at dsn with the migrations up to
// version only, then runs stmts on it: the data an older Leverflow left.
func SeedAtVersion(ctx context.Context, dsn string, version int, stmts ...string) error {
	if err := CreateAtVersion(ctx, dsn, version); err != nil {
		return err
	}
	d, err := dialectFor(dsn)
	if err != nil {
		return err
	}
	s := &Store{d: d}
	defer s.Close()
	db, err := s.openPool(d.writer(), d.writerConns(), false)
	if err != nil {
		return err
	}
	for _, stmt := range stmts {
		if err := db.WithContext(ctx).Exec(stmt).Error; err != nil {
			return err
		}
	}
	return nil
}
