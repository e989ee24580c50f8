package gormstore_test

import (
	"path/filepath"
	"testing"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/store/storetest"
)

func TestRecoveryConformance(t *testing.T) {
	t.Parallel()
	storetest.RunRecovery(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "runs.db"))
	})
}
