package gormstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// CreateRun inserts a queued run (with any step runs it already carries) in
// one transaction. A run with no status is stored queued; a run whose id
// exists gives store.ErrConflict.
func (s *Store) CreateRun(ctx context.Context, run *workflow.Run) error {
	if run.ID == "" {
		return errors.New("creating run: empty run id")
	}
	row := toRunRow(run)
	steps := mapSteps(run.Steps)
	var insert *sql.Stmt
	var up *upserter
	err := s.gc.run(ctx, &writeOp{
		prep: func(ctx context.Context) error {
			var err error
			if insert, err = s.stmts.get(ctx, s.d.rebind(insertRunSQL)); err != nil {
				return err
			}
			up, err = s.prepareUpserts(ctx, len(steps))
			return err
		},
		exec: func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.StmtContext(ctx, insert).ExecContext(ctx, row.ID, row.WorkflowID, row.Version, row.UserID, row.Status, row.Error,
				row.Trigger, row.TriggerType, row.EventID, row.CreatedAt, row.StartedAt, row.FinishedAt, row.WakeAt, row.LeaseOwner, row.LeaseUntil, row.CancelRequested); err != nil {
				return err
			}
			return up.upsert(ctx, tx, run.ID, steps)
		},
	})
	if err != nil {
		return fmt.Errorf("creating run %s: %w", run.ID, s.rawErr(err))
	}
	return nil
}

// insertRunSQL inserts one run with every column of runRow.
const insertRunSQL = `INSERT INTO runs (id, workflow_id, version, user_id, status, error, "trigger", trigger_type, event_id, created_at, started_at, finished_at, wake_at, lease_owner, lease_until, cancel_requested) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func mapSteps(m map[string]*workflow.StepRun) []*workflow.StepRun {
	out := make([]*workflow.StepRun, 0, len(m))
	for _, sr := range m {
		out = append(out, sr)
	}
	return out
}

// GetRun returns a run with all its step runs.
func (s *Store) GetRun(ctx context.Context, id string) (*workflow.Run, error) {
	var runs []*workflow.Run
	err := s.read(ctx, func(tx *gorm.DB) error {
		var err error
		runs, err = loadRuns(tx, []string{id}, true)
		return err
	})
	if err == nil && len(runs) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("getting run %s: %w", id, dbErr(err))
	}
	return runs[0], nil
}

// loadRuns reads the runs with the given ids (those that exist, ordered by
// id within each batch of inBatch ids),
// with their step runs if steps is set.
func loadRuns(tx *gorm.DB, ids []string, steps bool) ([]*workflow.Run, error) {
	var rows []runRow
	for _, part := range chunks(ids, inBatch) {
		var got []runRow
		q := tx.Where("id = ?", part[0])
		if len(part) > 1 {
			q = tx.Where("id IN ?", part)
		}
		if err := q.Order("id").Find(&got).Error; err != nil {
			return nil, err
		}
		rows = append(rows, got...)
	}
	out := make([]*workflow.Run, len(rows))
	byID := make(map[string]*workflow.Run, len(rows))
	for i := range rows {
		out[i] = rows[i].run()
		byID[out[i].ID] = out[i]
	}
	if !steps {
		return out, nil
	}
	for _, r := range out {
		r.Steps = map[string]*workflow.StepRun{}
	}
	for _, part := range chunks(ids, inBatch) {
		if err := scanSteps(tx, part, byID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// selectStepsSQL reads step runs in stepColumns order.
var selectStepsSQL = `SELECT ` + strings.Join(stepColumns, ", ") + ` FROM step_runs WHERE run_id IN ?`

// scanSteps reads the step runs of the runs with the given ids into them.
// It scans rows by hand: a fanout's run has thousands of step runs, and
// gorm's reflection-based Find costs several times the query.
func scanSteps(tx *gorm.DB, ids []string, byID map[string]*workflow.Run) error {
	rows, err := tx.Raw(selectStepsSQL, ids).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var row stepRow
		if err := rows.Scan(&row.RunID, &row.Key, &row.StepID, &row.Type, &row.Status, &row.Attempts, &row.Input, &row.Output,
			&row.Error, &row.Branch, &row.StartedAt, &row.FinishedAt, &row.WakeAt); err != nil {
			return err
		}
		if r := byID[row.RunID]; r != nil {
			r.Steps[row.Key] = row.stepRun()
		}
	}
	return rows.Err()
}

// ListRuns returns runs newest first, without their step runs.
func (s *Store) ListRuns(ctx context.Context, f store.RunFilter) ([]*workflow.Run, error) {
	q := whereEqual(s.r.WithContext(ctx).Model(&runRow{}),
		colVal{"workflow_id", f.WorkflowID}, colVal{"status", string(f.Status)}, colVal{"trigger_type", f.TriggerType}, colVal{"event_id", f.EventID})
	var rows []runRow
	if err := findNewest(q, "created_at", f.CreatedAfter, f.CreatedBefore, f.After, f.Limit, &rows); err != nil {
		return nil, fmt.Errorf("listing runs: %w", dbErr(err))
	}
	out := make([]*workflow.Run, len(rows))
	for i := range rows {
		out[i] = rows[i].run()
	}
	return out, nil
}

// CountRuns counts the runs in a status.
func (s *Store) CountRuns(ctx context.Context, status workflow.RunStatus) (int, error) {
	var n int64
	if err := s.r.WithContext(ctx).Model(&runRow{}).Where("status = ?", string(status)).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("counting %s runs: %w", status, dbErr(err))
	}
	return int(n), nil
}

// RequestCancel cancels a run. A run no worker holds (queued, waiting, or
// one whose lease expired) is cancelled at once: its error becomes
// "cancelled", its lease is cleared (fencing out a worker that was paused
// past its lease) and its steps still running are closed as failed, as the
// engine does when it cancels a run itself. A run under a live lease gets
// CancelRequested for its worker to act on. A finished run gives
// store.ErrConflict.
func (s *Store) RequestCancel(ctx context.Context, id string, now time.Time) (*workflow.Run, error) {
	var out *workflow.Run
	err := s.write(ctx, func(tx *gorm.DB) error {
		var row runRow
		if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		if workflow.RunStatus(row.Status).Terminal() {
			return fmt.Errorf("the run is already %s: %w", row.Status, store.ErrConflict)
		}
		n := micros(now)
		if row.LeaseOwner != "" && row.LeaseUntil != nil && *row.LeaseUntil >= n {
			if err := tx.Exec(`UPDATE runs SET cancel_requested = ? WHERE id = ?`, true, id).Error; err != nil {
				return err
			}
			row.CancelRequested = true
			out = row.run()
			return nil
		}
		if err := tx.Exec(`UPDATE runs SET status = ?, error = ?, finished_at = ?, wake_at = NULL, lease_owner = '', lease_until = NULL, cancel_requested = ? WHERE id = ?`,
			string(workflow.RunCancelled), "cancelled", n, false, id).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE step_runs SET status = ?, error = ?, finished_at = ?, wake_at = NULL WHERE run_id = ? AND status = ?`,
			string(workflow.StepFailed), "cancelled", n, id, string(workflow.StepRunning)).Error; err != nil {
			return err
		}
		row.Status, row.Error, row.FinishedAt = string(workflow.RunCancelled), "cancelled", &n
		row.WakeAt, row.LeaseOwner, row.LeaseUntil, row.CancelRequested = nil, "", nil, false
		out = row.run()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cancelling run %s: %w", id, dbErr(err))
	}
	return out, nil
}

// ResetForRetry re-queues a failed run: the step runs with the given keys
// are deleted, the error, finish time, wake time and any cancel request are
// cleared and the status becomes queued. A run that is not failed gives
// store.ErrConflict.
func (s *Store) ResetForRetry(ctx context.Context, id string, resetKeys []string, now time.Time) (*workflow.Run, error) {
	run, err := s.resetRun(ctx, id, store.RetryReset{ResetKeys: resetKeys, Now: now}, workflow.RunFailed)
	if err != nil {
		return nil, fmt.Errorf("resetting run %s for retry: %w", id, dbErr(err))
	}
	return run, nil
}
