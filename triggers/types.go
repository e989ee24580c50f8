package triggers

import (
	"encoding/json"
	"time"

	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
)

// Delivery says how the events of a trigger type reach Leverflow.
type Delivery string

// The values of Delivery.
const (
	DeliveryWebhook     Delivery = "webhook"      // pushed by Lever's webhooks
	DeliveryPoll        Delivery = "poll"         // found by polling Lever's API
	DeliveryWebhookPoll Delivery = "webhook+poll" // both, deduplicated
	DeliveryAPI         Delivery = "api"          // POST /api/v1/workflows/:id/runs
	DeliverySchedule    Delivery = "schedule"     // a cron schedule
)

// The categories of trigger types, as the editor groups them.
const (
	CategoryAPI      = "API"
	CategorySchedule = "Schedule"
	CategoryLever    = "Lever"
)

// TriggerType describes one trigger type of a workflow's "trigger.type":
// what starts it and what `trigger` holds in references. It is what the
// editor lists and what reference checks read.
type TriggerType struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Category    string `json:"category"`
	Description string `json:"description"`
	// NeedsConnection is true for the Lever types: "trigger.connection"
	// names the Lever account whose events start the workflow.
	NeedsConnection bool     `json:"needs_connection"`
	Delivery        Delivery `json:"delivery"`
	// LeverEvents are Lever's webhook events that feed the type (none for
	// polled-only, API and schedule types).
	LeverEvents []string `json:"lever_events,omitempty"`
	// Data is the schema of the `trigger` root in references.
	Data *steps.Schema `json:"data"`
	// Example is a `trigger` value as a run would see it.
	Example json.RawMessage `json:"example"`
}

// Lookup returns the trigger type named typ.
func Lookup(typ string) (TriggerType, bool) {
	for _, t := range Types() {
		if t.Type == typ {
			return t, true
		}
	}
	return TriggerType{}, false
}

// Types returns every trigger type, in the order of
// workflow.TriggerTypes. Each call builds a fresh catalog the caller may
// change.
func Types() []TriggerType {
	stage := fixtureStageChange()
	app := fixtureApplicationCreated()
	contact := fixtureContactUpdated()
	archive := exampleEvent(EventCandidateArchiveChange, 1747833015220, "e8b2c4d6-1a3f-4b57-9c0e-2d4f6a8b0c13", map[string]any{
		"opportunityId": exampleOpportunityID, "candidateId": exampleOpportunityID, "contactId": exampleContactID,
		"fromArchived": nil,
		"toArchived":   map[string]any{"archivedAt": int64(1747833015000), "reason": "5e1c7a92-3f4d-4b68-8a0e-9d2b6c1f4e77"},
	})
	hired := exampleEvent(EventCandidateHired, 1748437802118, "0c5e7a9b-2d4f-4e61-8b3a-5f7d9c1e3a24", oppIDs())
	deleted := exampleEvent(EventCandidateDeleted, 1748442201734, "7d1f3b5a-9c2e-4f80-a6b4-1e3c5a7d9f02",
		with(oppIDs(), "deletedBy", "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31"))
	interview := func(event string, at int64, id string) json.RawMessage {
		return exampleEvent(event, at, id, with(oppIDs(),
			"interviewId", "a8d2f4b6-3c1e-4a79-b5d0-6e8f2a4c1b97", "panelId", "f2b4d6e8-5a1c-4e93-a7b2-0c4e6a8d2f15"))
	}
	contactCreated := exampleEvent(EventContactCreated, 1747210898512, "3b9d1f7e-6a2c-4e05-8d4b-9f1a3c5e7b80",
		map[string]any{"contactId": exampleContactID})
	oppPolled := examplePolled(PolledOpportunityCreated, 1747669202000, map[string]any{
		"opportunityId": "b3e7c9a1-5d2f-4a86-9c0b-7e4d1a8f2c65",
		"candidateId":   "b3e7c9a1-5d2f-4a86-9c0b-7e4d1a8f2c65",
		"contactId":     "5a0d8e3f-7c1b-49e2-a6f4-1d9b2c7e0a58",
		"opportunity":   exampleOpportunity(),
	})
	postingCreated := examplePolled(PolledPostingCreated, 1743597000000, map[string]any{
		"postingId": examplePostingID, "posting": examplePosting(1743597000000)})
	postingUpdated := examplePolled(PolledPostingUpdated, 1747068501000, map[string]any{
		"postingId": examplePostingID, "posting": examplePosting(1747068501000)})

	lever := func(typ, title, desc string, delivery Delivery, events []string, data *steps.Schema, example json.RawMessage) TriggerType {
		return TriggerType{Type: typ, Title: title, Category: CategoryLever, Description: desc, NeedsConnection: true,
			Delivery: delivery, LeverEvents: events, Data: data, Example: example}
	}
	return []TriggerType{
		{
			Type: workflow.TriggerAPI, Title: "API Request", Category: CategoryAPI, Delivery: DeliveryAPI,
			Description: "Starts a run when a program calls POST /api/v1/workflows/:id/runs (or the SDK's " +
				"/sdk/workflows/:id/runs). `trigger` is the request's JSON body; send an Idempotency-Key " +
				"header to make retries safe, and ?wait=30s to get the finished run back.",
			Data: &steps.Schema{Type: steps.TypeObject, AdditionalProperties: true,
				Description: "The JSON body of the request that started the run, as sent."},
			Example: mustJSON(map[string]any{"email": "avery.chen@mailbox.example", "name": "Avery Chen",
				"posting_id": examplePostingID}),
		},
		{
			Type: workflow.TriggerSchedule, Title: "Schedule", Category: CategorySchedule, Delivery: DeliverySchedule,
			Description: "Starts a run at the times of a cron expression (\"cron\", five fields such as " +
				"\"0 9 * * MON-FRI\") read in a time zone (\"timezone\", an IANA name such as " +
				"\"Europe/Berlin\"). `trigger` holds the slot's time, the cron expression and the time zone.",
			Data: &steps.Schema{Type: steps.TypeObject, Required: []string{"triggered_at", "cron", "timezone"},
				Description: "The schedule slot that started the run.",
				Properties: map[string]*steps.Schema{
					"triggered_at": dateTime("The scheduled time of the slot (not when the run happened to start)."),
					"cron":         str("The workflow's cron expression."),
					"timezone":     str("The time zone the cron expression is read in."),
				}},
			Example: mustJSON(map[string]any{"triggered_at": "2025-05-26T07:00:00.000Z", "cron": "0 9 * * MON-FRI",
				"timezone": "Europe/Berlin"}),
		},
		lever("lever.application_created", "Application Created",
			"Starts a run when someone applies to a posting, or a candidate is added to one, in Lever "+
				"(webhook applicationCreated). `trigger` holds the ids of the application, the opportunity "+
				"and the contact; fetch the opportunity with Get Opportunity for the rest.",
			DeliveryWebhook, []string{EventApplicationCreated},
			webhookSchema("An application was created.", []string{EventApplicationCreated},
				"applicationId", "opportunityId", "contactId", "candidateId"), app),
		lever("lever.candidate_stage_changed", "Candidate Stage Changed",
			"Starts a run when a candidate (an opportunity) moves to another pipeline stage in Lever "+
				"(webhook candidateStageChange). `trigger` holds the opportunity and contact ids and "+
				"fromStageId/toStageId.",
			DeliveryWebhook, []string{EventCandidateStageChange},
			webhookSchema("A candidate moved to another stage.", []string{EventCandidateStageChange},
				"opportunityId", "contactId", "candidateId", "fromStageId", "toStageId"), stage),
		lever("lever.candidate_archive_changed", "Candidate Archived or Unarchived",
			"Starts a run when a candidate is archived (with a reason, hired or not) or restored in Lever "+
				"(webhook candidateArchiveChange). fromArchived/toArchived are null when the candidate "+
				"was/is active.",
			DeliveryWebhook, []string{EventCandidateArchiveChange},
			webhookSchema("A candidate was archived or unarchived.", []string{EventCandidateArchiveChange},
				"opportunityId", "contactId", "candidateId", "fromArchived", "toArchived"), archive),
		lever("lever.candidate_hired", "Candidate Hired",
			"Starts a run when a candidate is hired in Lever (webhook candidateHired; Lever usually also "+
				"sends candidateArchiveChange with a hired reason). Lever's test delivery, which has no "+
				"data, starts nothing.",
			DeliveryWebhook, []string{EventCandidateHired},
			webhookSchema("A candidate was hired.", []string{EventCandidateHired},
				"opportunityId", "contactId", "candidateId"), hired),
		lever("lever.candidate_deleted", "Candidate Deleted",
			"Starts a run when a candidate (an opportunity) is deleted in Lever (webhook candidateDeleted). "+
				"The opportunity can no longer be fetched; Lever keeps it in GET /opportunities/deleted.",
			DeliveryWebhook, []string{EventCandidateDeleted},
			webhookSchema("A candidate was deleted.", []string{EventCandidateDeleted},
				"opportunityId", "contactId", "candidateId", "deletedBy"), deleted),
		lever("lever.interview_created", "Interview Created",
			"Starts a run when an interview is scheduled in Lever (webhook interviewCreated).",
			DeliveryWebhook, []string{EventInterviewCreated},
			webhookSchema("An interview was scheduled.", []string{EventInterviewCreated}, interviewFields()...),
			interview(EventInterviewCreated, 1747999330512, "4e6a8c0b-2d1f-4a35-b7c9-8e0a2c4e6b13")),
		lever("lever.interview_updated", "Interview Updated",
			"Starts a run when an interview is changed in Lever (time, interviewers, location; webhook "+
				"interviewUpdated).",
			DeliveryWebhook, []string{EventInterviewUpdated},
			webhookSchema("An interview was changed.", []string{EventInterviewUpdated}, interviewFields()...),
			interview(EventInterviewUpdated, 1748005012877, "9a1c3e5b-7d2f-4b80-a6e4-0c2e4a6b8d35")),
		lever("lever.interview_deleted", "Interview Deleted",
			"Starts a run when an interview is cancelled (deleted) in Lever (webhook interviewDeleted).",
			DeliveryWebhook, []string{EventInterviewDeleted},
			webhookSchema("An interview was cancelled.", []string{EventInterviewDeleted}, interviewFields()...),
			interview(EventInterviewDeleted, 1748010444190, "c2e4a6b8-0d1f-4e57-9b3a-5c7e9a1b3d26")),
		lever("lever.contact_created", "Contact Created",
			"Starts a run when a new person (a contact) is created in Lever (webhook contactCreated), "+
				"before or with their first opportunity. `trigger` holds only contactId.",
			DeliveryWebhook, []string{EventContactCreated},
			webhookSchema("A contact was created.", []string{EventContactCreated}, "contactId"), contactCreated),
		lever("lever.contact_updated", "Contact Updated",
			"Starts a run when a person's contact details (name, headline, emails, phones, location) "+
				"change in Lever (webhook contactUpdated). `trigger` holds only contactId; use Get Contact.",
			DeliveryWebhook, []string{EventContactUpdated},
			webhookSchema("A contact was updated.", []string{EventContactUpdated}, "contactId"), contact),
		lever("lever.candidate_created", "Candidate Created",
			"Starts a run once for each new candidate (opportunity): from the applicationCreated webhook "+
				"for applicants, and by polling GET /opportunities?created_at_start= for sourced leads "+
				"and others Lever sends no application for. `trigger.event` says which "+
				"(applicationCreated or opportunityCreated); opportunityId and contactId are always set, "+
				"and a polled run also has the whole opportunity. contactCreated is not included: a "+
				"contact is a person, not a candidacy, and it comes with the candidacy's own event.",
			DeliveryWebhookPoll, []string{EventApplicationCreated}, candidateCreatedSchema(), oppPolled),
		lever("lever.candidate_updated", "Candidate Updated",
			"Starts a run whenever a candidate changes the way a recruiter means it: moved to another "+
				"stage (candidateStageChange), archived or restored (candidateArchiveChange), hired "+
				"(candidateHired) or their contact details changed (contactUpdated). `trigger.event` says "+
				"which. A hire usually sends two events (hired, archived), so two runs. Interviews have "+
				"their own triggers and a deleted candidate is not updated, so neither is included. "+
				"contactUpdated carries only contactId.",
			DeliveryWebhook, candidateUpdatedEvents(), candidateUpdatedSchema(), stage),
		lever("lever.posting_created", "Posting Created",
			"Starts a run for each new job posting, found by polling GET /postings?updated_at_start= "+
				"(with confidentiality=all): Lever has no posting webhooks, so runs start up to one poll "+
				"interval after the posting is created.",
			DeliveryPoll, nil, postingSchema("A posting was created.", PolledPostingCreated), postingCreated),
		lever("lever.posting_updated", "Posting Updated",
			"Starts a run for each change to an existing job posting (text, state, owner, categories...), "+
				"found by polling GET /postings?updated_at_start=: Lever has no posting webhooks. A "+
				"posting created since the last poll starts Posting Created instead.",
			DeliveryPoll, nil, postingSchema("A posting was changed.", PolledPostingUpdated), postingUpdated),
	}
}

// candidateUpdatedEvents are the Lever events of lever.candidate_updated.
func candidateUpdatedEvents() []string {
	return []string{EventCandidateStageChange, EventCandidateArchiveChange, EventCandidateHired, EventContactUpdated}
}

// interviewFields are the data fields of the interview events.
func interviewFields() []string {
	return []string{"interviewId", "panelId", "opportunityId", "contactId", "candidateId"}
}

// ---------------------------------------------------------------- schemas

func str(desc string) *steps.Schema { return &steps.Schema{Type: steps.TypeString, Description: desc} }

func dateTime(desc string) *steps.Schema {
	return &steps.Schema{Type: steps.TypeString, Format: "date-time", Description: desc}
}

func archivedSchema(desc string) *steps.Schema {
	return &steps.Schema{Type: steps.TypeObject, Description: desc, Properties: map[string]*steps.Schema{
		"archivedAt": {Type: steps.TypeInteger, Description: "When, in Unix milliseconds."},
		"reason":     str("The archive reason id (GET /archive_reasons/:id; its type is hired or non-hired)."),
	}}
}

// dataField describes a field Lever's events put in data. Apart from
// the stage change's, which Lever's own example shows, they are our best
// reading of Lever's documentation.
func dataField(name string) *steps.Schema {
	switch name {
	case "opportunityId":
		return str("The opportunity id: the candidacy, one per person and posting. Use it with Get Opportunity.")
	case "candidateId":
		return str("Deprecated by Lever: the same as opportunityId.")
	case "contactId":
		return str("The contact id: the person, shared by all their opportunities. Use it with Get Contact.")
	case "applicationId":
		return str("The new application's id.")
	case "fromStageId":
		return str("The stage the candidate left (a slug such as applicant-new for built-in stages, else an id).")
	case "toStageId":
		return str("The stage the candidate is now in.")
	case "fromArchived":
		return archivedSchema("The archive state before the change; null when the candidate was active.")
	case "toArchived":
		return archivedSchema("The archive state after the change; null when the candidate was restored.")
	case "deletedBy":
		return str("The id of the Lever user who deleted the candidate.")
	case "interviewId":
		return str("The interview's id.")
	case "panelId":
		return str("The id of the interview panel the interview belongs to, when Lever sends it.")
	}
	return str(name)
}

func envelope(desc string, events []string, webhook bool) *steps.Schema {
	enum := make([]any, len(events))
	for i, e := range events {
		enum[i] = e
	}
	s := &steps.Schema{Type: steps.TypeObject, Description: desc,
		// Lever documents its event data loosely and may add fields; they
		// are passed through, so references to them must not be refused.
		AdditionalProperties: true,
		Required:             []string{"event", "triggered_at"},
		Properties: map[string]*steps.Schema{
			"event":        {Type: steps.TypeString, Enum: enum, Description: "The event's name, as Lever (or, for polled events, Leverflow's poller) calls it."},
			"triggered_at": dateTime("When the event happened (RFC 3339, UTC, milliseconds)."),
		}}
	if webhook {
		s.Properties["id"] = str("Lever's event id, when Lever sends one (its example deliveries have none).")
		s.Properties["token"] = str("The delivery's token; the same on Lever's retries, so it identifies the delivery.")
	}
	return s
}

func webhookSchema(desc string, events []string, fields ...string) *steps.Schema {
	s := envelope(desc, events, true)
	s.Required = append(s.Required, "token")
	for _, f := range fields {
		s.Properties[f] = dataField(f)
	}
	return s
}

func candidateCreatedSchema() *steps.Schema {
	s := envelope("A candidate was created: an application (webhook) or a new opportunity found by polling.",
		[]string{EventApplicationCreated, PolledOpportunityCreated}, true)
	s.Properties["id"].Description += " Webhook only."
	s.Properties["token"].Description += " Webhook only."
	s.Required = append(s.Required, "opportunityId", "contactId")
	for _, f := range []string{"opportunityId", "contactId", "candidateId", "applicationId"} {
		s.Properties[f] = dataField(f)
	}
	s.Properties["applicationId"].Description += " Webhook only."
	s.Properties["opportunity"] = &steps.Schema{Type: steps.TypeObject, AdditionalProperties: true,
		Description: "Polled only: the opportunity as GET /opportunities returns it (name, emails, stage, origin, sources, ...)."}
	return s
}

func candidateUpdatedSchema() *steps.Schema {
	s := envelope("A candidate changed; event says how.", candidateUpdatedEvents(), true)
	s.Required = append(s.Required, "token", "contactId")
	for _, f := range []string{"opportunityId", "contactId", "candidateId", "fromStageId", "toStageId", "fromArchived", "toArchived"} {
		s.Properties[f] = dataField(f)
	}
	s.Properties["opportunityId"].Description += " Absent for contactUpdated."
	s.Properties["fromStageId"].Description += " candidateStageChange only."
	s.Properties["toStageId"].Description += " candidateStageChange only."
	s.Properties["fromArchived"].Description += " candidateArchiveChange only."
	s.Properties["toArchived"].Description += " candidateArchiveChange only."
	return s
}

func postingSchema(desc, event string) *steps.Schema {
	s := envelope(desc, []string{event}, false)
	s.Required = append(s.Required, "postingId", "posting")
	s.Properties["postingId"] = str("The posting's id. Use it with Get Posting or Update Posting.")
	s.Properties["posting"] = &steps.Schema{Type: steps.TypeObject, AdditionalProperties: true,
		Description: "The posting as GET /postings returns it.",
		Properties: map[string]*steps.Schema{
			"id":        str("The posting's id."),
			"text":      str("The job title."),
			"state":     {Type: steps.TypeString, Enum: []any{"published", "internal", "closed", "draft", "pending", "rejected"}, Description: "The posting's state (internal is shown as unlisted in Lever)."},
			"createdAt": {Type: steps.TypeInteger, Description: "When it was created, in Unix milliseconds."},
			"updatedAt": {Type: steps.TypeInteger, Description: "When it last changed, in Unix milliseconds."},
			"categories": {Type: steps.TypeObject, AdditionalProperties: true,
				Description: "team, department, location, allLocations, commitment, level."},
			"owner":         str("The posting owner's user id."),
			"hiringManager": str("The hiring manager's user id."),
		}}
	return s
}

// ---------------------------------------------------------------- examples

// The fixtures' cross-references (shared/lever/fixtures).
const (
	exampleOpportunityID = "6f2b8d1e-4c7a-4e93-b0a5-2d9c1f6e8a73"
	exampleContactID     = "9e4c1b7a-2f8d-4d36-b9a5-0c6e3f1d7b42"
	examplePostingID     = "4c9e2a7f-1b3d-4e85-a6c0-8f2d5b9e1a36"
)

func oppIDs() map[string]any {
	return map[string]any{"opportunityId": exampleOpportunityID, "candidateId": exampleOpportunityID, "contactId": exampleContactID}
}

func with(m map[string]any, kv ...string) map[string]any {
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// fixtureStageChange and its siblings are the webhook fixtures
// (testdata/webhook_*.json) as LeverEvents; a test checks they agree.
func fixtureStageChange() json.RawMessage {
	return TriggerData(&LeverEvent{ID: "2a7e5c91-0b4d-4f38-9e16-c8d3a5f7b204", Event: EventCandidateStageChange,
		TriggeredAt: 1747832698412, Token: "5d1f9c3b7a2e8046c9b1d7e3f5a0c2b4e6d8f1a3c5e7b9d0",
		Data: mustJSON(with(oppIDs(), "fromStageId", "3d8f1a6c-92b4-4e7d-a0c5-1f6e8b2d9a47", "toStageId", "7a2c9e41-0d5b-4f83-b6a1-4e9c3d7f2b08"))})
}

func fixtureApplicationCreated() json.RawMessage {
	return TriggerData(&LeverEvent{ID: "c6f0a2d8-4e1b-4973-b5a9-1d8e3c7f0b65", Event: EventApplicationCreated,
		TriggeredAt: 1747210898905, Token: "a3c5e7f9b1d2048e6c8a0f2d4b6e8a1c3e5f7b9d0a2c4e6f",
		Data: mustJSON(with(oppIDs(), "applicationId", "7c3e1a9d-6b2f-4e58-90d4-2f8a5c1e7b36"))})
}

func fixtureContactUpdated() json.RawMessage {
	return TriggerData(&LeverEvent{ID: "f41b8d2a-7c6e-4a05-93d1-b2e9c5a7f318", Event: EventContactUpdated,
		TriggeredAt: 1747832762077, Token: "0e2c4a6f8b1d3e5a7c9f0b2d4e6a8c1e3f5b7d9a0c2e4f6b",
		Data: mustJSON(map[string]any{"contactId": exampleContactID})})
}

// exampleEvent builds an example for an event the fixtures lack, with the
// fixtures' ids and an invented id and token.
func exampleEvent(event string, at int64, id string, data map[string]any) json.RawMessage {
	token := id[:8] + id[9:13] + id[14:18] + id[19:23] + id[24:] + id[:8] + id[24:32]
	return TriggerData(&LeverEvent{ID: id, Event: event, TriggeredAt: at, Token: token, Data: mustJSON(data)})
}

func examplePolled(event string, atMillis int64, fields map[string]any) json.RawMessage {
	fields["event"], fields["triggered_at"] = event, formatTriggeredAt(time.UnixMilli(atMillis))
	return mustJSON(fields)
}

// exampleOpportunity is the fixtures' sourced lead Jordan Alvarez
// (opportunities_page1.json), trimmed to the main fields.
func exampleOpportunity() map[string]any {
	return map[string]any{
		"id": "b3e7c9a1-5d2f-4a86-9c0b-7e4d1a8f2c65", "name": "Jordan Alvarez", "headline": "Quarry Data, Helix Analytics",
		"contact":  "5a0d8e3f-7c1b-49e2-a6f4-1d9b2c7e0a58",
		"emails":   []string{"jordan.alvarez@inbox.example", "j.alvarez@helix-analytics.example"},
		"location": "Madrid, Spain", "stage": "lead-new", "origin": "sourced", "sources": []string{"LinkedIn"},
		"tags": []string{"Data", "Remote"}, "owner": "c47d1e88-3a92-4f0b-b6e1-9a5f2d8c0e14",
		"sourcedBy": "c47d1e88-3a92-4f0b-b6e1-9a5f2d8c0e14", "applications": []string{"e8b2d5f1-3a9c-4d70-b1e6-5c4f7a2d9e03"},
		"archived": nil, "confidentiality": "non-confidential",
		"createdAt": int64(1747669202000), "updatedAt": int64(1747669205000),
	}
}

// examplePosting is the fixtures' posting.json, trimmed.
func examplePosting(updatedAt int64) map[string]any {
	return map[string]any{
		"id": examplePostingID, "text": "Senior Backend Engineer (Go)", "state": "published",
		"createdAt": int64(1743597000000), "updatedAt": updatedAt,
		"owner": "c47d1e88-3a92-4f0b-b6e1-9a5f2d8c0e14", "hiringManager": "2b6e9d40-1f3c-4a8b-9e57-c0d1a2b3f4e5",
		"confidentiality": "non-confidential", "workplaceType": "hybrid", "tags": []string{"engineering", "high-priority"},
		"categories": map[string]any{"team": "Platform", "department": "Engineering", "location": "Berlin",
			"allLocations": []string{"Berlin", "Remote - EU"}, "commitment": "Full-time", "level": "Senior"},
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("triggers: example does not marshal: " + err.Error())
	}
	return b
}
