package templating

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// setup returns the env of a typical run: a trigger, two upstream steps,
// run and vars.
func setup(t testing.TB) map[string]any {
	t.Helper()
	return map[string]any{
		"trigger": map[string]any{
			"opportunityId": "opp-1",
			"name":          "Ada",
			"count":         3.0,
			"ratio":         2.5,
			"big":           1e21,
			"tiny":          1e-7,
			"ok":            true,
			"nothing":       nil,
			"num":           json.Number("12.50"),
			"quote":         `say "hi" <b>`,
		},
		"steps": map[string]any{
			"opp": map[string]any{
				"id":       "opp-1",
				"contact":  "c-1",
				"headline": "Senior Engineer",
				"tags":     []any{"a", "b", "c"},
				"stage":    map[string]any{"id": "s1", "text": "New"},
				"emails":   []any{"ada@example.com"},
				"archived": nil,
				"owner":    map[string]any{"name": "Grace"},
			},
			"list": map[string]any{"items": []any{map[string]any{"n": 1.0}, map[string]any{"n": 2.0}}},
		},
		"run":  map[string]any{"id": "run-1", "workflow_id": "wf-1", "started_at": "2026-01-01T00:00:00Z"},
		"vars": map[string]any{"greeting": "Hello"},
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	env := setup(t)
	tests := []struct {
		name  string
		input any
		want  any
	}{
		{"plain string", "hello", "hello"},
		{"number literal", 3.0, 3.0},
		{"json number literal", json.Number("1.0"), json.Number("1.0")},
		{"bool literal", true, true},
		{"null literal", nil, nil},
		{"whole string", "<<steps.opp.id>>", "opp-1"},
		{"whole with spaces", "<<  steps.opp.id \t>>", "opp-1"},
		{"whole keeps list", "<<steps.opp.tags>>", []any{"a", "b", "c"}},
		{"whole keeps object", "<<steps.opp.stage>>", map[string]any{"id": "s1", "text": "New"}},
		{"whole keeps number", "<<trigger.count>>", 3.0},
		{"whole keeps bool", "<<trigger.ok>>", true},
		{"whole keeps null", "<<trigger.nothing>>", nil},
		{"whole index", "<<steps.opp.tags[1]>>", "b"},
		{"whole negative index", "<<steps.opp.tags[-1]>>", "c"},
		{"whole bracket key", `<<steps["opp"]["id"]>>`, "opp-1"},
		{"whole nested list item", "<<steps.list.items[1].n>>", 2.0},
		{"whole root", "<<vars>>", map[string]any{"greeting": "Hello"}},
		{"expression bool", "<<len(steps.opp.tags) > 2>>", true},
		{"expression int", "<<1 + 2>>", 3},
		{"expression contains", "<<steps.opp.headline contains 'Senior'>>", true},
		{"expression filter", "<<filter(steps.list.items, .n > 1)>>", []any{map[string]any{"n": 2.0}}},
		{"expression map", "<<map(steps.opp.tags, upper(#))>>", []any{"A", "B", "C"}},
		{"expression let", "<<let o = steps.opp; o.stage.text + '!'>>", "New!"},
		{"expression ternary", "<<trigger.ok ? 'yes' : 'no'>>", "yes"},
		{"optional missing field", "<<steps.opp?.nope>>", nil},
		{"optional missing step", "<<steps.nope?.id>>", nil},
		{"optional null", "<<steps.opp.archived?.at>>", nil},
		{"optional missing root", "<<item?.name>>", nil},
		{"optional in expression", "<<[steps.nope?.id, 1]>>", []any{nil, 1}},
		{"coalesce missing field", "<<steps.opp.nope ?? 'none'>>", "none"},
		{"coalesce missing step", "<<steps.nope.id ?? 'none'>>", "none"},
		{"coalesce out of range", "<<steps.opp.tags[9] ?? 'none'>>", "none"},
		{"coalesce missing root", "<<item ?? 0>>", 0},
		{"coalesce present", "<<steps.opp.id ?? 'none'>>", "opp-1"},
		{"interpolation", "Hello <<trigger.name>>!", "Hello Ada!"},
		{"interpolation several", "<<trigger.name>>/<<steps.opp.id>>", "Ada/opp-1"},
		{"interpolation integer", "n=<<trigger.count>>", "n=3"},
		{"interpolation fraction", "r=<<trigger.ratio>>", "r=2.5"},
		{"interpolation big", "<<trigger.big>>.", "1e+21."},
		{"interpolation tiny", "<<trigger.tiny>>.", "1e-7."},
		{"interpolation int", "<<1 + 2>>!", "3!"},
		{"interpolation json number", "<<trigger.num>>!", "12.50!"},
		{"interpolation bool", "ok=<<trigger.ok>>", "ok=true"},
		{"interpolation null", "x=<<trigger.nothing>>", "x=null"},
		{"interpolation list", "tags: <<steps.opp.tags>>", `tags: ["a","b","c"]`},
		{"interpolation object", "stage: <<steps.opp.stage>>", `stage: {"id":"s1","text":"New"}`},
		{"interpolation html not escaped", "<<trigger.quote>>.", `say "hi" <b>.`},
		{"interpolation nested quotes in object", "<<{'q': trigger.quote}>>.", `{"q":"say \"hi\" <b>"}.`},
		{"space outside is text", " <<trigger.count>>", " 3"},
		{"escape", `\<<not a ref>>`, "<<not a ref>>"},
		{"escape then ref", `\<<x>> <<trigger.name>>`, "<<x>> Ada"},
		{"lone closer", "a >> b", "a >> b"},
		{"closer in double quotes", `<<"a>>b" + trigger.name>>`, "a>>bAda"},
		{"closer in single quotes", `<<'>>' + trigger.name>>`, ">>Ada"},
		{"closer in backticks", "<<`>>` + trigger.name>>", ">>Ada"},
		{"escaped quote in literal", `<<'it\'s >>' + trigger.name>>`, "it's >>Ada"},
		{"object", map[string]any{"id": "<<steps.opp.id>>", "n": 1.0, "s": "x"},
			map[string]any{"id": "opp-1", "n": 1.0, "s": "x"}},
		{"keys not templated", map[string]any{"<<trigger.name>>": "<<trigger.name>>"},
			map[string]any{"<<trigger.name>>": "Ada"}},
		{"list", []any{"<<trigger.name>>", 1.0, nil, "x <<trigger.count>>"}, []any{"Ada", 1.0, nil, "x 3"}},
		{"nested", map[string]any{"a": map[string]any{"b": []any{map[string]any{"c": "<<steps.opp.tags>>"}}}, "static": []any{1.0, map[string]any{"k": "v"}}},
			map[string]any{"a": map[string]any{"b": []any{map[string]any{"c": []any{"a", "b", "c"}}}}, "static": []any{1.0, map[string]any{"k": "v"}}}},
		{"null inside object", map[string]any{"x": nil, "y": "<<trigger.nothing>>"}, map[string]any{"x": nil, "y": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := Compile(tt.input)
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

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	env := setup(t)
	tests := []struct {
		name  string
		input any
		want  string // RenderError.Error()
	}{
		{"did you mean", "<<steps.opp.contactt>>",
			`input: <<steps.opp.contactt>>: no field "contactt" in steps.opp; did you mean "contact"?`},
		{"did you mean in text", map[string]any{"note": "Hi <<steps.opp.contactt>>"},
			`input note: <<steps.opp.contactt>>: no field "contactt" in steps.opp; did you mean "contact"?`},
		{"did you mean in expression", map[string]any{"n": []any{"<<len(steps.opp.tagz)>>"}},
			`input n[0]: <<len(steps.opp.tagz)>>: no field "tagz" in steps.opp; did you mean "tags" or "stage"?`},
		{"did you mean by prefix", "<<steps.opp.email>>",
			`input: <<steps.opp.email>>: no field "email" in steps.opp; did you mean "emails"?`},
		{"no suggestion", "<<steps.opp.zzz>>",
			`input: <<steps.opp.zzz>>: no field "zzz" in steps.opp`},
		{"missing step", "<<steps.foo.id>>",
			`input: <<steps.foo.id>>: no step "foo" has output here (known: list, opp)`},
		{"missing step with suggestion", "<<steps.op.id>>",
			`input: <<steps.op.id>>: no step "op" has output here; did you mean "opp"? (known: list, opp)`},
		{"missing step in expression", "<<upper(steps.foo.id)>>",
			`input: <<upper(steps.foo.id)>>: no step "foo" has output here (known: list, opp)`},
		{"unknown root", "<<item.name>>",
			`input: <<item.name>>: unknown root "item" (known: run, steps, trigger, vars)`},
		{"unknown root with suggestion", "<<triger.name>>",
			`input: <<triger.name>>: unknown root "triger"; did you mean "trigger"? (known: run, steps, trigger, vars)`},
		{"unknown root in expression", "<<item + 1>>",
			`input: <<item + 1>>: unknown root "item" (known: run, steps, trigger, vars)`},
		{"index out of range", "<<steps.opp.tags[3]>>",
			`input: <<steps.opp.tags[3]>>: index 3 out of range: steps.opp.tags has length 3`},
		{"negative index out of range", "<<steps.opp.tags[-4]>>",
			`input: <<steps.opp.tags[-4]>>: index -4 out of range: steps.opp.tags has length 3`},
		{"index out of range in expression", "<<steps.opp.tags[3] + 'x'>>",
			`input: <<steps.opp.tags[3] + 'x'>>: index 3 out of range: steps.opp.tags has length 3`},
		{"field of null", "<<steps.opp.archived.at>>",
			`input: <<steps.opp.archived.at>>: cannot read field "at": steps.opp.archived is null`},
		{"field of string", "<<steps.opp.id.x>>",
			`input: <<steps.opp.id.x>>: cannot read field "x": steps.opp.id is a string, not an object`},
		{"field of list", "<<steps.opp.tags.x>>",
			`input: <<steps.opp.tags.x>>: cannot read field "x": steps.opp.tags is a list, not an object`},
		{"index of object", "<<steps.opp.stage[0]>>",
			`input: <<steps.opp.stage[0]>>: cannot read [0]: steps.opp.stage is an object, not a list`},
		{"after optional", "<<steps.opp?.nope.x>>",
			`input: <<steps.opp?.nope.x>>: cannot read field "x": steps.opp?.nope is null`},
		{"coalesce right side is strict", "<<steps.opp.nope ?? steps.opp.nada>>",
			`input: <<steps.opp.nope ?? steps.opp.nada>>: no field "nada" in steps.opp`},
		{"predicate field", "<<map(steps.list.items, .nn)>>",
			`input: <<map(steps.list.items, .nn)>>: no field "nn" in #; did you mean "n"?`},
		{"expr error", "<<steps.opp.tags + 1>>",
			`input: <<steps.opp.tags + 1>>: invalid operation: []interface {} + int`},
		{"expr error in call", "<<upper(trigger.count)>>",
			`input: <<upper(trigger.count)>>: interface conversion: interface {} is float64, not string`},
		{"first error wins", map[string]any{"a": "<<steps.x.y>>", "b": "<<steps.opp.zzz>>"},
			`input a: <<steps.x.y>>: no step "x" has output here (known: list, opp)`},
		{"path of key that is not an identifier", map[string]any{"headers": map[string]any{"X Trace": []any{"<<run.idd>>"}}},
			`input headers["X Trace"][0]: <<run.idd>>: no field "idd" in run; did you mean "id"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := Compile(tt.input)
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
			if got != nil {
				t.Errorf("Render value = %#v, want nil with an error", got)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		input  any
		path   string
		expr   string
		offset int
		reason string
		text   string // Error(), when set
	}{
		{name: "unclosed", input: "Hello <<trigger.name", expr: "trigger.name", offset: 6,
			reason: `unclosed "<<": no matching ">>"`,
			text:   "input: <<trigger.name>>: unclosed \"<<\": no matching \">>\" (1:7)\n | Hello <<trigger.name\n | ......^"},
		{name: "unclosed after ref", input: map[string]any{"a": "<<x>> and <<y"}, path: "a", expr: "y", offset: 10,
			reason: `unclosed "<<": no matching ">>"`},
		{name: "closer inside string literal", input: "<<'>>", expr: "'>>", offset: 0,
			reason: `unclosed "<<": no matching ">>"`},
		{name: "empty", input: "a <<  >>", offset: 2, reason: "empty reference"},
		{name: "bad expression", input: map[string]any{"t": []any{"x", "Hi <<trigger.>>"}}, path: "t[1]", expr: "trigger.", offset: 12,
			reason: "unexpected end of expression",
			text:   "input t[1]: <<trigger.>>: unexpected end of expression (1:13)\n | Hi <<trigger.>>\n | ............^"},
		{name: "bad token", input: "<< 1 + * 2 >>", expr: "1 + * 2", offset: 7, reason: "unexpected token Operator(\"*\")"},
		{name: "unknown builtin arity", input: "<<len()>>", expr: "len()", offset: 2, reason: "invalid number of arguments (expected 1, got 0)"},
		{name: "multiline offset", input: "line one\n<<a.>>", expr: "a.", offset: 12, reason: "unexpected end of expression",
			text: "input: <<a.>>: unexpected end of expression (2:4)\n | <<a.>>\n | ...^"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := Compile(tt.input)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile error = %v (%T), want *SyntaxError", err, err)
			}
			if se.Path != tt.path || se.Expr != tt.expr || se.Offset != tt.offset || se.Reason != tt.reason {
				t.Errorf("SyntaxError = {Path:%q Expr:%q Offset:%d Reason:%q}, want {%q %q %d %q}",
					se.Path, se.Expr, se.Offset, se.Reason, tt.path, tt.expr, tt.offset, tt.reason)
			}
			if tt.text != "" && se.Error() != tt.text {
				t.Errorf("Error()\n got: %s\nwant: %s", se.Error(), tt.text)
			}
			if tmpl == nil {
				t.Fatal("Compile returned a nil Template with its error")
			}
			if _, err := tmpl.Render(setup(t)); err == nil || !strings.Contains(err.Error(), "syntax error: "+tt.reason) {
				t.Errorf("Render of a template with a syntax error = %v", err)
			}
		})
	}
}

func TestCompileJoinsErrors(t *testing.T) {
	t.Parallel()
	_, err := Compile(map[string]any{"a": "<<x.>>", "b": []any{"<<", "ok <<y>>"}})
	if err == nil {
		t.Fatal("Compile succeeded")
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Compile error %T does not join", err)
	}
	var paths []string
	for _, e := range joined.Unwrap() {
		var se *SyntaxError
		if !errors.As(e, &se) {
			t.Fatalf("joined error %T is not a *SyntaxError", e)
		}
		paths = append(paths, se.Path)
	}
	if got := strings.Join(paths, ","); got != "a,b[0]" {
		t.Errorf("paths = %s, want a,b[0]", got)
	}
}

func TestRefs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input any
		want  []Ref
	}{
		{"none", map[string]any{"a": "x", "b": 1.0}, []Ref{}},
		{"root", "<<trigger.opportunityId>>", []Ref{{Path: "", Expr: "trigger.opportunityId", Roots: []string{"trigger"}}}},
		{"paths", map[string]any{
			"opportunity_id": "<<steps.opp.id>>",
			"tags":           []any{"x", "<< steps.tag.name >>"},
			"a":              map[string]any{"b": []any{map[string]any{"c": "Hi <<trigger.name>> <<run.id>>"}}},
		}, []Ref{
			{Path: "a.b[0].c", Expr: "trigger.name", Roots: []string{"trigger"}},
			{Path: "a.b[0].c", Expr: "run.id", Roots: []string{"run"}},
			{Path: "opportunity_id", Expr: "steps.opp.id", Roots: []string{"steps"}, Steps: []string{"opp"}},
			{Path: "tags[1]", Expr: "steps.tag.name", Roots: []string{"steps"}, Steps: []string{"tag"}},
		}},
		{"steps forms", `<<steps.a.x + steps["b"].y + steps?.c + steps.a.z>>`,
			[]Ref{{Expr: `steps.a.x + steps["b"].y + steps?.c + steps.a.z`, Roots: []string{"steps"}, Steps: []string{"a", "b", "c"}}}},
		{"builtins and predicates are not roots", "<<map(filter(steps.opp.tags, # != vars.skip), #index) | len() + len(now().String())>>",
			[]Ref{{Expr: "map(filter(steps.opp.tags, # != vars.skip), #index) | len() + len(now().String())", Roots: []string{"steps", "vars"}, Steps: []string{"opp"}}}},
		{"let names are not roots", "<<let x = item.a; x + foo>>",
			[]Ref{{Expr: "let x = item.a; x + foo", Roots: []string{"foo", "item"}}}},
		{"predicate fields", "<<map(item.list, .name)>>", []Ref{{Expr: "map(item.list, .name)", Roots: []string{"item"}}}},
		{"constants", "<<1 + 2 == 3 && true>>", []Ref{{Expr: "1 + 2 == 3 && true"}}},
		{"index and user", "<<user.metadata[index]>>", []Ref{{Expr: "user.metadata[index]", Roots: []string{"index", "user"}}}},
		{"escaped is not a ref", `\<<trigger.x>> <<vars.y>>`, []Ref{{Expr: "vars.y", Roots: []string{"vars"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := Compile(tt.input)
			if err != nil {
				t.Fatal(err)
			}
			got := tmpl.Refs()
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Refs =\n%#v\nwant\n%#v", got, tt.want)
			}
			if tmpl.Static() != (len(tt.want) == 0) {
				t.Errorf("Static = %v with %d refs", tmpl.Static(), len(tt.want))
			}
		})
	}
}

func TestRenderReturnsFreshValues(t *testing.T) {
	t.Parallel()
	env := setup(t)
	input := map[string]any{
		"static": map[string]any{"list": []any{"a"}},
		"mixed":  map[string]any{"ref": "<<trigger.name>>", "list": []any{1.0}},
	}
	tmpl, err := Compile(input)
	if err != nil {
		t.Fatal(err)
	}
	input["static"].(map[string]any)["list"].([]any)[0] = "changed after compile"
	first, err := tmpl.Render(env)
	if err != nil {
		t.Fatal(err)
	}
	m := first.(map[string]any)
	m["static"].(map[string]any)["list"].([]any)[0] = "mutated"
	m["mixed"].(map[string]any)["list"].([]any)[0] = "mutated"
	m["static"].(map[string]any)["new"] = true
	second, err := tmpl.Render(env)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"static": map[string]any{"list": []any{"a"}},
		"mixed":  map[string]any{"ref": "Ada", "list": []any{1.0}},
	}
	if !reflect.DeepEqual(second, want) {
		t.Errorf("second Render = %#v, want %#v", second, want)
	}

	whole, err := CompileString("plain")
	if err != nil {
		t.Fatal(err)
	}
	if !whole.Static() {
		t.Error("plain string is not Static")
	}
}

func TestRenderConcurrently(t *testing.T) {
	t.Parallel()
	env := setup(t)
	tmpl, err := Compile(map[string]any{
		"id":     "<<steps.opp.id>>",
		"greet":  "Hello <<trigger.name>>, <<len(steps.opp.tags)>> tags",
		"senior": "<<steps.opp.headline contains 'Senior'>>",
		"list":   []any{"<<steps.opp.tags[0]>>", "<<steps.opp.nope ?? 'd'>>"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id": "opp-1", "greet": "Hello Ada, 3 tags", "senior": true, "list": []any{"a", "d"},
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				got, err := tmpl.Render(env)
				if err != nil {
					errs <- err
					return
				}
				if !reflect.DeepEqual(got, want) {
					errs <- fmt.Errorf("Render = %#v", got)
					return
				}
				got.(map[string]any)["list"].([]any)[0] = "mutated by a caller"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCacheIsBounded(t *testing.T) {
	t.Parallel()
	for i := 0; i < cacheLimit+100; i++ {
		lookup(fmt.Sprintf("vars.cache_test_%d", i))
	}
	if n := cache.n.Load(); n > cacheLimit {
		t.Errorf("cache holds %d entries, limit %d", n, cacheLimit)
	}
	a, b := lookup("steps.cache_test.same"), lookup("steps.cache_test.same")
	if a != b {
		t.Error("the same expression compiled twice")
	}
}

func TestRenderOtherGoValues(t *testing.T) {
	t.Parallel()
	type owner struct{ Name string }
	env := map[string]any{
		"vars": map[string]any{
			"typed":  map[string]string{"a": "b"},
			"ints":   []int{1, 2},
			"struct": owner{Name: "Grace"},
			"ptr":    &owner{Name: "Hopper"},
		},
	}
	tests := []struct {
		in, want string
	}{
		{"<<vars.typed.a>>", "b"},
		{"<<vars.ints[1]>>!", "2!"},
		{"<<vars.struct.Name>>", "Grace"},
		{"<<vars.ptr.Name>>", "Hopper"},
		{"<<vars.typed.x ?? 'none'>>", "none"},
	}
	for _, tt := range tests {
		tmpl, err := CompileString(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tmpl.Render(env)
		if err != nil || fmt.Sprint(got) != tt.want {
			t.Errorf("%s = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	tmpl, _ := CompileString("<<vars.typed.aa>>")
	if _, err := tmpl.Render(env); err == nil || !strings.Contains(err.Error(), `no field "aa" in vars.typed; did you mean "a"?`) {
		t.Errorf("typed map miss = %v", err)
	}
	tmpl, _ = CompileString("<<vars.struct.Nope>>")
	if _, err := tmpl.Render(env); err == nil {
		t.Error("missing struct field rendered")
	}
}
