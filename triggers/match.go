package triggers

import (
	"encoding/json"
	"time"
)

// Lever's webhook event names (LeverEvent.Event).
const (
	EventApplicationCreated     = "applicationCreated"
	EventCandidateStageChange   = "candidateStageChange"
	EventCandidateArchiveChange = "candidateArchiveChange"
	EventCandidateHired         = "candidateHired"
	EventCandidateDeleted       = "candidateDeleted"
	EventInterviewCreated       = "interviewCreated"
	EventInterviewUpdated       = "interviewUpdated"
	EventInterviewDeleted       = "interviewDeleted"
	EventContactCreated         = "contactCreated"
	EventContactUpdated         = "contactUpdated"
)

// The event names Leverflow's poller puts in `trigger.event` for what
// Lever has no webhook for. They are not Lever's: Lever has no posting or
// "opportunity created" events.
const (
	PolledOpportunityCreated = "opportunityCreated"
	PolledPostingCreated     = "postingCreated"
	PolledPostingUpdated     = "postingUpdated"
)

// TriggeredAtLayout is how `trigger.triggered_at` is written: RFC 3339 in
// UTC with exactly three fraction digits (Lever's millisecond precision),
// so the strings sort as the times do.
const TriggeredAtLayout = "2006-01-02T15:04:05.000Z07:00"

// Match returns the trigger types a delivery starts, the specific type
// first and then the unions it belongs to; for example candidateStageChange
// starts "lever.candidate_stage_changed" and "lever.candidate_updated". An
// event Lever may add later, and Lever's test delivery (IsTest), start
// nothing.
func Match(ev *LeverEvent) []string {
	if ev == nil || ev.IsTest() {
		return nil
	}
	// The same mapping as the LeverEvents of Types (a test checks it),
	// without building the catalog for every delivery.
	switch ev.Event {
	case EventApplicationCreated:
		return []string{"lever.application_created", "lever.candidate_created"}
	case EventCandidateStageChange:
		return []string{"lever.candidate_stage_changed", "lever.candidate_updated"}
	case EventCandidateArchiveChange:
		return []string{"lever.candidate_archive_changed", "lever.candidate_updated"}
	case EventCandidateHired:
		return []string{"lever.candidate_hired", "lever.candidate_updated"}
	case EventCandidateDeleted:
		return []string{"lever.candidate_deleted"}
	case EventInterviewCreated:
		return []string{"lever.interview_created"}
	case EventInterviewUpdated:
		return []string{"lever.interview_updated"}
	case EventInterviewDeleted:
		return []string{"lever.interview_deleted"}
	case EventContactCreated:
		return []string{"lever.contact_created"}
	case EventContactUpdated:
		return []string{"lever.contact_updated", "lever.candidate_updated"}
	}
	return nil
}

// TriggerData returns what the `trigger` root of references holds in a run
// the delivery starts: the fields of ev.Data as Lever sent them, plus
// "event" (Lever's name), "triggered_at" (TriggeredAtLayout), "token" and,
// when Lever sent one, "id". The signature is never included. These four
// win over a data field of the same name. The keys come out sorted.
func TriggerData(ev *LeverEvent) json.RawMessage {
	if ev == nil {
		return json.RawMessage("{}")
	}
	m := map[string]json.RawMessage{}
	// Data was checked to be an object by ParseLeverWebhook; a hand-built
	// event with bad data contributes nothing.
	_ = json.Unmarshal(ev.Data, &m)
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	put := func(k, v string) {
		b, _ := json.Marshal(v) // marshalling a string cannot fail
		m[k] = b
	}
	put("event", ev.Event)
	put("triggered_at", formatTriggeredAt(ev.Time()))
	put("token", ev.Token)
	if ev.ID != "" {
		put("id", ev.ID)
	} else {
		delete(m, "id")
	}
	b, err := json.Marshal(m)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

// formatTriggeredAt formats a time the way TriggerData does.
func formatTriggeredAt(t time.Time) string { return t.UTC().Format(TriggeredAtLayout) }
