package gormstore

import "gorm.io/gorm"

// OnPruneSelected makes DeleteFinishedRuns call f in its transaction
// between the choice of the runs and their deletion, until restore.
func OnPruneSelected(f func(tx *gorm.DB, ids []string) error) (restore func()) {
	pruneSelected.Store(&f)
	return func() { pruneSelected.Store(nil) }
}
