package gormstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/leverflow/leverflow/engine/store"
)

// eventRow is a row of events.
type eventRow struct {
	ID         string `gorm:"column:id;primaryKey"`
	Source     string `gorm:"column:source"`
	Connection string `gorm:"column:connection"`
	UserID     string `gorm:"column:user_id"`
	Type       string `gorm:"column:type"`
	DedupeKey  string `gorm:"column:dedupe_key"`
	Payload    string `gorm:"column:payload"`
	ReceivedAt int64  `gorm:"column:received_at"`
	Status     string `gorm:"column:status"`
	Error      string `gorm:"column:error"`
	RunIDs     string `gorm:"column:run_ids"`
	RoutedAt   *int64 `gorm:"column:routed_at"`
	Replays    int    `gorm:"column:replays"`
}

func (eventRow) TableName() string { return "events" }

// eventColumns are events' columns in the order insertEventSQL binds and
// scanEvent reads them.
var eventColumns = []string{"id", "source", "connection", "user_id", "type", "dedupe_key", "payload", "received_at", "status", "error", "run_ids", "routed_at", "replays"}

// insertEventSQL inserts an event unless one with the same dedupe key is
// there; the conflict target names the partial unique index events_dedupe
// (its columns and predicate), as SQLite and PostgreSQL both require.
var insertEventSQL = `INSERT INTO events (` + strings.Join(eventColumns, ", ") + `) VALUES (` +
	strings.Repeat("?, ", len(eventColumns)-1) + `?) ON CONFLICT (source, user_id, connection, dedupe_key) WHERE dedupe_key <> '' DO NOTHING`

// dedupedEventSQL reads the event holding a dedupe key.
var dedupedEventSQL = `SELECT ` + strings.Join(eventColumns, ", ") + ` FROM events WHERE source = ? AND user_id = ? AND connection = ? AND dedupe_key = ?`

func toEventRow(e *store.Event) eventRow {
	status := e.Status
	if status == "" {
		status = store.EventPending
	}
	return eventRow{
		ID: e.ID, Source: e.Source, Connection: e.Connection, UserID: e.UserID, Type: e.Type, DedupeKey: e.DedupeKey,
		Payload: jsonText(e.Payload), ReceivedAt: micros(e.ReceivedAt), Status: string(status), Error: e.Error,
		RunIDs: runIDsText(e.RunIDs), RoutedAt: microsPtr(e.RoutedAt), Replays: e.Replays,
	}
}

func (r *eventRow) event() *store.Event {
	return &store.Event{
		ID: r.ID, Source: r.Source, Connection: r.Connection, UserID: r.UserID, Type: r.Type, DedupeKey: r.DedupeKey,
		Payload: textJSON(r.Payload), ReceivedAt: fromMicros(r.ReceivedAt), Status: store.EventStatus(r.Status), Error: r.Error,
		RunIDs: textRunIDs(r.RunIDs), RoutedAt: fromMicrosPtr(r.RoutedAt), Replays: r.Replays,
	}
}

// runIDsText is a list of run ids as stored: a JSON array, or "" when
// empty.
func runIDsText(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	b, _ := json.Marshal(ids) // a []string always encodes
	return string(b)
}

func textRunIDs(s string) []string {
	if s == "" {
		return nil
	}
	var ids []string
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil
	}
	return ids
}

func (r *eventRow) args() []any {
	return []any{r.ID, r.Source, r.Connection, r.UserID, r.Type, r.DedupeKey, r.Payload, r.ReceivedAt, r.Status, r.Error, r.RunIDs, r.RoutedAt, r.Replays}
}

// InsertEvent puts an event in the inbox, or returns the first event of
// its dedupe key without writing. Concurrent inserts share transactions
// (group commit): a webhook burst costs a few commits, not one each.
func (s *Store) InsertEvent(ctx context.Context, e *store.Event) (*store.Event, bool, error) {
	if e.ID == "" || e.Source == "" {
		return nil, false, errors.New("inserting event: the id and the source are required")
	}
	row := toEventRow(e)
	var ins, sel *sql.Stmt
	var existing *eventRow
	err := s.gc.run(ctx, &writeOp{
		prep: func(ctx context.Context) error {
			var err error
			if ins, err = s.stmts.get(ctx, s.d.rebind(insertEventSQL)); err != nil {
				return err
			}
			sel, err = s.stmts.get(ctx, s.d.rebind(dedupedEventSQL))
			return err
		},
		exec: func(ctx context.Context, tx *sql.Tx) error {
			existing = nil
			res, err := tx.StmtContext(ctx, ins).ExecContext(ctx, row.args()...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil || n == 1 {
				return err
			}
			var got eventRow
			if err := tx.StmtContext(ctx, sel).QueryRowContext(ctx, row.Source, row.UserID, row.Connection, row.DedupeKey).Scan(
				&got.ID, &got.Source, &got.Connection, &got.UserID, &got.Type, &got.DedupeKey, &got.Payload, &got.ReceivedAt,
				&got.Status, &got.Error, &got.RunIDs, &got.RoutedAt, &got.Replays); err != nil {
				return fmt.Errorf("reading the event of dedupe key %q: %w", row.DedupeKey, err)
			}
			existing = &got
			return nil
		},
	})
	if err != nil {
		return nil, false, fmt.Errorf("inserting event %s: %w", e.ID, s.rawErr(err))
	}
	if existing != nil {
		return existing.event(), false, nil
	}
	return row.event(), true, nil
}

// GetEvent returns one event.
func (s *Store) GetEvent(ctx context.Context, id string) (*store.Event, error) {
	var rows []eventRow
	err := s.r.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&rows).Error
	if err == nil && len(rows) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("getting event %s: %w", id, dbErr(err))
	}
	return rows[0].event(), nil
}

// ListEvents returns events newest first.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter) ([]*store.Event, error) {
	q := whereEqual(s.r.WithContext(ctx).Model(&eventRow{}),
		colVal{"source", f.Source}, colVal{"connection", f.Connection}, colVal{"type", f.Type}, colVal{"status", string(f.Status)})
	if f.DedupeKey != "" {
		q = q.Where("dedupe_key = ? AND user_id = ?", f.DedupeKey, f.UserID)
	}
	var rows []eventRow
	if err := findNewest(q, "received_at", f.ReceivedAfter, f.ReceivedBefore, f.After, f.Limit, &rows); err != nil {
		return nil, fmt.Errorf("listing events: %w", dbErr(err))
	}
	return eventsOf(rows), nil
}

func eventsOf(rows []eventRow) []*store.Event {
	out := make([]*store.Event, len(rows))
	for i := range rows {
		out[i] = rows[i].event()
	}
	return out
}

// FinishEvent records how an event was routed: its status, error and
// routing time, and its runs (replacing them, or added to them on a
// replay, which is counted).
func (s *Store) FinishEvent(ctx context.Context, id string, r store.EventResult) error {
	if !r.Status.Valid() {
		return fmt.Errorf("finishing event %s: unknown status %q (use pending, routed, unmatched or failed)", id, r.Status)
	}
	err := s.write(ctx, func(tx *gorm.DB) error {
		var rows []eventRow
		if err := tx.Select("id", "run_ids", "replays").Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return store.ErrNotFound
		}
		ids, replays := r.RunIDs, rows[0].Replays
		if r.Replay {
			ids = appendNew(textRunIDs(rows[0].RunIDs), r.RunIDs)
			replays++
		}
		return tx.Exec(`UPDATE events SET status = ?, error = ?, run_ids = ?, routed_at = ?, replays = ? WHERE id = ?`,
			string(r.Status), r.Error, runIDsText(ids), micros(r.At), replays, id).Error
	})
	if err != nil {
		return fmt.Errorf("finishing event %s: %w", id, dbErr(err))
	}
	return nil
}

// appendNew appends to ids those of more it does not hold yet.
func appendNew(ids, more []string) []string {
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		seen[id] = true
	}
	for _, id := range more {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// ListPendingEvents returns pending events received before receivedBefore,
// oldest first; limit 0 means 100.
func (s *Store) ListPendingEvents(ctx context.Context, receivedBefore time.Time, limit int) ([]*store.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	var rows []eventRow
	if err := s.r.WithContext(ctx).Where("status = ? AND received_at < ?", string(store.EventPending), micros(receivedBefore)).
		Order("received_at, id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("listing pending events: %w", dbErr(err))
	}
	return eventsOf(rows), nil
}
