package engine

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestNotificationID(t *testing.T) {
	t.Parallel()
	at := time.Date(2031, 3, 1, 12, 0, 0, 123456789, time.UTC)
	a := notificationID("run-1", at)
	tests := []struct {
		name string
		id   string
		same bool
	}{
		{"same failure", notificationID("run-1", at), true},
		{"same failure, other zone", notificationID("run-1", at.In(time.FixedZone("x", 3600))), true},
		{"a later failure of the run", notificationID("run-1", at.Add(time.Nanosecond)), false},
		{"another run", notificationID("run-2", at), false},
	}
	for _, tt := range tests {
		if (tt.id == a) != tt.same {
			t.Errorf("%s: %s vs %s, want same %v", tt.name, tt.id, a, tt.same)
		}
	}
	u, err := uuid.Parse(a)
	if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
		t.Fatalf("%s is not a UUIDv7: %v", a, err)
	}
	sec, nsec := u.Time().UnixTime()
	if got := time.Unix(sec, nsec).UnixMilli(); got != at.UnixMilli() {
		t.Errorf("time of the id = %d, want %d", got, at.UnixMilli())
	}
}
