package templating

import (
	"encoding/json"
	"errors"
	"testing"
)

var fuzzSeeds = []string{
	"",
	"plain",
	"<<steps.opp.id>>",
	"Hello <<trigger.name>>!",
	`\<<x>> <<trigger.count>>`,
	"<<'>>' + trigger.name>>",
	"<<\"a\\\">>\" + 1>>",
	"<<`>>`>>",
	"<<",
	"<<>>",
	"<< 1 + >>",
	">> <<",
	"<<steps.opp?.x ?? steps.nope.y>>",
	"<<filter(steps.opp.tags, # != 'a')>>",
	"<<let x = 1; x + item>>",
	"<<map(1..1000000, #)>>",
	"<<steps.opp.tags[-9]>>",
	"<<steps['opp']['tags'][0]>>",
	"<<[steps.nope?.x, 1]>>",
	"<<trigger.count / 0>>",
	"<<{'a': trigger}>> <<steps>>",
	"<<now().Year()>>",
	"<<\u00e9t\u00e9>>",
	"a\n<<b.\n>>",
	"<<'a' in trigger.name && 'b' not in steps.opp>>",
	"<<trigger.a in [1, 'x'] || 1 in {a: 1} || 2 in 1..3>>",
}

// FuzzParse: compiling any string never panics, and a failure is a
// *SyntaxError whose offset lies in the string.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tmpl, err := CompileString(s)
		if tmpl == nil {
			t.Fatal("nil Template")
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
			if se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("offset %d outside %q", se.Offset, s)
			}
			_ = se.Error()
		}
		_ = tmpl.Refs()
		_ = Check(tmpl, shapes())
	})
}

// FuzzRender: rendering any string against any JSON env never panics, and
// errors are *RenderError.
func FuzzRender(f *testing.F) {
	env, _ := json.Marshal(setup(f))
	for _, s := range fuzzSeeds {
		f.Add(s, string(env))
	}
	f.Add("<<trigger.a.b>>", `{"trigger": {"a": [1, null, "x"]}}`)
	f.Add("<<steps.x>> <<steps.x.y>>", `{"steps": null}`)
	f.Fuzz(func(t *testing.T, s, envJSON string) {
		var env map[string]any
		if err := json.Unmarshal([]byte(envJSON), &env); err != nil {
			return
		}
		tmpl, err := CompileString(s)
		if err != nil {
			return
		}
		if _, err := tmpl.Render(env); err != nil {
			var re *RenderError
			if !errors.As(err, &re) {
				t.Fatalf("error %T is not a *RenderError", err)
			}
		}
	})
}
