package templating

import (
	"errors"
	"reflect"
	"testing"
)

// inEnv is the env of the "in" tests.
func inEnv() map[string]any {
	return map[string]any{
		"steps": map[string]any{
			"opp": map[string]any{
				"headline": "Senior Engineer",
				"location": "London",
				"tags":     []any{"senior", "backend", 3.0, nil},
				"stage":    map[string]any{"id": "s1", "text": "New"},
				"score":    4.5,
				"ok":       true,
				"archived": nil,
				"empty":    "",
			},
		},
		"trigger": map[string]any{"name": "Ada", "count": 3.0},
		"vars": map[string]any{
			"words":   []string{"alpha", "beta"},
			"ints":    []int{1, 2, 3},
			"counts":  map[string]int{"x": 1},
			"title":   title("Staff Engineer"),
			"point":   point{X: 1},
			"nothing": (*point)(nil),
		},
	}
}

type title string

type point struct{ X int }

func TestIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		expr string
		want any
	}{
		// Strings: substring containment.
		{"string substring", "<<'Senior' in steps.opp.headline>>", true},
		{"string not a substring", "<<'Junior' in steps.opp.headline>>", false},
		{"string whole", "<<'Senior Engineer' in steps.opp.headline>>", true},
		{"string is case sensitive", "<<'senior' in steps.opp.headline>>", false},
		{"string empty needle", "<<'' in steps.opp.headline>>", true},
		{"string empty haystack", "<<'a' in steps.opp.empty>>", false},
		{"string literal haystack", "<<'gin' in 'Engineer'>>", true},
		{"string needle from a reference", "<<trigger.name in 'Ada Lovelace'>>", true},
		{"string both references", "<<steps.opp.location in steps.opp.headline>>", false},
		{"string named type", "<<'Staff' in vars.title>>", true},
		{"string unicode", "<<'né' in 'Mené'>>", true},

		// Lists: membership, with expr's equality.
		{"list member", "<<'backend' in steps.opp.tags>>", true},
		{"list not a member", "<<'frontend' in steps.opp.tags>>", false},
		{"list no substring match", "<<'back' in steps.opp.tags>>", false},
		{"list number member", "<<3 in steps.opp.tags>>", true},
		{"list float member", "<<3.0 in steps.opp.tags>>", true},
		{"list null member", "<<nil in steps.opp.tags>>", true},
		{"list typed strings", "<<'beta' in vars.words>>", true},
		{"list typed ints", "<<2 in vars.ints>>", true},
		{"list typed ints miss", "<<5 in vars.ints>>", false},
		{"list literal", "<<steps.opp.stage.id in ['s1', 's2']>>", true},
		{"list literal miss", "<<trigger.name in ['Grace']>>", false},
		{"list literal ints", "<<trigger.count in [1, 2, 3]>>", true},
		{"list literal of strings, number needle", "<<trigger.count in ['a', 'b']>>", false},
		{"list literal of references", "<<'New' in [steps.opp.stage.id, steps.opp.stage.text]>>", true},
		{"range", "<<2 in 1..3>>", true},
		{"range miss", "<<5 in 1..3>>", false},

		// Objects: key presence.
		{"object key", "<<'text' in steps.opp.stage>>", true},
		{"object missing key", "<<'nope' in steps.opp.stage>>", false},
		{"object value is not a key", "<<'s1' in steps.opp.stage>>", false},
		{"object null value is present", "<<'archived' in steps.opp>>", true},
		{"object typed map", "<<'x' in vars.counts>>", true},
		{"object literal", "<<'a' in {a: 1}>>", true},
		{"object root", "<<'opp' in steps>>", true},
		{"struct field", "<<'X' in vars.point>>", true},
		{"struct missing field", "<<'Y' in vars.point>>", false},
		{"nil pointer", "<<'X' in vars.nothing>>", false},

		// not in.
		{"not in string", "<<'Junior' not in steps.opp.headline>>", true},
		{"not in string found", "<<'Senior' not in steps.opp.headline>>", false},
		{"not in list", "<<'frontend' not in steps.opp.tags>>", true},
		{"not in list found", "<<'senior' not in steps.opp.tags>>", false},
		{"not in object", "<<'nope' not in steps.opp.stage>>", true},
		{"not in literal list", "<<'x' not in ['a', 'b']>>", true},
		{"not (in)", "<<not ('Senior' in steps.opp.headline)>>", false},

		// Inside larger expressions.
		{"and", "<<'Senior' in steps.opp.headline && 'backend' in steps.opp.tags>>", true},
		{"and false", "<<'Senior' in steps.opp.headline && 'frontend' in steps.opp.tags>>", false},
		{"or", "<<'Junior' in steps.opp.headline || 'id' in steps.opp.stage>>", true},
		{"and not in", "<<'Senior' in steps.opp.headline and 'Junior' not in steps.opp.headline>>", true},
		{"ternary", "<<'Senior' in steps.opp.headline ? 'senior' : 'other'>>", "senior"},
		{"in text", "senior: <<'Senior' in steps.opp.headline>>, lead: <<'Lead' in steps.opp.headline>>", "senior: true, lead: false"},
		{"in predicate", "<<filter(steps.opp.tags, # in ['senior', 'backend'])>>", []any{"senior", "backend"}},
		{"in predicate over a range", "<<filter([0, 2, 5], # in 1..3)>>", []any{2}},
		{"in predicate over a string", "<<filter(['Sen', 'Jun', 'Eng'], # in steps.opp.headline)>>", []any{"Sen", "Eng"}},
		{"needle is an expression", "<<upper('e') + 'ng' in steps.opp.headline>>", true},
		{"haystack is an expression", "<<'ENG' in upper(steps.opp.headline)>>", true},
		{"let", "<<let h = steps.opp.headline; 'Senior' in h and 'Engineer' in h>>", true},
		{"coalesced haystack", "<<'x' in (steps.opp.nope ?? 'xyz')>>", true},
		{"optional haystack", "<<'Senior' in steps.opp?.headline>>", true},
		{"in a call", "<<string('Senior' in steps.opp.headline)>>", "true"},
	}
	env := inEnv()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := Compile(tt.expr)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, err := tmpl.Render(env)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Render = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestInErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		expr string
		want string // RenderError.Error()
	}{
		{"null haystack", "<<'x' in steps.opp.archived>>",
			`input: <<'x' in steps.opp.archived>>: cannot use "in" on steps.opp.archived: it is null, not a string, a list or an object`},
		{"null literal haystack", "<<'x' in nil>>",
			`input: <<'x' in nil>>: cannot use "in" on nil: it is null, not a string, a list or an object`},
		{"null haystack not in", "<<'x' not in steps.opp.archived>>",
			`input: <<'x' not in steps.opp.archived>>: cannot use "in" on steps.opp.archived: it is null, not a string, a list or an object`},
		{"optional haystack missing", "<<'x' in steps.opp?.nope>>",
			`input: <<'x' in steps.opp?.nope>>: cannot use "in" on steps.opp?.nope: it is null, not a string, a list or an object`},
		{"number haystack", "<<'x' in steps.opp.score>>",
			`input: <<'x' in steps.opp.score>>: cannot use "in" on steps.opp.score: it is a number, not a string, a list or an object`},
		{"bool haystack", "<<'x' in steps.opp.ok>>",
			`input: <<'x' in steps.opp.ok>>: cannot use "in" on steps.opp.ok: it is a boolean, not a string, a list or an object`},
		{"number needle in string", "<<trigger.count in steps.opp.headline>>",
			`input: <<trigger.count in steps.opp.headline>>: cannot test trigger.count in steps.opp.headline: steps.opp.headline is a string, so the left side must be a string, not a number`},
		{"null needle in string", "<<steps.opp.archived in steps.opp.headline>>",
			`input: <<steps.opp.archived in steps.opp.headline>>: cannot test steps.opp.archived in steps.opp.headline: steps.opp.headline is a string, so the left side must be a string, not null`},
		{"list needle in string", "<<steps.opp.tags in 'abc'>>",
			`input: <<steps.opp.tags in 'abc'>>: cannot test steps.opp.tags in "abc": "abc" is a string, so the left side must be a string, not a list`},
		{"number needle in named string", "<<1 in vars.title>>",
			`input: <<1 in vars.title>>: cannot test 1 in vars.title: vars.title is a string, so the left side must be a string, not a number`},
		{"number needle in literal object", "<<1 in {a: 1}>>",
			`input: <<1 in {a: 1}>>: cannot test 1 in {a: 1}: {a: 1} is an object, so the left side must be a string, not a number`},
		{"number needle in object", "<<1 in steps.opp.stage>>",
			`input: <<1 in steps.opp.stage>>: cannot test 1 in steps.opp.stage: steps.opp.stage is an object, so the left side must be a string, not a number`},
		{"missing field in haystack", "<<'x' in steps.opp.headlin>>",
			`input: <<'x' in steps.opp.headlin>>: no field "headlin" in steps.opp; did you mean "headline"?`},
		{"missing field in needle", "<<steps.opp.nam in steps.opp.headline>>",
			`input: <<steps.opp.nam in steps.opp.headline>>: no field "nam" in steps.opp`},
		{"error in the right operand of and", "<<'Senior' in steps.opp.headline && 'x' in steps.opp.score>>",
			`input: <<'Senior' in steps.opp.headline && 'x' in steps.opp.score>>: cannot use "in" on steps.opp.score: it is a number, not a string, a list or an object`},
	}
	env := inEnv()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := Compile(tt.expr)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, err := tmpl.Render(env)
			if err == nil {
				t.Fatalf("Render = %#v, want error %s", got, tt.want)
			}
			var re *RenderError
			if !errors.As(err, &re) {
				t.Fatalf("Render error is %T, want *RenderError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("Render error\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
}

// TestInDesignExample renders the condition of DESIGN.md's example
// workflow.
func TestInDesignExample(t *testing.T) {
	t.Parallel()
	tmpl, err := Compile(map[string]any{"if": "<<'Senior' in steps.opp.headline>>"})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]any{"steps": map[string]any{"opp": map[string]any{"headline": "Senior Engineer"}}}
	got, err := tmpl.Render(env)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"if": true}; !reflect.DeepEqual(got, want) {
		t.Errorf("Render = %#v, want %#v", got, want)
	}
	if problems := Check(tmpl, shapes()); problems != nil {
		t.Errorf("Check = %v, want nothing", problems)
	}
}

func TestCheckIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		expr string
		want []string // Problem messages
	}{
		{"string", "<<'x' in steps.opp.headline>>", nil},
		{"not in string", "<<'x' not in steps.opp.headline>>", nil},
		{"string needle reference", "<<steps.opp.id in steps.opp.headline>>", nil},
		{"list", "<<'x' in steps.opp.tags>>", nil},
		{"number in list", "<<1 in steps.opp.tags>>", nil},
		{"object", "<<'id' in steps.opp.stage>>", nil},
		{"any", "<<1 in steps.any.x>>", nil},
		{"unknown needle in string", "<<trigger.data in steps.opp.headline>>", nil},
		{"literal list", "<<steps.opp.id in ['a', 'b']>>", nil},
		{"larger expression", "<<'a' in steps.opp.headline && 'b' in steps.opp.tags>>", nil},
		{"number haystack", "<<'x' in steps.opp.score>>",
			[]string{`<<'x' in steps.opp.score>>: cannot use "in" on steps.opp.score: it is a number, not a string, a list or an object`}},
		{"null haystack", "<<'x' not in steps.opp.archived>>",
			[]string{`<<'x' not in steps.opp.archived>>: cannot use "in" on steps.opp.archived: it is null, not a string, a list or an object`}},
		{"number needle in string", "<<1 in steps.opp.headline>>",
			[]string{`<<1 in steps.opp.headline>>: cannot test 1 in steps.opp.headline: steps.opp.headline is a string, so the left side must be a string, not a number`}},
		{"list needle in string", "<<steps.opp.tags in steps.opp.headline>>",
			[]string{`<<steps.opp.tags in steps.opp.headline>>: cannot test steps.opp.tags in steps.opp.headline: steps.opp.headline is a string, so the left side must be a string, not a list`}},
		{"number needle in object", "<<steps.opp.score in steps.opp.stage>>",
			[]string{`<<steps.opp.score in steps.opp.stage>>: cannot test steps.opp.score in steps.opp.stage: steps.opp.stage is an object, so the left side must be a string, not a number`}},
		{"sides are still checked", "<<steps.opp.nam in steps.opp.headlin>>",
			[]string{`<<steps.opp.nam in steps.opp.headlin>>: no field "nam" in steps.opp`,
				`<<steps.opp.nam in steps.opp.headlin>>: no field "headlin" in steps.opp; did you mean "headline"?`}},
		{"result is a boolean", "<<('x' in steps.opp.headline).y>>",
			[]string{`<<('x' in steps.opp.headline).y>>: cannot read field "y": "x" in steps.opp.headline is a boolean, not an object`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, _ := Compile(tt.expr)
			var got []string
			for _, p := range Check(tmpl, shapes()) {
				got = append(got, p.Message)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
