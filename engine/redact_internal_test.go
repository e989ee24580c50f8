package engine

import (
	"encoding/json"
	"testing"

	"github.com/leverflow/leverflow/steps"
)

func TestRedactString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		// Emails anywhere.
		{"jane.doe+jobs@example.co.uk", "[redacted]"},
		{"Reply to <jane@example.com>, cc bob@mail.example.org.", "Reply to <[redacted]>, cc [redacted]."},
		// Phone numbers, international and North American.
		{"+14155550134", "[redacted]"},
		{"+1 415 555 0134", "[redacted]"},
		{"+1 (415) 555-0134", "[redacted]"},
		{"+44 20 7946 0958", "[redacted]"},
		{"+33 1 23 45 67 89", "[redacted]"},
		{"(415) 555-0134", "[redacted]"},
		{"415-555-0134", "[redacted]"},
		{"415.555.0134", "[redacted]"},
		{"call 415 555 0134 today", "call [redacted] today"},
		{"tel: +49 30 1234567, fax 415-555-0199", "tel: [redacted], fax [redacted]"},
		// Not phones: ids, dates, times, numbers, versions, money.
		{"0b1f3c2a-4d5e-4f60-8a7b-9c0d1e2f3a4b", ""},
		{"12345678-1234-1234-1234-123456789012", ""},
		{"2024-05-01", ""},
		{"2024-05-01T10:00:00+02:00", ""},
		{"2024-05-01 10:00:00.000", ""},
		{"1714567890123", ""},
		{"4155550134", ""},
		{"order 123-456-78901-2", ""},
		{"v1.415.555.0134", ""},
		{"ab415-555-0134", ""},
		{"$1,234,567.89", ""},
		{"+12.5% growth in 2024", ""},
		{"Senior Engineer (Remote)", ""},
		{"lever.candidate_stage_changed", ""},
	}
	for _, tt := range tests {
		want := tt.want
		if want == "" {
			want = tt.in
		}
		if got := redactString(tt.in); got != want {
			t.Errorf("redactString(%q) = %q, want %q", tt.in, got, want)
		}
	}
}

func TestRedactSensitive(t *testing.T) {
	t.Parallel()
	schema := &steps.Schema{Type: steps.TypeObject, Properties: map[string]*steps.Schema{
		"url":     {Type: steps.TypeString},
		"api_key": {Type: steps.TypeString, Sensitive: true},
		"auth": {Type: steps.TypeObject, Properties: map[string]*steps.Schema{
			"user":     {Type: steps.TypeString},
			"password": {Type: steps.TypeString, Sensitive: true},
		}},
		"accounts": {Type: steps.TypeArray, Items: &steps.Schema{Type: steps.TypeObject, Properties: map[string]*steps.Schema{
			"id": {Type: steps.TypeString}, "token": {Type: steps.TypeString, Sensitive: true},
		}}},
		"headers": {Type: steps.TypeObject, AdditionalProperties: true},
	}}
	if !hasSensitive(schema) || hasSensitive(schema.Properties["headers"]) {
		t.Fatal("hasSensitive is wrong")
	}
	in := map[string]any{
		"url": "https://x", "api_key": "k-123",
		"auth":     map[string]any{"user": "u", "password": "p"},
		"accounts": []any{map[string]any{"id": "a", "token": "t1"}, map[string]any{"id": "b"}},
		"headers":  map[string]any{"X": "y"},
		"extra":    "kept",
	}
	before, _ := json.Marshal(in)
	got, _ := json.Marshal(redactSensitive(in, schema))
	want := `{"accounts":[{"id":"a","token":"[redacted]"},{"id":"b"}],"api_key":"[redacted]","auth":{"password":"[redacted]","user":"u"},"extra":"kept","headers":{"X":"y"},"url":"https://x"}`
	if string(got) != want {
		t.Errorf("redacted = %s\nwant        %s", got, want)
	}
	if after, _ := json.Marshal(in); string(after) != string(before) {
		t.Errorf("the input was changed: %s", after)
	}
}

func TestRedactPII(t *testing.T) {
	t.Parallel()
	in := `{"id":"250d8f03-738a-4bba-a671-8a3d73477145","name":"Jane Doe","headline":"Engineer at Acme, jane@acme.io",
"contact":"c1","emails":["jane@example.com"],"phones":[{"type":"mobile","value":"+1 415 555 0134"}],
"owner":{"id":"u1","name":"Rita Recruiter","email":"rita@acme.io"},"first_name":"Jane","lastName":"Doe",
"createdAt":1714567890123,"tags":["senior"],"stage":{"id":"offer","text":"Offer"},"name2":null,"followers":["u1"]}`
	got := string(redactPIIJSON(json.RawMessage(in)))
	want := `{"contact":"c1","createdAt":1714567890123,"emails":"[redacted]","first_name":"[redacted]","followers":["u1"],"headline":"Engineer at Acme, [redacted]","id":"250d8f03-738a-4bba-a671-8a3d73477145","lastName":"[redacted]","name":"[redacted]","name2":null,"owner":{"email":"[redacted]","id":"u1","name":"[redacted]"},"phones":"[redacted]","stage":{"id":"offer","text":"Offer"},"tags":["senior"]}`
	if got != want {
		t.Errorf("redactPII =\n%s\nwant\n%s", got, want)
	}
	if got := string(redactPIIJSON(json.RawMessage(`not json`))); got != `"[redacted]"` {
		t.Errorf("undecodable = %s", got)
	}
}

// opportunity is a typical Lever opportunity as GET /opportunities/:id
// returns it (expanded owner and stage, two applications).
const opportunity = `{"data":{"id":"250d8f03-738a-4bba-a671-8a3d73477145","name":"Shane Smith","headline":"Software Engineer at Brickly, call +1 (415) 555-0134",
"contact":"7f23e772-f2cd-4ebe-b8f1-2d8c9c8e5b9a","emails":["shane@exampleq3.com","s.smith@example.org"],"phones":[{"type":"mobile","value":"(123) 456-7891"}],
"confidentiality":"non-confidential","location":"Oakland","links":["indeed.com/r/Shane/ac3d53d2e4a19b4e","https://linkedin.com/in/shane"],
"createdAt":1407460071043,"updatedAt":1417588008434,"lastInteractionAt":1417587916729,"lastAdvancedAt":1417587916729,"snoozedUntil":null,
"archivedAt":null,"archiveReason":null,"stage":{"id":"00922a60-7c15-422b-b086-f62000824fd7","text":"Phone Screen"},
"stageChanges":[{"toStageId":"lead-new","toStageIndex":0,"userId":"df0dd1f7-2cd8-4cf6-a2b1-43d3e6bd7ee0","updatedAt":1407460071043},
{"toStageId":"00922a60-7c15-422b-b086-f62000824fd7","toStageIndex":3,"userId":"df0dd1f7-2cd8-4cf6-a2b1-43d3e6bd7ee0","updatedAt":1417587916729}],
"owner":{"id":"df0dd1f7-2cd8-4cf6-a2b1-43d3e6bd7ee0","name":"Chandler Bing","email":"chandler@exampleq3.com","username":"chandler","accessRole":"admin"},
"tags":["San Francisco","Full-time","Support","Customer Success","Customer Service Representative"],
"sources":["linkedin"],"origin":"sourced","sourcedBy":"df0dd1f7-2cd8-4cf6-a2b1-43d3e6bd7ee0",
"applications":["cdb1925c-6a7b-4531-8a91-4c0b6d22b1ef","a8f2e1b2-1c3d-4e5f-8a9b-0c1d2e3f4a5b"],
"resume":null,"followers":["df0dd1f7-2cd8-4cf6-a2b1-43d3e6bd7ee0","ecdb3d6f-8e16-4aaa-9a7e-7a4e1a77c9d8"],
"urls":{"list":"https://hire.lever.co/candidates","show":"https://hire.lever.co/candidates/250d8f03-738a-4bba-a671-8a3d73477145"},
"dataProtection":{"store":{"allowed":true,"expiresAt":1522540800000},"contact":{"allowed":false,"expiresAt":null}},"isAnonymized":false}}`

// BenchmarkRedactOpportunity measures the PII redaction of one stored
// value: decoding, redacting and encoding a Lever opportunity.
func BenchmarkRedactOpportunity(b *testing.B) {
	raw := json.RawMessage(opportunity)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		redactPIIJSON(raw)
	}
}
