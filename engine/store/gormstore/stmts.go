package gormstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"gorm.io/gorm"

	"github.com/leverflow/leverflow/engine/workflow"
)

// stmtCache holds the hot path's statements prepared on the writer pool.
// tx.StmtContext of a pool statement reuses the statement already prepared
// on the transaction's connection, so a write transaction runs them without
// parsing SQL (gorm's PrepareStmt re-prepares inside transactions).
//
// get must be called before the write transaction begins: preparing on a
// pool of one connection waits for that connection.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.m[query]; st != nil {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("preparing %.40q: %w", query, err)
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// sqlTx is the database/sql transaction under a gorm write transaction
// (the writer pool runs without gorm's PrepareStmt, which would wrap it).
func sqlTx(tx *gorm.DB) *sql.Tx {
	stx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		panic(fmt.Sprintf("gormstore: write transaction is a %T, not a *sql.Tx", tx.Statement.ConnPool))
	}
	return stx
}

// stepColumns are step_runs' columns in the order stepArgs binds them.
var stepColumns = []string{`run_id`, `"key"`, `step_id`, `type`, `status`, `attempts`, `input`, `output`, `error`, `branch`, `started_at`, `finished_at`, `wake_at`}

// upsertSQL inserts n step runs, replacing those with the same (run_id,
// key). ON CONFLICT ... DO UPDATE with excluded is accepted by SQLite and
// PostgreSQL alike.
func upsertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO step_runs (`)
	b.WriteString(strings.Join(stepColumns, ", "))
	b.WriteString(`) VALUES `)
	row := "(" + strings.Repeat("?, ", len(stepColumns)-1) + "?)"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(` ON CONFLICT (run_id, "key") DO UPDATE SET `)
	for i, c := range stepColumns[2:] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = excluded." + c)
	}
	return b.String()
}

// stepArgs appends the bound values of one step run, in stepColumns order.
func stepArgs(args []any, runID string, s *workflow.StepRun) []any {
	return append(args, runID, s.Key, s.StepID, s.Type, string(s.Status), int64(s.Attempts),
		jsonText(s.Input), jsonText(s.Output), s.Error, s.Branch,
		microsPtr(s.StartedAt), microsPtr(s.FinishedAt), microsPtr(s.WakeAt))
}

// upsertSizes are the batch sizes whose upserts are prepared once and
// reused; a write of any other size is split into these, largest first, so
// no write parses SQL (a fanout commits results in batches of any size).
var upsertSizes = []int{stepBatch, 256, 128, 64, 32, 16, 8, 7, 6, 5, 4, 3, 2, 1}

// splitBatches cuts n rows into upsertSizes batches, largest first.
func splitBatches(n int) []int {
	var out []int
	for _, size := range upsertSizes {
		for n >= size {
			out = append(out, size)
			n -= size
		}
	}
	return out
}

// upserter writes step runs in batches of stepBatch rows per statement.
type upserter struct {
	stmts map[int]*sql.Stmt // by batch size
}

// prepare readies the statements upserting steps (before the transaction).
func (s *Store) prepareUpserts(ctx context.Context, steps int) (*upserter, error) {
	u := &upserter{stmts: map[int]*sql.Stmt{}}
	for _, n := range splitBatches(steps) {
		if u.stmts[n] != nil {
			continue
		}
		st, err := s.stmts.get(ctx, s.d.rebind(upsertSQL(n)))
		if err != nil {
			return nil, err
		}
		u.stmts[n] = st
	}
	return u, nil
}

func (u *upserter) upsert(ctx context.Context, tx *sql.Tx, runID string, steps []*workflow.StepRun) error {
	for _, n := range splitBatches(len(steps)) {
		batch := steps[:n]
		steps = steps[n:]
		args := make([]any, 0, n*len(stepColumns))
		for _, s := range batch {
			args = stepArgs(args, runID, s)
		}
		if _, err := tx.StmtContext(ctx, u.stmts[n]).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("writing %d step runs: %w", n, err)
		}
	}
	return nil
}
