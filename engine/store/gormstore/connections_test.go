package gormstore_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
)

// TestUpgradeAddsConnections opens a database an older Leverflow made
// (schema version 1, with a run in it) and checks that the upgrade keeps
// the run and adds working connection and OAuth state tables.
func TestUpgradeAddsConnections(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	ctx := t.Context()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := gormstore.CreateAtVersion(ctx, path, 1); err != nil {
		t.Fatalf("creating a version 1 database: %v", err)
	}
	st := open(t, path)
	versions, err := gormstore.AppliedMigrations(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if want := gormstore.KnownMigrations(); fmt.Sprint(versions) != fmt.Sprint(want) {
		t.Fatalf("schema_migrations after upgrade = %v, want %v", versions, want)
	}
	if err := st.CreateRun(ctx, &workflow.Run{ID: "r1", WorkflowID: "wf", Version: 1, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	c := &store.Connection{Name: "acme", Provider: "lever", Secrets: []byte{0, 1}, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateConnection(ctx, c); err != nil {
		t.Fatalf("CreateConnection after upgrade: %v", err)
	}
	if err := st.SaveOAuthState(ctx, &store.OAuthState{ID: "s", ExpiresAt: now.Add(time.Minute), CreatedAt: now}); err != nil {
		t.Fatalf("SaveOAuthState after upgrade: %v", err)
	}
	if _, err := st.GetRun(ctx, "r1"); err != nil {
		t.Errorf("GetRun after upgrade: %v", err)
	}
}

// TestConnectionBadInput checks that input the store cannot key is refused
// with an error saying what to fix, before touching the database.
func TestConnectionBadInput(t *testing.T) {
	t.Parallel()
	st := open(t, ":memory:")
	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"create without a name", func() error { return st.CreateConnection(ctx, &store.Connection{Provider: "lever"}) }, "empty name"},
		{"create nil", func() error { return st.CreateConnection(ctx, nil) }, "empty name"},
		{"update without a name", func() error { return st.UpdateConnection(ctx, &store.Connection{Revision: 1}) }, "empty name"},
		{"state without an id", func() error { return st.SaveOAuthState(ctx, &store.OAuthState{Payload: []byte("x")}) }, "empty id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
	if list, err := st.ListConnections(ctx, ""); err != nil || len(list) != 0 {
		t.Errorf("after refused input: %d connections, %v; want none", len(list), err)
	}
}

// TestOAuthStateErrorsHideID checks that the errors of OAuth states never
// carry the state value, a bearer secret until the callback takes it.
func TestOAuthStateErrorsHideID(t *testing.T) {
	t.Parallel()
	st := open(t, ":memory:")
	ctx := t.Context()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	const id = "s3cr3t-state-value"
	s := &store.OAuthState{ID: id, ExpiresAt: now.Add(time.Minute), CreatedAt: now}
	if err := st.SaveOAuthState(ctx, s); err != nil {
		t.Fatal(err)
	}
	_, errExpired := st.TakeOAuthState(ctx, id, now.Add(time.Hour))
	_, errMissing := st.TakeOAuthState(ctx, id, now)
	if err := st.SaveOAuthState(ctx, s); err != nil { // the taken id is free again
		t.Fatal(err)
	}
	errDup := st.SaveOAuthState(ctx, s)
	for _, err := range []error{errExpired, errMissing, errDup} {
		if err == nil {
			continue
		}
		if strings.Contains(err.Error(), id) {
			t.Errorf("error %q carries the state value", err)
		}
	}
	if errExpired == nil || errMissing == nil || errDup == nil {
		t.Fatalf("errors = %v, %v, %v; want three", errExpired, errMissing, errDup)
	}
}
