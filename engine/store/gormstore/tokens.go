package gormstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/leverflow/leverflow/engine/store"
)

// tokenRow is a row of api_tokens.
type tokenRow struct {
	ID         string `gorm:"column:id;primaryKey"`
	Name       string `gorm:"column:name"`
	Hash       string `gorm:"column:hash"`
	Admin      bool   `gorm:"column:admin"`
	UserID     string `gorm:"column:user_id"`
	CreatedAt  int64  `gorm:"column:created_at;autoCreateTime:false"`
	LastUsedAt *int64 `gorm:"column:last_used_at"`
	RevokedAt  *int64 `gorm:"column:revoked_at"`
}

func (tokenRow) TableName() string { return "api_tokens" }

func (r *tokenRow) token() *store.Token {
	return &store.Token{
		ID:         r.ID,
		Name:       r.Name,
		Hash:       r.Hash,
		Admin:      r.Admin,
		UserID:     r.UserID,
		CreatedAt:  fromMicros(r.CreatedAt),
		LastUsedAt: fromMicrosPtr(r.LastUsedAt),
		RevokedAt:  fromMicrosPtr(r.RevokedAt),
	}
}

// CreateToken inserts an API token; a duplicate id or hash gives
// store.ErrConflict.
func (s *Store) CreateToken(ctx context.Context, t *store.Token) error {
	if t.ID == "" || t.Hash == "" {
		return errors.New("creating token: the id and the hash are required")
	}
	row := tokenRow{
		ID: t.ID, Name: t.Name, Hash: t.Hash, Admin: t.Admin, UserID: t.UserID,
		CreatedAt: micros(t.CreatedAt), LastUsedAt: microsPtr(t.LastUsedAt), RevokedAt: microsPtr(t.RevokedAt),
	}
	if err := s.write(ctx, func(tx *gorm.DB) error { return tx.Create(&row).Error }); err != nil {
		return fmt.Errorf("creating token %s: %w", t.ID, dbErr(err))
	}
	return nil
}

// GetTokenByHash returns the token with that hash, revoked or not.
func (s *Store) GetTokenByHash(ctx context.Context, hash string) (*store.Token, error) {
	var rows []tokenRow
	err := s.r.WithContext(ctx).Where("hash = ?", hash).Limit(1).Find(&rows).Error
	if err == nil && len(rows) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		// The hash is a credential's: it is not repeated in the error.
		return nil, fmt.Errorf("getting token by hash: %w", dbErr(err))
	}
	return rows[0].token(), nil
}

// ListTokens returns every token, newest first.
func (s *Store) ListTokens(ctx context.Context) ([]*store.Token, error) {
	var rows []tokenRow
	if err := s.r.WithContext(ctx).Order("created_at DESC, id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("listing tokens: %w", dbErr(err))
	}
	out := make([]*store.Token, len(rows))
	for i := range rows {
		out[i] = rows[i].token()
	}
	return out, nil
}

// RevokeToken revokes a token; one revoked already keeps its first
// revocation time.
func (s *Store) RevokeToken(ctx context.Context, id string, now time.Time) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		return execFound(tx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, micros(now), id)
	})
	if err != nil {
		return fmt.Errorf("revoking token %s: %w", id, dbErr(err))
	}
	return nil
}

// touchTokenSQL moves last_used_at forward (never back: touches from
// several requests may commit out of order).
const touchTokenSQL = `UPDATE api_tokens SET last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < ? THEN ? ELSE last_used_at END WHERE id = ?`

// TouchToken records a use of the token. It is one prepared UPDATE that
// shares its transaction with concurrent writes (group commit).
func (s *Store) TouchToken(ctx context.Context, id string, now time.Time) error {
	var st *sql.Stmt
	missing := false
	n := micros(now)
	err := s.gc.run(ctx, &writeOp{
		prep: func(ctx context.Context) error {
			var err error
			st, err = s.stmts.get(ctx, s.d.rebind(touchTokenSQL))
			return err
		},
		exec: func(ctx context.Context, tx *sql.Tx) error {
			res, err := tx.StmtContext(ctx, st).ExecContext(ctx, n, n, id)
			if err != nil {
				return err
			}
			affected, err := res.RowsAffected()
			if err != nil {
				return err
			}
			missing = affected == 0
			return nil
		},
	})
	if err == nil && missing {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("touching token %s: %w", id, s.rawErr(err))
	}
	return nil
}

// Ping reads the schema version table through the read pool.
func (s *Store) Ping(ctx context.Context) error {
	var n int64
	if err := s.r.WithContext(ctx).Raw(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n).Error; err != nil {
		return fmt.Errorf("pinging the %s store: %w", s.d.name(), err)
	}
	if n == 0 {
		return fmt.Errorf("pinging the %s store: no schema migrations recorded", s.d.name())
	}
	return nil
}
