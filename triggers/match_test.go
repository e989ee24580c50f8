package triggers

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

func timeOf(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("%v is not a string", v)
	}
	return time.Parse(time.RFC3339, s)
}

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		event string
		want  []string
	}{
		{EventApplicationCreated, []string{"lever.application_created", "lever.candidate_created"}},
		{EventCandidateStageChange, []string{"lever.candidate_stage_changed", "lever.candidate_updated"}},
		{EventCandidateArchiveChange, []string{"lever.candidate_archive_changed", "lever.candidate_updated"}},
		{EventCandidateHired, []string{"lever.candidate_hired", "lever.candidate_updated"}},
		{EventCandidateDeleted, []string{"lever.candidate_deleted"}},
		{EventInterviewCreated, []string{"lever.interview_created"}},
		{EventInterviewUpdated, []string{"lever.interview_updated"}},
		{EventInterviewDeleted, []string{"lever.interview_deleted"}},
		{EventContactCreated, []string{"lever.contact_created"}},
		{EventContactUpdated, []string{"lever.contact_updated", "lever.candidate_updated"}},
		{"postingCreated", nil}, // Lever has none; polled types are not matched
		{"somethingNew", nil},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			t.Parallel()
			ev := &LeverEvent{Event: tt.event, TriggeredAt: 1, Data: json.RawMessage(`{"opportunityId":"o"}`)}
			if got := Match(ev); !slices.Equal(got, tt.want) {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
	// Lever's test delivery starts nothing.
	for _, data := range []string{`{}`, ` { } `, ``} {
		if got := Match(&LeverEvent{Event: EventCandidateHired, TriggeredAt: 1, Data: json.RawMessage(data)}); got != nil {
			t.Errorf("test delivery with data %q matched %v", data, got)
		}
	}
	if Match(nil) != nil {
		t.Error("Match(nil) matched")
	}
}

// TestMatchAgreesWithTypes: Match starts exactly the types whose
// LeverEvents name the event.
func TestMatchAgreesWithTypes(t *testing.T) {
	t.Parallel()
	for _, e := range sandbox.Events {
		var want []string
		for _, tt := range Types() {
			if slices.Contains(tt.LeverEvents, e) {
				want = append(want, tt.Type)
			}
		}
		if got := Match(&LeverEvent{Event: e, TriggeredAt: 1, Data: json.RawMessage(`{"contactId":"c"}`)}); !slices.Equal(got, want) {
			t.Errorf("%s: Match = %v, the catalog says %v", e, got, want)
		}
	}
}

func TestTriggerDataFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want string
	}{
		{"webhook_application_created.json", `{"applicationId":"7c3e1a9d-6b2f-4e58-90d4-2f8a5c1e7b36","candidateId":"6f2b8d1e-4c7a-4e93-b0a5-2d9c1f6e8a73","contactId":"9e4c1b7a-2f8d-4d36-b9a5-0c6e3f1d7b42","event":"applicationCreated","id":"c6f0a2d8-4e1b-4973-b5a9-1d8e3c7f0b65","opportunityId":"6f2b8d1e-4c7a-4e93-b0a5-2d9c1f6e8a73","token":"a3c5e7f9b1d2048e6c8a0f2d4b6e8a1c3e5f7b9d0a2c4e6f","triggered_at":"2025-05-14T08:21:38.905Z"}`},
		{"webhook_candidate_stage_change.json", `{"candidateId":"6f2b8d1e-4c7a-4e93-b0a5-2d9c1f6e8a73","contactId":"9e4c1b7a-2f8d-4d36-b9a5-0c6e3f1d7b42","event":"candidateStageChange","fromStageId":"3d8f1a6c-92b4-4e7d-a0c5-1f6e8b2d9a47","id":"2a7e5c91-0b4d-4f38-9e16-c8d3a5f7b204","opportunityId":"6f2b8d1e-4c7a-4e93-b0a5-2d9c1f6e8a73","toStageId":"7a2c9e41-0d5b-4f83-b6a1-4e9c3d7f2b08","token":"5d1f9c3b7a2e8046c9b1d7e3f5a0c2b4e6d8f1a3c5e7b9d0","triggered_at":"2025-05-21T13:04:58.412Z"}`},
		{"webhook_contact_updated.json", `{"contactId":"9e4c1b7a-2f8d-4d36-b9a5-0c6e3f1d7b42","event":"contactUpdated","id":"f41b8d2a-7c6e-4a05-93d1-b2e9c5a7f318","token":"0e2c4a6f8b1d3e5a7c9f0b2d4e6a8c1e3f5b7d9a0c2e4f6b","triggered_at":"2025-05-21T13:06:02.077Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			ev := parseFixture(t, tt.file)
			got := TriggerData(ev)
			if string(got) != tt.want {
				t.Errorf("TriggerData =\n%s\nwant\n%s", got, tt.want)
			}
			if strings.Contains(string(got), ev.Signature) {
				t.Error("TriggerData holds the signature")
			}
			var m map[string]any
			if err := json.Unmarshal(got, &m); err != nil {
				t.Fatal(err)
			}
			if at, err := timeOf(m["triggered_at"]); err != nil || !at.Equal(ev.Time()) {
				t.Errorf("triggered_at %v: %v", m["triggered_at"], err)
			}
		})
	}
}

func TestTriggerDataEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   *LeverEvent
		want string
	}{
		{"no id, empty data", &LeverEvent{Event: EventCandidateHired, TriggeredAt: 1747832698000, Token: "t", Signature: "s", Data: json.RawMessage(`{}`)},
			`{"event":"candidateHired","token":"t","triggered_at":"2025-05-21T13:04:58.000Z"}`},
		{"envelope wins over data", &LeverEvent{ID: "real", Event: EventContactUpdated, TriggeredAt: 1, Token: "t",
			Data: json.RawMessage(`{"event":"fake","token":"fake","triggered_at":"fake","id":"fake","contactId":"c"}`)},
			`{"contactId":"c","event":"contactUpdated","id":"real","token":"t","triggered_at":"1970-01-01T00:00:00.001Z"}`},
		{"no id drops data id", &LeverEvent{Event: EventContactUpdated, TriggeredAt: 1, Token: "t", Data: json.RawMessage(`{"id":"fake"}`)},
			`{"event":"contactUpdated","token":"t","triggered_at":"1970-01-01T00:00:00.001Z"}`},
		{"numbers and nesting kept", &LeverEvent{Event: EventCandidateArchiveChange, TriggeredAt: 1, Token: "t",
			Data: json.RawMessage(`{"toArchived":{"archivedAt":1747833015000,"reason":"r"},"fromArchived":null}`)},
			`{"event":"candidateArchiveChange","fromArchived":null,"toArchived":{"archivedAt":1747833015000,"reason":"r"},"token":"t","triggered_at":"1970-01-01T00:00:00.001Z"}`},
		{"bad data", &LeverEvent{Event: EventCandidateHired, TriggeredAt: 1, Token: "t", Data: json.RawMessage(`[1]`)},
			`{"event":"candidateHired","token":"t","triggered_at":"1970-01-01T00:00:00.001Z"}`},
		{"nil", nil, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(TriggerData(tt.ev)); got != tt.want {
				t.Errorf("TriggerData =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
