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

// dueSQL is the condition under which a run may be claimed at now (bound
// twice): queued, or waiting with its wake time reached, and nobody holding
// a live lease on it; or running or waiting under a lease that expired
// before now (its worker died).
const dueSQL = `(lease_until IS NULL OR lease_until < ?) AND (
	status = 'queued'
	OR (status = 'waiting' AND (wake_at <= ? OR lease_until IS NOT NULL))
	OR (status = 'running' AND lease_until IS NOT NULL))`

// candidatesSQL lists up to limit due runs, oldest first: one indexed query
// per way of being due (queued by (status, id), waiting by (status,
// wake_at), expired leases by lease_until), merged. Queued runs held back
// by their concurrency limit are not candidates. Binds: now, limit,
// now, now, limit, now, limit, limit.
const candidatesSQL = `SELECT id FROM (SELECT id FROM runs WHERE status = 'queued' AND (lease_until IS NULL OR lease_until < ?) AND ` + queuedTurnSQL + ` ORDER BY id LIMIT ?) AS queued
UNION
SELECT id FROM (SELECT id FROM runs WHERE status = 'waiting' AND wake_at <= ? AND (lease_until IS NULL OR lease_until < ?) ORDER BY id LIMIT ?) AS woken
UNION
SELECT id FROM (SELECT id FROM runs WHERE lease_until < ? AND status IN ('running', 'waiting') ORDER BY id LIMIT ?) AS expired
ORDER BY id LIMIT ?`

// claimSQL leases one run if it is still due and, queued under a
// concurrency limit, its turn has come (the fence: under concurrent
// claimers only one update affects the row, and the write lock serialises
// the turn counts). Binds: owner, until, now (as started_at if unset), id,
// now, now.
const claimSQL = `UPDATE runs SET status = 'running', lease_owner = ?, lease_until = ?, started_at = COALESCE(started_at, ?), wake_at = NULL, wait_reason = '' WHERE id = ? AND ` + dueSQL + ` AND (status <> 'queued' OR ` + queuedTurnSQL + `)`

// ClaimRuns leases up to limit due runs to owner until now+lease and
// returns them with their step runs, marked running, oldest first.
func (s *Store) ClaimRuns(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*workflow.Run, error) {
	if owner == "" {
		return nil, errors.New("claiming runs: empty lease owner")
	}
	if limit <= 0 {
		return nil, nil
	}
	n, until := micros(now), micros(now.Add(lease))
	var out []*workflow.Run
	cands, err := s.stmts.get(ctx, s.d.rebind(candidatesSQL))
	if err != nil {
		return nil, fmt.Errorf("claiming runs for %s: %w", owner, err)
	}
	claim, err := s.stmts.get(ctx, s.d.rebind(claimSQL))
	if err != nil {
		return nil, fmt.Errorf("claiming runs for %s: %w", owner, err)
	}
	err = s.write(ctx, func(tx *gorm.DB) error {
		stx := sqlTx(tx)
		ids, err := queryIDs(ctx, stx.StmtContext(ctx, cands), n, limit, n, n, limit, n, limit, limit)
		if err != nil {
			return err
		}
		claimed := ids[:0]
		for _, id := range ids {
			ok, err := execOne(ctx, stx.StmtContext(ctx, claim), owner, until, n, id, n, n)
			if err != nil {
				return fmt.Errorf("claiming run %s: %w", id, err)
			}
			if ok {
				claimed = append(claimed, id)
			}
		}
		if len(claimed) == 0 {
			return nil
		}
		out, err = loadRuns(tx, claimed, true)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claiming runs for %s: %w", owner, dbErr(err))
	}
	return out, nil
}

// ClaimRun leases one run by id if it is due (as in ClaimRuns); a run that
// is not due, or is leased by another owner, gives store.ErrConflict, an
// unknown id store.ErrNotFound.
func (s *Store) ClaimRun(ctx context.Context, id, owner string, now time.Time, lease time.Duration) (*workflow.Run, error) {
	if owner == "" {
		return nil, fmt.Errorf("claiming run %s: empty lease owner", id)
	}
	n, until := micros(now), micros(now.Add(lease))
	var out *workflow.Run
	claim, err := s.stmts.get(ctx, s.d.rebind(claimSQL))
	if err != nil {
		return nil, fmt.Errorf("claiming run %s: %w", id, err)
	}
	err = s.write(ctx, func(tx *gorm.DB) error {
		ok, err := execOne(ctx, sqlTx(tx).StmtContext(ctx, claim), owner, until, n, id, n, n)
		if err != nil {
			return err
		}
		if !ok {
			var row runRow
			if err := tx.Select("status", "lease_owner").Where("id = ?", id).Take(&row).Error; err != nil {
				return err
			}
			if row.LeaseOwner != "" {
				return fmt.Errorf("the run is %s and leased by %s: %w", row.Status, row.LeaseOwner, store.ErrConflict)
			}
			return fmt.Errorf("the run is %s and not due: %w", row.Status, store.ErrConflict)
		}
		runs, err := loadRuns(tx, []string{id}, true)
		if err != nil {
			return err
		}
		out = runs[0]
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claiming run %s: %w", id, dbErr(err))
	}
	return out, nil
}

// ExtendLeases pushes the leases owner holds on runIDs to until. It returns
// the ids among them whose cancel was requested, and the ids whose lease
// owner no longer holds (including unknown ids), each in runIDs order.
func (s *Store) ExtendLeases(ctx context.Context, owner string, runIDs []string, until time.Time) (cancelRequested, lost []string, err error) {
	ids := dedupe(runIDs)
	if owner == "" {
		return nil, ids, nil
	}
	if len(ids) == 0 {
		return nil, nil, nil
	}
	held := make(map[string]bool, len(ids))
	err = s.write(ctx, func(tx *gorm.DB) error {
		for _, part := range chunks(ids, inBatch) {
			if err := tx.Exec(`UPDATE runs SET lease_until = ? WHERE lease_owner = ? AND id IN ?`, micros(until), owner, part).Error; err != nil {
				return err
			}
			var rows []runRow
			if err := tx.Select("id", "cancel_requested").Where("lease_owner = ? AND id IN ?", owner, part).Find(&rows).Error; err != nil {
				return err
			}
			for _, r := range rows {
				held[r.ID] = r.CancelRequested
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("extending leases for %s: %w", owner, dbErr(err))
	}
	for _, id := range ids {
		cancel, ok := held[id]
		switch {
		case !ok:
			lost = append(lost, id)
		case cancel:
			cancelRequested = append(cancelRequested, id)
		}
	}
	return cancelRequested, lost, nil
}

// Apply writes u atomically if owner still holds the run's lease, else
// returns store.ErrLeaseLost (also for an unknown run) and writes nothing.
// The lease check is the first statement of the write transaction.
func (s *Store) Apply(ctx context.Context, owner string, u store.Update) error {
	if owner == "" {
		return fmt.Errorf("applying update to run %s: empty lease owner: %w", u.RunID, store.ErrLeaseLost)
	}
	sets := make([]string, 0, 8)
	args := make([]any, 0, 9)
	if u.Status != "" {
		var wake *int64
		if u.Status == workflow.RunWaiting {
			wake = microsPtr(u.WakeAt)
		}
		sets = append(sets, "status = ?", "error = ?", "wake_at = ?", "wait_reason = ?")
		args = append(args, string(u.Status), u.Error, wake, u.WaitReason)
	}
	if u.StartedAt != nil {
		sets = append(sets, "started_at = ?")
		args = append(args, micros(*u.StartedAt))
	}
	if u.FinishedAt != nil {
		sets = append(sets, "finished_at = ?")
		args = append(args, micros(*u.FinishedAt))
	}
	if u.Release {
		sets = append(sets, "lease_owner = ''", "lease_until = NULL")
	}
	if u.Trigger != nil {
		sets = append(sets, `"trigger" = ?`)
		args = append(args, string(u.Trigger))
	}
	query := `SELECT COUNT(*) FROM runs WHERE id = ? AND lease_owner = ?`
	if len(sets) > 0 {
		query = "UPDATE runs SET " + strings.Join(sets, ", ") + " WHERE id = ? AND lease_owner = ?"
	}
	args = append(args, u.RunID, owner)
	var fence *sql.Stmt
	var up *upserter
	err := s.gc.run(ctx, &writeOp{
		prep: func(ctx context.Context) error {
			var err error
			if fence, err = s.stmts.get(ctx, s.d.rebind(query)); err != nil {
				return err
			}
			up, err = s.prepareUpserts(ctx, len(u.Steps))
			return err
		},
		exec: func(ctx context.Context, stx *sql.Tx) error {
			var held bool
			if len(sets) > 0 {
				var err error
				if held, err = execOne(ctx, stx.StmtContext(ctx, fence), args...); err != nil {
					return err
				}
			} else {
				var n int
				if err := stx.StmtContext(ctx, fence).QueryRowContext(ctx, args...).Scan(&n); err != nil {
					return err
				}
				held = n == 1
			}
			if !held {
				return store.ErrLeaseLost
			}
			return up.upsert(ctx, stx, u.RunID, u.Steps)
		},
	})
	if err != nil {
		return fmt.Errorf("applying update to run %s: %w", u.RunID, s.rawErr(err))
	}
	return nil
}

// execOne runs an update of one row and reports whether it changed it.
func execOne(ctx context.Context, st *sql.Stmt, args ...any) (bool, error) {
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// queryIDs runs a query selecting one text column.
func queryIDs(ctx context.Context, st *sql.Stmt, args ...any) ([]string, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
