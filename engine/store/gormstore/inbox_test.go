package gormstore_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/store/gormstore"
)

// TestMigration4BackfillsTriggers upgrades a version 3 database holding
// workflows and checks that migration 4 copied each latest version's
// trigger into the workflow's columns, leaving the workflows disabled.
func TestMigration4BackfillsTriggers(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	ctx := t.Context()
	err := gormstore.SeedAtVersion(ctx, path, 3,
		`INSERT INTO workflows (id, name, latest_version, created_at, updated_at) VALUES ('hired', 'h', 2, 1, 1), ('plain', 'p', 1, 1, 1), ('broken', 'b', 1, 1, 1)`,
		`INSERT INTO workflow_versions (workflow_id, version, name, definition, created_at) VALUES
			('hired', 1, 'h', '{"trigger":{"type":"api"}}', 1),
			('hired', 2, 'h', '{"trigger":{"type":"lever.candidate_hired","connection":"acme"}}', 1),
			('plain', 1, 'p', '{"steps":[]}', 1),
			('broken', 1, 'b', 'not json', 1)`,
		`INSERT INTO runs (id, workflow_id, version, status, created_at) VALUES ('r1', 'hired', 2, 'succeeded', 1)`,
	)
	if err != nil {
		t.Fatalf("seeding a version 3 database: %v", err)
	}
	st := open(t, path)
	for _, tc := range []struct {
		id, typ, conn string
	}{
		{"hired", "lever.candidate_hired", "acme"},
		{"plain", "", ""},
		{"broken", "", ""},
	} {
		w, err := st.GetWorkflow(ctx, tc.id)
		if err != nil {
			t.Fatalf("GetWorkflow %s: %v", tc.id, err)
		}
		if w.TriggerType != tc.typ || w.TriggerConnection != tc.conn || w.Enabled {
			t.Errorf("%s after upgrade = %+v, want trigger %q/%q, disabled", tc.id, w, tc.typ, tc.conn)
		}
	}
	run, err := st.GetRun(ctx, "r1")
	if err != nil || run.TriggerType != "" || run.EventID != "" {
		t.Errorf("GetRun after upgrade = %+v, %v; want the run with no origin", run, err)
	}
}

// TestInboxBadInput checks that records the store cannot key are refused
// before touching the database.
func TestInboxBadInput(t *testing.T) {
	t.Parallel()
	st := open(t, ":memory:")
	ctx := t.Context()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"event without id", func() error {
			_, _, err := st.InsertEvent(ctx, &store.Event{Source: "lever", ReceivedAt: now})
			return err
		}, "id and the source are required"},
		{"event without source", func() error {
			_, _, err := st.InsertEvent(ctx, &store.Event{ID: "e1", ReceivedAt: now})
			return err
		}, "id and the source are required"},
		{"token without hash", func() error { return st.CreateToken(ctx, &store.Token{ID: "t1", CreatedAt: now}) }, "the hash are required"},
		{"workflow without id", func() error {
			_, err := st.CreateWorkflow(ctx, "", "x", []byte(`{}`), now)
			return err
		}, "empty workflow id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one saying %q", err, tc.want)
			}
			if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				t.Errorf("error %v is a sentinel, want a plain input error", err)
			}
		})
	}
}
