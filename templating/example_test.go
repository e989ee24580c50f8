package templating_test

import (
	"encoding/json"
	"fmt"

	"github.com/leverflow/leverflow/templating"
)

func Example() {
	var input any
	_ = json.Unmarshal([]byte(`{
		"opportunity_id": "<<steps.opp.id>>",
		"tags": "<<steps.opp.tags>>",
		"note": "Moved <<trigger.name>> (<<len(steps.opp.tags)>> tags)",
		"literal": "\\<<not a reference>>"
	}`), &input)

	tmpl, err := templating.Compile(input)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := tmpl.Render(map[string]any{
		"trigger": map[string]any{"name": "Ada"},
		"steps": map[string]any{
			"opp": map[string]any{"id": "opp-1", "tags": []any{"senior", "referral"}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Println(string(b))
	// Output:
	// {
	//   "literal": "\u003c\u003cnot a reference\u003e\u003e",
	//   "note": "Moved Ada (2 tags)",
	//   "opportunity_id": "opp-1",
	//   "tags": [
	//     "senior",
	//     "referral"
	//   ]
	// }
}

func ExampleTemplate_Render_error() {
	tmpl, _ := templating.CompileString("<<steps.opp.contactt>>")
	_, err := tmpl.Render(map[string]any{
		"steps": map[string]any{"opp": map[string]any{"contact": "c-1"}},
	})
	fmt.Println(err)
	// Output:
	// input: <<steps.opp.contactt>>: no field "contactt" in steps.opp; did you mean "contact"?
}

func ExampleTemplate_Render_optional() {
	tmpl, _ := templating.Compile(map[string]any{
		"owner":   "<<steps.opp.owner?.name>>",
		"contact": "<<steps.opp.contact ?? 'unknown'>>",
	})
	out, _ := tmpl.Render(map[string]any{
		"steps": map[string]any{"opp": map[string]any{"owner": nil}},
	})
	fmt.Println(out)
	// Output:
	// map[contact:unknown owner:<nil>]
}

func ExampleCompile_syntaxError() {
	_, err := templating.CompileString("Hello <<trigger.name")
	fmt.Println(err)
	// Output:
	// input: <<trigger.name>>: unclosed "<<": no matching ">>" (1:7)
	//  | Hello <<trigger.name
	//  | ......^
}

func ExampleTemplate_Refs() {
	tmpl, _ := templating.Compile(map[string]any{
		"id":   "<<steps.opp.id>>",
		"tags": []any{"x", "<<upper(trigger.tag)>>"},
	})
	for _, r := range tmpl.Refs() {
		fmt.Printf("%s: %s roots=%v steps=%v\n", r.Path, r.Expr, r.Roots, r.Steps)
	}
	// Output:
	// id: steps.opp.id roots=[steps] steps=[opp]
	// tags[1]: upper(trigger.tag) roots=[trigger] steps=[]
}

func ExampleCheck() {
	tmpl, _ := templating.Compile(map[string]any{"contact_id": "<<steps.opp.contactt>>"})
	problems := templating.Check(tmpl, map[string]*templating.Shape{
		"steps": {Type: "object", Properties: map[string]*templating.Shape{
			"opp": {Type: "object", Properties: map[string]*templating.Shape{
				"id":      {Type: "string"},
				"contact": {Type: "string"},
			}},
		}},
		"trigger": templating.Any,
	})
	for _, p := range problems {
		fmt.Println(p)
	}
	// Output:
	// input contact_id: <<steps.opp.contactt>>: no field "contactt" in steps.opp; did you mean "contact"?
}
