package gormstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/leverflow/leverflow/engine/store"
)

// connRow is a row of connections.
type connRow struct {
	UserID            string `gorm:"column:user_id;primaryKey"`
	Name              string `gorm:"column:name;primaryKey"`
	Provider          string `gorm:"column:provider"`
	Environment       string `gorm:"column:environment"`
	Auth              string `gorm:"column:auth"`
	Status            string `gorm:"column:status"`
	StatusMessage     string `gorm:"column:status_message"`
	Public            string `gorm:"column:public"`
	Secrets           []byte `gorm:"column:secrets"`
	AccessExpiresAt   *int64 `gorm:"column:access_expires_at"`
	RefreshExpiresAt  *int64 `gorm:"column:refresh_expires_at"`
	RefreshClaimUntil *int64 `gorm:"column:refresh_claim_until"`
	RefreshClaimOwner string `gorm:"column:refresh_claim_owner"`
	Revision          int64  `gorm:"column:revision"`
	CreatedAt         int64  `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt         int64  `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (connRow) TableName() string { return "connections" }

// oauthStateRow is a row of oauth_states.
type oauthStateRow struct {
	ID        string `gorm:"column:id;primaryKey"`
	UserID    string `gorm:"column:user_id"`
	Payload   []byte `gorm:"column:payload"`
	ExpiresAt int64  `gorm:"column:expires_at"`
	CreatedAt int64  `gorm:"column:created_at;autoCreateTime:false"`
}

func (oauthStateRow) TableName() string { return "oauth_states" }

// storedBytes is b as stored in a NOT NULL binary column: nil becomes
// empty.
func storedBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// loadedBytes is a binary column as returned: empty becomes nil.
func loadedBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func toConnRow(c *store.Connection) connRow {
	return connRow{
		UserID:            c.UserID,
		Name:              c.Name,
		Provider:          c.Provider,
		Environment:       c.Environment,
		Auth:              c.Auth,
		Status:            c.Status,
		StatusMessage:     c.StatusMessage,
		Public:            jsonText(c.Public),
		Secrets:           storedBytes(c.Secrets),
		AccessExpiresAt:   microsPtr(c.AccessExpiresAt),
		RefreshExpiresAt:  microsPtr(c.RefreshExpiresAt),
		RefreshClaimUntil: microsPtr(c.RefreshClaimUntil),
		RefreshClaimOwner: c.RefreshClaimOwner,
		Revision:          c.Revision,
		CreatedAt:         micros(c.CreatedAt),
		UpdatedAt:         micros(c.UpdatedAt),
	}
}

func (r *connRow) connection() *store.Connection {
	return &store.Connection{
		UserID:            r.UserID,
		Name:              r.Name,
		Provider:          r.Provider,
		Environment:       r.Environment,
		Auth:              r.Auth,
		Status:            r.Status,
		StatusMessage:     r.StatusMessage,
		Public:            textJSON(r.Public),
		Secrets:           loadedBytes(r.Secrets),
		AccessExpiresAt:   fromMicrosPtr(r.AccessExpiresAt),
		RefreshExpiresAt:  fromMicrosPtr(r.RefreshExpiresAt),
		RefreshClaimUntil: fromMicrosPtr(r.RefreshClaimUntil),
		RefreshClaimOwner: r.RefreshClaimOwner,
		Revision:          r.Revision,
		CreatedAt:         fromMicros(r.CreatedAt),
		UpdatedAt:         fromMicros(r.UpdatedAt),
	}
}

// connLabel names a connection in errors: its name, and its user's id for
// a connected user's.
func connLabel(userID, name string) string {
	if userID == "" {
		return fmt.Sprintf("%q", name)
	}
	return fmt.Sprintf("%q of user %q", name, userID)
}

// CreateConnection inserts c with a fresh starting revision (set on c):
// the current time in microseconds, or one more than the last revision of
// a deleted connection of the same user and name when that is higher, so
// a connection deleted and created again never reuses a revision. A
// connection of the same user and name gives store.ErrConflict.
func (s *Store) CreateConnection(ctx context.Context, c *store.Connection) error {
	if c == nil || c.Name == "" {
		return errors.New("creating connection: empty name: give the connection a name")
	}
	row := toConnRow(c)
	err := s.write(ctx, func(tx *gorm.DB) error {
		var last []int64
		if err := tx.Raw(`SELECT revision FROM connection_tombstones WHERE user_id = ? AND name = ?`, row.UserID, row.Name).
			Scan(&last).Error; err != nil {
			return err
		}
		row.Revision = time.Now().UnixMicro()
		if len(last) > 0 && last[0] >= row.Revision {
			row.Revision = last[0] + 1
		}
		return tx.Exec(`INSERT INTO connections (user_id, name, provider, environment, auth, status, status_message, "public", secrets,
				access_expires_at, refresh_expires_at, refresh_claim_until, refresh_claim_owner, revision, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			row.UserID, row.Name, row.Provider, row.Environment, row.Auth, row.Status, row.StatusMessage, row.Public, row.Secrets,
			row.AccessExpiresAt, row.RefreshExpiresAt, row.RefreshClaimUntil, row.RefreshClaimOwner, row.Revision, row.CreatedAt, row.UpdatedAt).Error
	})
	if err != nil {
		err = dbErr(err)
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("creating connection %s: a connection with this name exists: %w", connLabel(c.UserID, c.Name), store.ErrConflict)
		}
		return fmt.Errorf("creating connection %s: %w", connLabel(c.UserID, c.Name), err)
	}
	c.Revision = row.Revision
	return nil
}

// GetConnection returns one connection, or store.ErrNotFound.
func (s *Store) GetConnection(ctx context.Context, userID, name string) (*store.Connection, error) {
	var row connRow
	if err := s.r.WithContext(ctx).Where("user_id = ? AND name = ?", userID, name).Take(&row).Error; err != nil {
		return nil, fmt.Errorf("getting connection %s: %w", connLabel(userID, name), dbErr(err))
	}
	return row.connection(), nil
}

// ListConnections returns the user's connections ordered by name.
func (s *Store) ListConnections(ctx context.Context, userID string) ([]*store.Connection, error) {
	var rows []connRow
	if err := s.r.WithContext(ctx).Where("user_id = ?", userID).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("listing connections: %w", dbErr(err))
	}
	out := make([]*store.Connection, len(rows))
	for i := range rows {
		out[i] = rows[i].connection()
	}
	return out, nil
}

// ListAllConnections returns every user's connections ordered by user id,
// then name.
func (s *Store) ListAllConnections(ctx context.Context) ([]*store.Connection, error) {
	var rows []connRow
	if err := s.r.WithContext(ctx).Order("user_id").Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("listing every user's connections: %w", dbErr(err))
	}
	out := make([]*store.Connection, len(rows))
	for i := range rows {
		out[i] = rows[i].connection()
	}
	return out, nil
}

// UpdateConnection replaces every field of the stored connection but its
// creation time, in one conditional UPDATE, if its revision is still
// c.Revision, and sets c.Revision to the new one. A changed revision gives
// store.ErrConflict and writes nothing; a missing connection gives
// store.ErrNotFound.
func (s *Store) UpdateConnection(ctx context.Context, c *store.Connection) error {
	if c == nil || c.Name == "" {
		return errors.New("updating connection: empty name: say which connection to update")
	}
	row := toConnRow(c)
	next := c.Revision + 1
	err := s.write(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE connections SET provider = ?, environment = ?, auth = ?, status = ?, status_message = ?, "public" = ?, secrets = ?,
				access_expires_at = ?, refresh_expires_at = ?, refresh_claim_until = ?, refresh_claim_owner = ?, revision = ?, updated_at = ?
			WHERE user_id = ? AND name = ? AND revision = ?`,
			row.Provider, row.Environment, row.Auth, row.Status, row.StatusMessage, row.Public, row.Secrets,
			row.AccessExpiresAt, row.RefreshExpiresAt, row.RefreshClaimUntil, row.RefreshClaimOwner, next, row.UpdatedAt,
			row.UserID, row.Name, row.Revision)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			return nil
		}
		// Nothing changed: tell a missing connection from a stale revision.
		var current []int64
		if err := tx.Raw(`SELECT revision FROM connections WHERE user_id = ? AND name = ?`, row.UserID, row.Name).Scan(&current).Error; err != nil {
			return err
		}
		if len(current) == 0 {
			return store.ErrNotFound
		}
		return fmt.Errorf("it changed since it was read (revision %d, now %d): read it again and retry: %w",
			row.Revision, current[0], store.ErrConflict)
	})
	if err != nil {
		return fmt.Errorf("updating connection %s: %w", connLabel(c.UserID, c.Name), dbErr(err))
	}
	c.Revision = next
	return nil
}

// DeleteConnection removes a connection, or gives store.ErrNotFound. Its
// last revision is kept (in connection_tombstones) so that a connection
// created again under the name starts above it.
func (s *Store) DeleteConnection(ctx context.Context, userID, name string) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		var current []int64
		if err := tx.Raw(`SELECT revision FROM connections WHERE user_id = ? AND name = ?`, userID, name).Scan(&current).Error; err != nil {
			return err
		}
		if len(current) == 0 {
			return store.ErrNotFound
		}
		if err := tx.Exec(`INSERT INTO connection_tombstones (user_id, name, revision) VALUES (?, ?, ?)
			ON CONFLICT (user_id, name) DO UPDATE SET revision = excluded.revision`, userID, name, current[0]).Error; err != nil {
			return err
		}
		return tx.Exec(`DELETE FROM connections WHERE user_id = ? AND name = ?`, userID, name).Error
	})
	if err != nil {
		return fmt.Errorf("deleting connection %s: %w", connLabel(userID, name), dbErr(err))
	}
	return nil
}

// SaveOAuthState stores a pending authorization; an existing ID gives
// store.ErrConflict. Errors never carry the state's ID: it is a bearer
// secret until the callback takes it.
func (s *Store) SaveOAuthState(ctx context.Context, st *store.OAuthState) error {
	if st == nil || st.ID == "" {
		return errors.New("saving OAuth state: empty id: give the state its random value (or a hash of it)")
	}
	row := oauthStateRow{
		ID:        st.ID,
		UserID:    st.UserID,
		Payload:   storedBytes(st.Payload),
		ExpiresAt: micros(st.ExpiresAt),
		CreatedAt: micros(st.CreatedAt),
	}
	err := s.write(ctx, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO oauth_states (id, user_id, payload, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`,
			row.ID, row.UserID, row.Payload, row.ExpiresAt, row.CreatedAt).Error
	})
	if err != nil {
		err = dbErr(err)
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("saving OAuth state: a state with this id exists: %w", store.ErrConflict)
		}
		return fmt.Errorf("saving OAuth state: %w", err)
	}
	return nil
}

// TakeOAuthState deletes and returns the state with that ID in one write
// transaction, so it can be used once. A state is expired from its
// ExpiresAt on (ExpiresAt <= now). A missing or expired state gives
// store.ErrNotFound; every state expired at now is deleted on the way.
func (s *Store) TakeOAuthState(ctx context.Context, id string, now time.Time) (*store.OAuthState, error) {
	n := micros(now)
	var found []oauthStateRow
	err := s.write(ctx, func(tx *gorm.DB) error {
		found = found[:0]
		if err := tx.Where("id = ?", id).Limit(1).Find(&found).Error; err != nil {
			return err
		}
		return tx.Exec(`DELETE FROM oauth_states WHERE id = ? OR expires_at <= ?`, id, n).Error
	})
	if err != nil {
		return nil, fmt.Errorf("taking OAuth state: %w", dbErr(err))
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("taking OAuth state: no such state (it was used already or never issued): %w", store.ErrNotFound)
	}
	row := found[0]
	if row.ExpiresAt <= n {
		return nil, fmt.Errorf("taking OAuth state: it expired at %s: start the authorization again: %w",
			fromMicros(row.ExpiresAt).Format(time.RFC3339), store.ErrNotFound)
	}
	return &store.OAuthState{
		ID:        row.ID,
		UserID:    row.UserID,
		Payload:   loadedBytes(row.Payload),
		ExpiresAt: fromMicros(row.ExpiresAt),
		CreatedAt: fromMicros(row.CreatedAt),
	}, nil
}
