package gormstore_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/leverflow/leverflow/engine/store/gormstore"
	_ "github.com/mattn/go-sqlite3" // the driver gormstore opens SQLite with
)

// TestIncrementalVacuum checks that migration 6 puts a new database, and
// one made before it (whose auto_vacuum only a VACUUM changes), in
// incremental auto-vacuum mode.
func TestIncrementalVacuum(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		prep func(t *testing.T, path string)
	}{
		{"new file", func(*testing.T, string) {}},
		{"existing file", func(t *testing.T, path string) {
			db, err := sql.Open("sqlite3", path+"?_journal_mode=WAL")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, q := range []string{`CREATE TABLE legacy (v TEXT)`, `INSERT INTO legacy VALUES ('kept')`} {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			var mode string
			if err := db.QueryRow(`PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode != "0" {
				t.Fatalf("auto_vacuum of the old file = %q, %v; want 0", mode, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "runs.db")
			tt.prep(t, path)
			st := open(t, path)
			w, _, err := gormstore.Pragmas(t.Context(), st, "auto_vacuum")
			if err != nil {
				t.Fatal(err)
			}
			if w["auto_vacuum"] != "2" {
				t.Errorf("auto_vacuum = %q, want 2 (incremental)", w["auto_vacuum"])
			}
			open(t, path) // reopening has nothing left to do
		})
	}
}
