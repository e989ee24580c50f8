package gormstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/leverflow/leverflow/engine/store"
)

// writeOp is one write that may share a transaction with others (group
// commit). prep runs before any transaction (it prepares statements: on a
// one-connection writer pool that must not happen inside one); exec runs
// inside the shared transaction.
type writeOp struct {
	prep func(ctx context.Context) error
	exec func(ctx context.Context, tx *sql.Tx) error
	err  error
	done chan struct{}
}

// groupCommit folds the writes that arrive while a transaction is being
// committed into the next transaction, so N runners stepping at once pay for
// one commit instead of N. Each write is still atomic and fenced on its
// own: an op that finds its lease lost (ErrLeaseLost, detected before it
// writes) fails alone; an op whose SQL fails rolls the batch back, is tried
// again in a transaction of its own (for its own error) and the rest of the
// batch is committed without it, so one bad op never fails another.
type groupCommit struct {
	db      *sql.DB
	mu      sync.Mutex
	queue   []*writeOp
	leading bool
	// commits counts the transactions committed (for tests).
	commits atomic.Int64
}

// run submits op and waits for its result. The first caller to find no
// batch in progress leads: it commits batches until the queue is empty.
func (g *groupCommit) run(ctx context.Context, op *writeOp) error {
	if op.prep != nil {
		if err := op.prep(ctx); err != nil {
			return err
		}
	}
	op.done = make(chan struct{})
	g.mu.Lock()
	g.queue = append(g.queue, op)
	if g.leading {
		g.mu.Unlock()
		<-op.done
		return op.err
	}
	g.leading = true
	for {
		batch := g.queue
		g.queue = nil
		if len(batch) == 0 {
			g.leading = false
			g.mu.Unlock()
			break
		}
		g.mu.Unlock()
		g.commit(context.WithoutCancel(ctx), batch)
		g.mu.Lock()
	}
	<-op.done
	return op.err
}

func (g *groupCommit) commit(ctx context.Context, batch []*writeOp) {
	if len(batch) == 1 {
		batch[0].err = g.single(ctx, batch[0])
		close(batch[0].done)
		return
	}
	errs := make([]error, len(batch))
	failed := -1
	err := g.inTx(ctx, func(tx *sql.Tx) error {
		for i, op := range batch {
			err := op.exec(ctx, tx)
			if errors.Is(err, store.ErrLeaseLost) {
				// Nothing was written: the fence is checked first.
				errs[i] = err
				continue
			}
			if err != nil {
				failed = i
				return err
			}
		}
		return nil
	})
	switch {
	case err == nil:
		for i, op := range batch {
			op.err = errs[i]
			close(op.done)
		}
	case failed >= 0:
		// One op failed: it gets its own transaction (and its own error);
		// the others go on together without it.
		bad := batch[failed]
		bad.err = g.single(ctx, bad)
		close(bad.done)
		rest := append(batch[:failed:failed], batch[failed+1:]...)
		if len(rest) > 0 {
			g.commit(ctx, rest)
		}
	default:
		// The commit itself failed: each op is tried on its own.
		for _, op := range batch {
			op.err = g.single(ctx, op)
			close(op.done)
		}
	}
}

func (g *groupCommit) single(ctx context.Context, op *writeOp) error {
	return g.inTx(ctx, func(tx *sql.Tx) error { return op.exec(ctx, tx) })
}

func (g *groupCommit) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := g.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	g.commits.Add(1)
	return nil
}
