package triggers

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParseLeverWebhook feeds arbitrary bodies to the webhook parser and,
// for the ones it accepts, to signature checking, freshness, matching and
// trigger data: none may panic, and an accepted event always carries an
// event name and a positive triggeredAt.
func FuzzParseLeverWebhook(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"event":"candidateStageChange","triggeredAt":1,"data":null}`))
	f.Add([]byte(`{"event":"x","triggeredAt":1e3}`))
	f.Add([]byte(`[]`))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseLeverWebhook(body)
		if err != nil {
			return
		}
		if ev.Event == "" || ev.TriggeredAt <= 0 {
			t.Fatalf("accepted an event without a name or time: %+v", ev)
		}
		_ = VerifyLeverSignature(ev, "token")
		_ = CheckFreshness(ev, now, 0)
		_ = Match(ev)
		if d := TriggerData(ev); len(d) == 0 {
			t.Fatal("no trigger data for an accepted event")
		}
	})
}
