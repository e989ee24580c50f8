package templating

import (
	"reflect"
	"testing"
)

// shapes is what the engine derives from the trigger type and the output
// schemas of the upstream steps.
func shapes() map[string]*Shape {
	str := &Shape{Type: "string"}
	return map[string]*Shape{
		"trigger": {Type: "object", Properties: map[string]*Shape{
			"opportunityId": str,
			"data":          Any,
		}},
		"steps": {Type: "object", Properties: map[string]*Shape{
			"opp": {Type: "object", Properties: map[string]*Shape{
				"id":       str,
				"contact":  str,
				"headline": str,
				"tags":     {Type: "array", Items: str},
				"emails":   {Type: "array"},
				"stage":    {Type: "object", Properties: map[string]*Shape{"id": str, "text": str}},
				"owner":    {Type: "object", Open: true, Properties: map[string]*Shape{"name": str}},
				"archived": {Type: "null"},
				"score":    {Type: "number"},
				"items":    {Type: "array", Items: &Shape{Type: "object", Properties: map[string]*Shape{"n": {Type: "integer"}}}},
			}},
			"any": Any,
		}},
		"run": {Type: "object", Properties: map[string]*Shape{"id": str, "workflow_id": str, "started_at": str}},
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input any
		want  []Problem
	}{
		{"static", map[string]any{"a": "x"}, nil},
		{"good refs", map[string]any{
			"a": "<<steps.opp.id>>",
			"b": "Hi <<steps.opp.stage.text>> <<steps.opp.tags[0]>> <<run.id>>",
			"c": "<<steps.opp.owner.anything.below>>",
			"d": "<<trigger.data.x[3].y>>",
			"e": "<<steps.any.x.y>>",
			"f": "<<len(steps.opp.tags) > 2 && steps.opp.headline contains 'Senior'>>",
			"g": "<<filter(steps.opp.items, .n > 1)>>",
			"h": "<<let s = steps.opp.stage; s.text>>",
			"i": "<<steps.opp.emails[0].whatever>>",
			"j": "<<steps.opp?.stage?.id ?? 'x'>>",
			"k": "<<map(steps.opp.items, #.n + #index)>>",
		}, nil},
		{"unknown root", "<<item.x>>", []Problem{
			{"", `<<item.x>>: unknown root "item" (known: run, steps, trigger)`}}},
		{"unknown root did you mean", "<<triger.x>>", []Problem{
			{"", `<<triger.x>>: unknown root "triger"; did you mean "trigger"? (known: run, steps, trigger)`}}},
		{"unknown field did you mean", map[string]any{"opportunity_id": "<<steps.opp.contactt>>"}, []Problem{
			{"opportunity_id", `<<steps.opp.contactt>>: no field "contactt" in steps.opp; did you mean "contact"?`}}},
		{"unknown step", "<<steps.zzzz.id>>", []Problem{
			{"", `<<steps.zzzz.id>>: no step "zzzz" has output here (known: any, opp)`}}},
		{"unknown step did you mean", "<<steps.op.id>>", []Problem{
			{"", `<<steps.op.id>>: no step "op" has output here; did you mean "opp"? (known: any, opp)`}}},
		{"nested unknown field", "<<steps.opp.stage.txt>>", []Problem{
			{"", `<<steps.opp.stage.txt>>: no field "txt" in steps.opp.stage; did you mean "text"?`}}},
		{"index on object", "<<steps.opp.stage[0]>>", []Problem{
			{"", `<<steps.opp.stage[0]>>: cannot read [0]: steps.opp.stage is an object, not a list`}}},
		{"index on string", "<<steps.opp.id[0]>>", []Problem{
			{"", `<<steps.opp.id[0]>>: cannot read [0]: steps.opp.id is a string, not a list`}}},
		{"member on scalar", "<<steps.opp.score.value>>", []Problem{
			{"", `<<steps.opp.score.value>>: cannot read field "value": steps.opp.score is a number, not an object`}}},
		{"member on null", "<<steps.opp.archived.at>>", []Problem{
			{"", `<<steps.opp.archived.at>>: cannot read field "at": steps.opp.archived is null`}}},
		{"member on list", "<<steps.opp.tags.first>>", []Problem{
			{"", `<<steps.opp.tags.first>>: cannot read field "first": steps.opp.tags is a list, not an object`}}},
		{"list items checked", "<<steps.opp.items[0].m>>", []Problem{
			{"", `<<steps.opp.items[0].m>>: no field "m" in steps.opp.items[0]`}}},
		{"predicate element checked", "<<filter(steps.opp.items, .nn > 1)>>", []Problem{
			{"", `<<filter(steps.opp.items, .nn > 1)>>: no field "nn" in #; did you mean "n"?`}}},
		{"inside expression", "<<upper(steps.opp.headlin) + run.idd>>", []Problem{
			{"", `<<upper(steps.opp.headlin) + run.idd>>: no field "headlin" in steps.opp; did you mean "headline"?`},
			{"", `<<upper(steps.opp.headlin) + run.idd>>: no field "idd" in run; did you mean "id"?`}}},
		{"every problem of every path", map[string]any{"a": "<<x>>", "b": []any{"<<steps.opp.nope>>"}}, []Problem{
			{"a", `<<x>>: unknown root "x" (known: run, steps, trigger)`},
			{"b[0]", `<<steps.opp.nope>>: no field "nope" in steps.opp`}}},
		{"syntax errors", map[string]any{"a": "<<steps.opp.>>", "b": "<<steps.opp.nope>>"}, []Problem{
			{"a", `<<steps.opp.>>: unexpected end of expression (at offset 11)`},
			{"b", `<<steps.opp.nope>>: no field "nope" in steps.opp`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, _ := Compile(tt.input)
			got := Check(tmpl, shapes())
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestCheckNil(t *testing.T) {
	t.Parallel()
	if got := Check(nil, shapes()); got != nil {
		t.Errorf("Check(nil) = %v", got)
	}
	tmpl, _ := CompileString("<<trigger.x>>")
	want := []Problem{{"", `<<trigger.x>>: unknown root "trigger" (known: )`}}
	if got := Check(tmpl, nil); !reflect.DeepEqual(got, want) {
		t.Errorf("Check with no roots = %#v", got)
	}
}
