package gormstore

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

var _ store.Recovery = (*Store)(nil)

// ResetRun re-queues a failed or cancelled run as r says (see
// store.Recovery).
func (s *Store) ResetRun(ctx context.Context, id string, r store.RetryReset) (*workflow.Run, error) {
	run, err := s.resetRun(ctx, id, r, workflow.RunFailed, workflow.RunCancelled)
	if err != nil {
		return nil, fmt.Errorf("resetting run %s for retry: %w", id, dbErr(err))
	}
	return run, nil
}

// resetRun is ResetRun and ResetForRetry: it re-queues the run if its
// status is one of allowed.
func (s *Store) resetRun(ctx context.Context, id string, r store.RetryReset, allowed ...workflow.RunStatus) (*workflow.Run, error) {
	var out *workflow.Run
	err := s.write(ctx, func(tx *gorm.DB) error {
		var row runRow
		if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		ok := false
		for _, st := range allowed {
			ok = ok || row.Status == string(st)
		}
		if !ok {
			return fmt.Errorf("the run is %s: %w", row.Status, store.ErrConflict)
		}
		if !r.FinishedAt.IsZero() && (row.FinishedAt == nil || *row.FinishedAt != micros(r.FinishedAt)) {
			return fmt.Errorf("the run changed since it was read (retried already?): %w", store.ErrConflict)
		}
		if r.ResetAll {
			if err := tx.Exec(`DELETE FROM step_runs WHERE run_id = ?`, id).Error; err != nil {
				return err
			}
		} else {
			for _, part := range chunks(dedupe(r.ResetKeys), inBatch) {
				if err := tx.Exec(`DELETE FROM step_runs WHERE run_id = ? AND "key" IN ?`, id, part).Error; err != nil {
					return err
				}
			}
		}
		version := row.Version
		if r.Version != 0 {
			version = r.Version
		}
		n := micros(r.Now)
		if err := tx.Exec(`UPDATE runs SET status = ?, error = '', version = ?, started_at = ?, finished_at = NULL, wake_at = NULL, lease_owner = '', lease_until = NULL, cancel_requested = ? WHERE id = ?`,
			string(workflow.RunQueued), version, n, false, id).Error; err != nil {
			return err
		}
		if c := r.Concurrency; c != nil {
			// The group of the version the retry runs on: a limit that
			// version added (or dropped) holds for the retried run too.
			if err := tx.Exec(`UPDATE runs SET concurrency_key = ?, concurrency_limit = ? WHERE id = ?`, c.Key, max(c.Limit, 0), id).Error; err != nil {
				return err
			}
		}
		row.Status, row.Error, row.Version, row.StartedAt, row.FinishedAt = string(workflow.RunQueued), "", version, &n, nil
		row.WakeAt, row.LeaseOwner, row.LeaseUntil, row.CancelRequested = nil, "", nil, false
		out = row.run()
		return nil
	})
	return out, err
}

// CancelRequests returns the ids among runIDs that owner holds and whose
// cancel was requested, in runIDs order. It reads runs by primary key
// only.
func (s *Store) CancelRequests(ctx context.Context, owner string, runIDs []string) ([]string, error) {
	ids := dedupe(runIDs)
	if owner == "" || len(ids) == 0 {
		return nil, nil
	}
	asked := map[string]bool{}
	for _, part := range chunks(ids, inBatch) {
		var got []string
		err := s.r.WithContext(ctx).Model(&runRow{}).
			Where("id IN ? AND lease_owner = ? AND cancel_requested = ?", part, owner, true).
			Pluck("id", &got).Error
		if err != nil {
			return nil, fmt.Errorf("reading cancel requests for %s: %w", owner, dbErr(err))
		}
		for _, id := range got {
			asked[id] = true
		}
	}
	var out []string
	for _, id := range ids {
		if asked[id] {
			out = append(out, id)
		}
	}
	return out, nil
}
