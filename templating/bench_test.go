package templating

import (
	"testing"
)

// benchEnv is a realistic run: a Lever stage-change trigger and two
// upstream steps.
func benchEnv() map[string]any {
	return map[string]any{
		"trigger": map[string]any{
			"event":          "candidateStageChange",
			"triggered_at":   "2026-03-01T10:00:00Z",
			"name":           "Ada Lovelace",
			"opportunityId":  "250d8f03-738a-4bba-a671-8a3d73477145",
			"toStageId":      "lead-new",
			"fromStageId":    "applicant-new",
			"contactId":      "7f23e772-f2a7-4f3b-8f3e-0b2e0e0d6b1c",
			"accountId":      "acct-1",
			"signature":      "abc",
			"token":          "tok",
			"triggeredAt":    1709287200000.0,
			"opportunityIds": []any{"o1", "o2"},
		},
		"steps": map[string]any{
			"opp": map[string]any{
				"id":        "250d8f03-738a-4bba-a671-8a3d73477145",
				"name":      "Ada Lovelace",
				"headline":  "Senior Engineer at Analytical Engines",
				"contact":   "7f23e772-f2a7-4f3b-8f3e-0b2e0e0d6b1c",
				"emails":    []any{"ada@example.com", "ada@work.example.com"},
				"tags":      []any{"senior", "backend", "referral"},
				"stage":     map[string]any{"id": "lead-new", "text": "New lead"},
				"owner":     map[string]any{"id": "u1", "name": "Grace Hopper", "email": "grace@example.com"},
				"location":  "London",
				"origin":    "referred",
				"createdAt": 1709000000000.0,
				"archived":  nil,
				"phones":    []any{map[string]any{"type": "mobile", "value": "+44 1234"}},
			},
			"posting": map[string]any{"id": "p1", "text": "Backend Engineer", "team": "Platform"},
		},
		"run":  map[string]any{"id": "0195a1b2-0000-7000-8000-000000000000", "workflow_id": "wf1", "started_at": "2026-03-01T10:00:01Z"},
		"vars": map[string]any{"default_stage": "lead-new"},
	}
}

// benchInput is a step input of 20 fields, 10 of them with references.
func benchInput() map[string]any {
	return map[string]any{
		"opportunity_id": "<<steps.opp.id>>",
		"contact_id":     "<<steps.opp.contact>>",
		"email":          "<<steps.opp.emails[0]>>",
		"owner":          "<<steps.opp.owner.name>>",
		"stage_id":       "<<trigger.toStageId>>",
		"greeting":       "Hello <<trigger.name>>!",
		"subject":        "<<steps.opp.name>> applied to <<steps.posting.text>> (<<steps.posting.team>>)",
		"note":           "Run <<run.id>> moved <<trigger.opportunityId>> to <<steps.opp.stage.text>>",
		"is_senior":      "<<len(steps.opp.tags) > 2>>",
		"senior_title":   "<<steps.opp.headline contains 'Senior' ? 'yes' : 'no'>>",
		"perform_as":     "7c7b5d4f-0000-4000-8000-000000000001",
		"tags":           []any{"imported", "leverflow"},
		"reason":         "Moved by Leverflow",
		"notify":         true,
		"priority":       3.0,
		"channel":        "email",
		"template":       "stage-change-v2",
		"metadata":       map[string]any{"source": "leverflow", "version": 2.0},
		"dry_run":        false,
		"timeout":        "30s",
	}
}

func BenchmarkRender(b *testing.B) {
	tmpl, err := Compile(benchInput())
	if err != nil {
		b.Fatal(err)
	}
	env := benchEnv()
	if _, err := tmpl.Render(env); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderParallel(b *testing.B) {
	tmpl, err := Compile(benchInput())
	if err != nil {
		b.Fatal(err)
	}
	env := benchEnv()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tmpl.Render(env); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCompile(b *testing.B) {
	in := benchInput()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(in); err != nil {
			b.Fatal(err)
		}
	}
}
