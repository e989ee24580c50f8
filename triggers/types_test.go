package triggers

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

func typeNames(ts []TriggerType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Type
	}
	return out
}

func TestTypesMatchWorkflowTriggerTypes(t *testing.T) {
	t.Parallel()
	if got := typeNames(Types()); !slices.Equal(got, workflow.TriggerTypes) {
		t.Errorf("Types() = %v\nworkflow.TriggerTypes = %v", got, workflow.TriggerTypes)
	}
}

// checkDescribed fails for a schema, or any property of it, without a
// description.
func checkDescribed(t *testing.T, path string, s *steps.Schema) {
	t.Helper()
	if s.Description == "" {
		t.Errorf("%s has no description", path)
	}
	for _, k := range s.PropertyNames() {
		checkDescribed(t, path+"."+k, s.Properties[k])
	}
	for _, r := range s.Required {
		if s.Properties[r] == nil {
			t.Errorf("%s requires %q, which it does not describe", path, r)
		}
	}
}

func TestTypesComplete(t *testing.T) {
	t.Parallel()
	deliveries := []Delivery{DeliveryWebhook, DeliveryPoll, DeliveryWebhookPoll, DeliveryAPI, DeliverySchedule}
	for _, tt := range Types() {
		t.Run(tt.Type, func(t *testing.T) {
			t.Parallel()
			if tt.Title == "" || tt.Description == "" || !slices.Contains([]string{CategoryAPI, CategorySchedule, CategoryLever}, tt.Category) {
				t.Errorf("title %q, description %q, category %q", tt.Title, tt.Description, tt.Category)
			}
			if !slices.Contains(deliveries, tt.Delivery) {
				t.Errorf("delivery %q", tt.Delivery)
			}
			lever := strings.HasPrefix(tt.Type, "lever.")
			if tt.NeedsConnection != lever || (tt.Category == CategoryLever) != lever {
				t.Errorf("needs connection %v, category %s", tt.NeedsConnection, tt.Category)
			}
			pushed := tt.Delivery == DeliveryWebhook || tt.Delivery == DeliveryWebhookPoll
			if pushed != (len(tt.LeverEvents) > 0) {
				t.Errorf("delivery %s with Lever events %v", tt.Delivery, tt.LeverEvents)
			}
			for _, e := range tt.LeverEvents {
				if !slices.Contains(sandbox.Events, e) {
					t.Errorf("%q is not a Lever event", e)
				}
			}
			if tt.Data == nil || tt.Data.Type != steps.TypeObject {
				t.Fatalf("data schema %+v", tt.Data)
			}
			checkDescribed(t, "data", tt.Data)
			if _, err := json.Marshal(tt); err != nil {
				t.Errorf("the type does not marshal: %v", err)
			}

			var ex map[string]any
			dec := json.NewDecoder(bytes.NewReader(tt.Example))
			dec.UseNumber()
			if err := dec.Decode(&ex); err != nil || ex == nil {
				t.Fatalf("example %s does not decode to an object: %v", tt.Example, err)
			}
			for _, r := range tt.Data.Required {
				if _, ok := ex[r]; !ok {
					t.Errorf("example lacks required %q", r)
				}
			}
			for k := range ex {
				if tt.Data.Properties[k] == nil && !tt.Data.AdditionalProperties {
					t.Errorf("example has %q, which the schema does not allow", k)
				}
				if k == "signature" {
					t.Error("example holds a signature")
				}
			}
			if p := tt.Data.Properties["event"]; p != nil && len(p.Enum) > 0 && !slices.Contains(p.Enum, ex["event"]) {
				t.Errorf("example event %v is not one of %v", ex["event"], p.Enum)
			}
			if p := tt.Data.Properties["triggered_at"]; p != nil {
				if _, err := timeOf(ex["triggered_at"]); err != nil {
					t.Errorf("example triggered_at: %v", err)
				}
			}
		})
	}
}

func TestEveryLeverEventHasItsType(t *testing.T) {
	t.Parallel()
	for _, e := range sandbox.Events {
		n := 0
		for _, tt := range Types() {
			if slices.Equal(tt.LeverEvents, []string{e}) && tt.Delivery == DeliveryWebhook {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s feeds %d webhook-only types, want 1", e, n)
		}
	}
}

func TestTypesIsAFreshCopy(t *testing.T) {
	t.Parallel()
	a := Types()
	a[0].Title = "changed"
	for i := range a {
		for j := range a[i].LeverEvents {
			a[i].LeverEvents[j] = "changed"
		}
		a[i].Data.Description = "changed"
	}
	for _, b := range Types() {
		if b.Title == "changed" || slices.Contains(b.LeverEvents, "changed") || b.Data.Description == "changed" {
			t.Fatalf("Types shares state between calls: %+v", b)
		}
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	if tt, ok := Lookup("lever.candidate_stage_changed"); !ok || tt.Title != "Candidate Stage Changed" || tt.Delivery != DeliveryWebhook {
		t.Errorf("Lookup = %+v, %v", tt, ok)
	}
	if _, ok := Lookup("lever.candidate_stage_change"); ok {
		t.Error("Lookup found a misspelt type")
	}
}

// TestExamplesFromFixtures: the examples of the types the fixtures cover
// are what TriggerData makes of the fixtures.
func TestExamplesFromFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct{ typ, file string }{
		{"lever.application_created", "webhook_application_created.json"},
		{"lever.candidate_stage_changed", "webhook_candidate_stage_change.json"},
		{"lever.candidate_updated", "webhook_candidate_stage_change.json"},
		{"lever.contact_updated", "webhook_contact_updated.json"},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			typ, ok := Lookup(tt.typ)
			if !ok {
				t.Fatal("no such type")
			}
			if want := TriggerData(parseFixture(t, tt.file)); !bytes.Equal(typ.Example, want) {
				t.Errorf("example\n%s\nfixture\n%s", typ.Example, want)
			}
		})
	}
}
