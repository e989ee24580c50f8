package gormstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/leverflow/leverflow/engine/store"
)

var _ store.Redaction = (*Store)(nil)

// RedactEventPayload replaces the payload of an inbox event (see
// store.Redaction).
func (s *Store) RedactEventPayload(ctx context.Context, eventID string, payload json.RawMessage) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE events SET payload = ? WHERE id = ?`, string(payload), eventID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = dbErr(err)
	}
	if err != nil {
		return fmt.Errorf("redacting the payload of event %s: %w", eventID, err)
	}
	return nil
}
