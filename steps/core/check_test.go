package core_test

import (
	"reflect"
	"testing"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/core"
)

// TestCheck runs the save-time checks (Spec.Check) on literal inputs. When
// the input has no reference, running the step must fail with its first
// problem, word for word: each rule lives in one place.
func TestCheck(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	p := func(path, msg string) steps.Problem { return steps.Problem{Path: path, Message: msg} }
	const (
		noCases   = `must hold at least one case such as {"name": "offer", "if": "<<steps.opp.stage == 'offer'>>"}`
		emptyName = `must not be empty; name the case after what it means, such as "offer"`
		dflt      = `"default" is the branch taken when no case is true; give this case another name`
		both      = `set either for or until, not both; remove one of them`
		neither   = `set for (a duration such as "10m") or until (an RFC 3339 time such as "2025-01-31T09:00:00Z")`
		badFor    = `must be a duration: a number with a unit such as "30s", "5m" or "1h30m", got string "2 days"`
		badUntil  = `must be an RFC 3339 time such as "2025-01-31T09:00:00Z" or "2025-01-31T09:00:00+01:00", got string "tomorrow"`
		relURL    = `must be an absolute http or https URL such as "https://api.example.com/v1/items", got string "api.example.com/x"; start it with https://`
	)
	tests := []struct {
		name  string
		typ   string
		input string
		want  []steps.Problem
	}{
		{"switch: fine", "switch", `{"cases": [{"name": "a", "if": true}, {"name": "b", "if": "<<x>>"}]}`, nil},
		{"switch: no cases", "switch", `{"cases": []}`, []steps.Problem{p("cases", noCases)}},
		{"switch: cases a reference", "switch", `{"cases": "<<steps.build.cases>>"}`, nil},
		{"switch: cases missing is the schema's", "switch", `{}`, nil},
		{"switch: cases not a list is the schema's", "switch", `{"cases": 3}`, nil},
		{"switch: every bad name", "switch", `{"cases": [{"name": "", "if": true}, {"name": "default", "if": true}, {"name": "a", "if": true}, {"name": "a", "if": false}]}`,
			[]steps.Problem{p("cases[0].name", emptyName), p("cases[1].name", dflt), p("cases[3].name", `"a" is already the name of cases[2]; case names must be unique`)}},
		{"switch: reference names are skipped", "switch", `{"cases": [{"name": "<<vars.a>>", "if": true}, {"name": "<<vars.a>>", "if": true}]}`, nil},
		{"switch: escaped names are literal", "switch", `{"cases": [{"name": "\\<<a", "if": true}, {"name": "\\<<a", "if": true}]}`,
			[]steps.Problem{p("cases[1].name", `"\\<<a" is already the name of cases[0]; case names must be unique`)}},
		{"switch: a name that is not text is the schema's", "switch", `{"cases": [{"name": 1, "if": true}, "junk"]}`, nil},

		{"delay: for", "delay", `{"for": "10m"}`, nil},
		{"delay: until", "delay", `{"until": "2025-01-31T09:00:00Z"}`, nil},
		{"delay: both", "delay", `{"for": "1h", "until": "2025-01-31T09:00:00Z"}`, []steps.Problem{p("", both)}},
		{"delay: neither", "delay", `{}`, []steps.Problem{p("", neither)}},
		{"delay: both null", "delay", `{"for": null, "until": null}`, []steps.Problem{p("", neither)}},
		{"delay: both, one a reference (it may be null)", "delay", `{"for": "<<vars.wait>>", "until": "2025-01-31T09:00:00Z"}`, nil},
		{"delay: bad for", "delay", `{"for": "2 days"}`, []steps.Problem{p("for", badFor)}},
		{"delay: negative for", "delay", `{"for": "-5m"}`, []steps.Problem{p("for", `must not be negative, got -5m0s; write a wait such as "10m"`)}},
		{"delay: zero for continues at once", "delay", `{"for": "0s"}`, nil},
		{"delay: bad until", "delay", `{"until": "tomorrow"}`, []steps.Problem{p("until", badUntil)}},
		{"delay: both and both bad", "delay", `{"for": "2 days", "until": "tomorrow"}`, []steps.Problem{p("", both), p("for", badFor), p("until", badUntil)}},
		{"delay: reference for", "delay", `{"for": "<<vars.wait>>h"}`, nil},
		{"delay: for not text is the schema's", "delay", `{"for": 10}`, nil},

		{"http: fine", "http.request", `{"url": "https://example.com/x"}`, nil},
		{"http: relative", "http.request", `{"url": "api.example.com/x"}`, []steps.Problem{p("url", relURL)}},
		{"http: scheme", "http.request", `{"url": "ftp://example.com/x"}`, []steps.Problem{p("url", `must be an absolute http or https URL such as "https://api.example.com/v1/items", got string "ftp://example.com/x"; "ftp" URLs are not supported`)}},
		{"http: reference in the url", "http.request", `{"url": "https://<<vars.host>>/x"}`, nil},
		{"http: whole reference", "http.request", `{"url": "<<steps.a.next>>"}`, nil},
		{"http: the method enum is the schema's", "http.request", `{"method": "get", "url": "https://example.com"}`, nil},
		{"http: url missing is the schema's", "http.request", `{}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec, ok := reg.Lookup(tt.typ)
			if !ok || spec.Check == nil {
				t.Fatalf("%s has no Check", tt.typ)
			}
			in := input(t, tt.input)
			got := spec.Check(in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Check = %#v\nwant %#v", got, tt.want)
			}
			if len(tt.want) == 0 || steps.HasReference(in) {
				return
			}
			_, err := run(t, reg, tt.typ, in)
			if err == nil || err.Error() != tt.want[0].String() {
				t.Fatalf("run error %v\nwant the first problem %q", err, tt.want[0].String())
			}
			if !steps.IsPermanent(err) {
				t.Fatalf("run error %v is not permanent", err)
			}
		})
	}
}
