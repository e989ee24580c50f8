package gormstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// Concurrency limits (see store.Concurrency) are enforced where runs are
// claimed: a queued run of a limited group may become running only while
// its group's active runs and its earlier queued runs are fewer than the
// limit, a condition evaluated inside the claiming UPDATE itself
// (queuedTurnSQL), in the same write transaction as the claim.
//
// On SQLite that transaction holds the database's single write lock from
// its first statement (BEGIN IMMEDIATE), so the count and the claim of two
// engines, in one process or several on one file, can never interleave:
// no group ever exceeds its limit. PostgreSQL at READ COMMITTED would let
// two transactions count the same snapshot and both claim; a PostgreSQL
// dialect must serialise per group before counting, e.g. with
// pg_advisory_xact_lock(hashtextextended(workflow_id || chr(0) ||
// concurrency_key, 0)) taken, in a fixed order, for the groups of the
// candidates (and of the run in CreateLimitedRun), or run the claim
// transactions SERIALIZABLE and retry on serialization failures.

// queuedTurnSQL holds for a row of runs (the outer query's "runs") that has
// no concurrency limit, or whose group has fewer runs ahead of it (active,
// or queued and created before it: ids are time-ordered) than its limit.
// The partial index runs_concurrency serves the count. No binds.
const queuedTurnSQL = `(runs.concurrency_limit = 0 OR (SELECT COUNT(*) FROM runs grp WHERE grp.concurrency_limit > 0 AND grp.workflow_id = runs.workflow_id AND grp.concurrency_key = runs.concurrency_key AND (grp.status IN ('running', 'waiting') OR (grp.status = 'queued' AND grp.id < runs.id))) < runs.concurrency_limit)`

// countAheadSQL counts the runs ahead of a new run in its group. Binds:
// workflow id, key, the run's id.
const countAheadSQL = `SELECT COUNT(*) FROM runs WHERE concurrency_limit > 0 AND workflow_id = ? AND concurrency_key = ? AND (status IN ('running', 'waiting') OR (status = 'queued' AND id < ?))`

// insertLimitedRunSQL is insertRunSQL with the run's concurrency group and
// wait reason.
const insertLimitedRunSQL = `INSERT INTO runs (id, workflow_id, version, user_id, status, error, "trigger", trigger_type, event_id, created_at, started_at, finished_at, wake_at, lease_owner, lease_until, cancel_requested, concurrency_key, concurrency_limit, wait_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// CreateLimitedRun inserts a run under a concurrency limit (see
// store.Store.CreateLimitedRun): a run asked to be created running while
// its group is full is stored queued, with the reason it waits.
func (s *Store) CreateLimitedRun(ctx context.Context, run *workflow.Run, lim store.Concurrency) error {
	if run.ID == "" {
		return errors.New("creating run: empty run id")
	}
	if lim.Limit < 1 {
		return fmt.Errorf("creating run %s: concurrency limit %d: it must be at least 1", run.ID, lim.Limit)
	}
	steps := mapSteps(run.Steps)
	var count, insert *sql.Stmt
	var up *upserter
	// exec may run twice (alone after a failed batch): it decides afresh
	// each time, into row, applied to run once committed.
	var row runRow
	err := s.gc.run(ctx, &writeOp{
		prep: func(ctx context.Context) error {
			var err error
			if count, err = s.stmts.get(ctx, s.d.rebind(countAheadSQL)); err != nil {
				return err
			}
			if insert, err = s.stmts.get(ctx, s.d.rebind(insertLimitedRunSQL)); err != nil {
				return err
			}
			up, err = s.prepareUpserts(ctx, len(steps))
			return err
		},
		exec: func(ctx context.Context, tx *sql.Tx) error {
			row = toRunRow(run)
			var ahead int
			if err := tx.StmtContext(ctx, count).QueryRowContext(ctx, run.WorkflowID, lim.Key, run.ID).Scan(&ahead); err != nil {
				return err
			}
			if ahead >= lim.Limit {
				row.WaitReason = store.ConcurrencyWaitReason(ahead, lim.Key)
				if row.Status == string(workflow.RunRunning) {
					row.Status, row.LeaseOwner, row.LeaseUntil, row.StartedAt = string(workflow.RunQueued), "", nil, nil
				}
			}
			if _, err := tx.StmtContext(ctx, insert).ExecContext(ctx, row.ID, row.WorkflowID, row.Version, row.UserID, row.Status, row.Error,
				row.Trigger, row.TriggerType, row.EventID, row.CreatedAt, row.StartedAt, row.FinishedAt, row.WakeAt, row.LeaseOwner, row.LeaseUntil, row.CancelRequested,
				lim.Key, lim.Limit, row.WaitReason); err != nil {
				return err
			}
			return up.upsert(ctx, tx, run.ID, steps)
		},
	})
	if err != nil {
		return fmt.Errorf("creating run %s: %w", run.ID, s.rawErr(err))
	}
	run.Status, run.WaitReason = workflow.RunStatus(row.Status), row.WaitReason
	if run.Status == workflow.RunQueued {
		run.LeaseOwner, run.LeaseUntil, run.StartedAt = "", nil, nil
	}
	return nil
}

// waitReasonOf is the wait reason a run row reads with: none once the run
// has finished.
func waitReasonOf(r *runRow) string {
	if workflow.RunStatus(r.Status).Terminal() {
		return ""
	}
	return r.WaitReason
}
