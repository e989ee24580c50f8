package workflow

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	_ "time/tzdata" // time zones for the schedule checks on any machine

	"github.com/leverflow/leverflow/steps"
)

var update = flag.Bool("update", false, "rewrite the golden .problems files of testdata/invalid")

// testCatalog builds a registry whose specs mimic the core steps and two
// Lever steps. It does not import steps/core: the workflow package must not
// depend on the step families.
func testCatalog(t testing.TB) *steps.Registry {
	t.Helper()
	run := func(context.Context, *steps.Request) (any, error) { return nil, nil }
	obj := func(req []string, props map[string]*steps.Schema) *steps.Schema {
		return &steps.Schema{Type: steps.TypeObject, Properties: props, Required: req}
	}
	str := &steps.Schema{Type: steps.TypeString}
	strs := &steps.Schema{Type: steps.TypeArray, Items: str}
	anyv := &steps.Schema{Type: steps.TypeAny}
	openObj := &steps.Schema{Type: steps.TypeObject, AdditionalProperties: true}
	branchOf := func(out any) (string, error) { return "", nil }
	specs := []steps.Spec{
		{
			Type:           "condition",
			Input:          obj([]string{"if"}, map[string]*steps.Schema{"if": {Type: steps.TypeBoolean, Description: "The condition to test."}}),
			Output:         obj(nil, map[string]*steps.Schema{"result": {Type: steps.TypeBoolean}}),
			StaticBranches: []string{"true", "false"},
			BranchOf:       branchOf,
			Run:            run,
		},
		{
			Type: "switch",
			Input: obj([]string{"cases"}, map[string]*steps.Schema{"cases": {
				Type:  steps.TypeArray,
				Items: obj([]string{"name", "if"}, map[string]*steps.Schema{"name": str, "if": {Type: steps.TypeBoolean}}),
			}}),
			Output:         obj(nil, map[string]*steps.Schema{"case": str}),
			StaticBranches: []string{"default"},
			CaseBranches:   "cases",
			BranchOf:       branchOf,
			Run:            run,
		},
		{
			Type:   "transform",
			Input:  obj(nil, map[string]*steps.Schema{"value": anyv}),
			Output: anyv,
			Run:    run,
		},
		{
			Type: "fanout",
			Input: obj([]string{"items"}, map[string]*steps.Schema{
				"items":       {Type: steps.TypeArray, Description: "The list to run the body for."},
				"concurrency": {Type: steps.TypeInteger, Default: 10},
			}),
			Container: true,
			Items:     func(map[string]any) ([]any, int, error) { return nil, 10, nil },
		},
		{
			Type: "http.request",
			Input: obj([]string{"url"}, map[string]*steps.Schema{
				"method":  {Type: steps.TypeString, Enum: []any{"GET", "POST", "PUT", "PATCH", "DELETE"}},
				"url":     {Type: steps.TypeString, Format: "uri", Description: "The URL to call."},
				"query":   {Type: steps.TypeObject},
				"headers": {Type: steps.TypeObject},
				"body":    anyv,
				"timeout": {Type: steps.TypeString, Format: "duration"},
			}),
			Output: obj(nil, map[string]*steps.Schema{
				"status":  {Type: steps.TypeInteger},
				"headers": openObj,
				"body":    anyv,
			}),
			Run: run,
		},
		{
			Type: "delay",
			Input: obj(nil, map[string]*steps.Schema{
				"for":   {Type: steps.TypeString, Format: "duration"},
				"until": {Type: steps.TypeString, Format: "date-time"},
			}),
			Output: obj(nil, map[string]*steps.Schema{"waited_until": str}),
			Run:    run,
		},
		{
			Type: "respond",
			Input: obj(nil, map[string]*steps.Schema{
				"status":  {Type: steps.TypeInteger},
				"headers": {Type: steps.TypeObject},
				"body":    anyv,
			}),
			Output: anyv,
			Run:    run,
		},
		{
			Type:            "lever.get_opportunity",
			NeedsConnection: true,
			Input:           obj([]string{"opportunity_id"}, map[string]*steps.Schema{"opportunity_id": {Type: steps.TypeString, Description: "The id of the opportunity."}}),
			Output: obj(nil, map[string]*steps.Schema{
				"id": str, "name": str, "headline": str, "contact": str,
				"emails": strs, "tags": strs, "stage": str,
			}),
			Run: run,
		},
		{
			Type:            "lever.add_opportunity_tags",
			NeedsConnection: true,
			Input: obj([]string{"opportunity_id", "tags"}, map[string]*steps.Schema{
				"opportunity_id": str,
				"tags":           strs,
				"perform_as":     str,
			}),
			Output: obj(nil, map[string]*steps.Schema{"id": str, "tags": strs}),
			Run:    run,
		},
	}
	reg := steps.NewRegistry()
	for _, s := range specs {
		if err := reg.Add(s); err != nil {
			t.Fatalf("adding %s: %v", s.Type, err)
		}
	}
	return reg
}

func testOptions(t testing.TB) ValidateOptions {
	return ValidateOptions{
		Steps: testCatalog(t),
		HasConnection: func(name string) bool {
			return name == "acme" || name == "acme-sandbox"
		},
	}
}

func formatProblems(problems []Problem) string {
	var b strings.Builder
	for _, p := range problems {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func TestInvalid(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Errorf("only %d invalid workflows in testdata/invalid; want at least 30", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			w, problems := Parse(data, testOptions(t))
			if len(problems) == 0 {
				t.Fatalf("no problems found in %s", file)
			}
			if w != nil && len(problems) > 0 {
				// Validation problems: the workflow decoded.
				if _, decodeProblems := Decode(data); len(decodeProblems) > 0 {
					t.Errorf("Parse returned a workflow with decode problems")
				}
			}
			got := formatProblems(problems)
			golden := strings.TrimSuffix(file, ".json") + ".problems"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("problems of %s differ from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", file, golden, got, want)
			}
		})
	}
}

func TestValid(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "valid", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 6 {
		t.Errorf("only %d valid workflows in testdata/valid; want at least 6", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			w, problems := Parse(data, testOptions(t))
			if len(problems) > 0 {
				t.Fatalf("unexpected problems:\n%s", formatProblems(problems))
			}
			out, err := Encode(w)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, data) {
				t.Errorf("Decode then Encode is not byte-stable: the file is not canonical\ngot:\n%s", out)
			}
		})
	}
}

func TestDecodeSyntaxPosition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, want string
	}{
		{"trailing comma", "{\n  \"name\": \"x\",\n}", "line 3, column 1: invalid character '}' looking for beginning of object key string: remove the trailing comma before \"}\""},
		{"cut short", "{\n  \"name\": \"x\"", "line 2, column 14: unexpected end of JSON input: the document ends early; close every open \"{\", \"[\" and string"},
		{"empty", "", "line 1, column 1: the document is empty: a workflow is a JSON object such as {\"name\": ..., \"trigger\": ..., \"steps\": [...]}"},
		{"after value", "{} {}", "line 1, column 4: invalid character '{' after top-level value: the document must hold exactly one JSON object"},
		{"columns count characters", "{\"name\": \"é\" x}", "line 1, column 14: invalid character 'x' after object key:value pair: a comma is probably missing before it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, problems := Decode([]byte(tt.doc))
			if w != nil {
				t.Error("got a workflow along with problems")
			}
			if len(problems) != 1 || problems[0].Path != "" || problems[0].Message != tt.want {
				t.Errorf("got %q\nwant one problem %q", problems, tt.want)
			}
		})
	}
}

func TestProblemString(t *testing.T) {
	t.Parallel()
	if got := (Problem{Path: "steps[0].id", Message: "bad"}).String(); got != "steps[0].id: bad" {
		t.Errorf("got %q", got)
	}
	if got := (Problem{Message: "bad"}).String(); got != "bad" {
		t.Errorf("got %q", got)
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		candidates []string
		want       string
	}{
		{"retyr", []string{"id", "type", "retry", "timeout"}, "retry"},
		{"maxAttempts", []string{"max_attempts", "backoff"}, "max_attempts"},
		{"lever.get_oportunity", []string{"condition", "lever.get_opportunity"}, "lever.get_opportunity"},
		{"get_opportunity", []string{"condition", "lever.get_opportunity"}, "lever.get_opportunity"},
		{"frobnicate", []string{"condition", "transform"}, ""},
		{"", []string{"id"}, ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.name, tt.candidates); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestShapeMatchesStructs keeps the strict decoder's picture of the
// document in step with the struct tags.
func TestShapeMatchesStructs(t *testing.T) {
	t.Parallel()
	var check func(path string, s *docShape, typ reflect.Type)
	check = func(path string, s *docShape, typ reflect.Type) {
		var names []string
		for i := range typ.NumField() {
			tag := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
			names = append(names, tag)
		}
		if got := s.names(); !reflect.DeepEqual(got, names) {
			t.Errorf("%s: decoder fields %v, struct fields %v", path, got, names)
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			fs := s.fields[min(i, len(s.fields)-1)].shape
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Struct && fs.kind == kindObject:
				if ft != typ { // Step holds steps of its own type
					check(path+"."+f.Name, fs, ft)
				}
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && fs.kind == kindArray:
				if ft.Elem() != typ {
					check(path+"."+f.Name+"[]", fs.elem, ft.Elem())
				}
			}
		}
	}
	check("Workflow", workflowShape, reflect.TypeFor[Workflow]())
}

func TestEncodeKeepsReferencesReadable(t *testing.T) {
	t.Parallel()
	w := &Workflow{Name: "x", Trigger: Trigger{Type: "api"}, Steps: []Step{{
		ID: "t", Type: "transform", Input: []byte(`{"value":   "<<trigger.a && true>>"}`),
	}}}
	out, err := Encode(w)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "name": "x",
  "trigger": {
    "type": "api"
  },
  "steps": [
    {
      "id": "t",
      "type": "transform",
      "input": {
        "value": "<<trigger.a && true>>"
      }
    }
  ]
}
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestValidateWithoutCatalog(t *testing.T) {
	t.Parallel()
	problems := Validate(&Workflow{}, ValidateOptions{})
	if len(problems) != 1 {
		t.Fatalf("got %v", problems)
	}
}

func FuzzDecode(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	opts := testOptions(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		w, problems := Decode(data)
		if (w == nil) == (len(problems) == 0) {
			t.Fatalf("Decode gave workflow %v with %d problems", w != nil, len(problems))
		}
		if w == nil {
			return
		}
		Validate(w, opts)
		out, err := Encode(w)
		if err != nil {
			return // a workflow holding an invalid number, say
		}
		w2, problems := Decode(out)
		if len(problems) > 0 {
			t.Fatalf("the encoded form does not decode: %v\n%s", problems, out)
		}
		out2, err := Encode(w2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("Encode is not stable:\n%s\n%s", out, out2)
		}
	})
}

// TestContinueOnErrorWidensOutput: a step with on_error: continue outputs
// {"error": {...}} when it fails, so references to its error are valid,
// while the same reference to a step that fails the run is not.
func TestContinueOnErrorWidensOutput(t *testing.T) {
	t.Parallel()
	doc := func(onError string) string {
		return `{"name": "w", "trigger": {"type": "api"}, "steps": [
  {"id": "opp", "type": "lever.get_opportunity", "connection": "acme", "input": {"opportunity_id": "x"}` + onError + `},
  {"id": "check", "type": "condition", "input": {"if": "<<steps.opp.error.message != ''>>"}}],
  "edges": [{"from": "opp", "to": "check"}]}`
	}
	if _, probs := Parse([]byte(doc(`, "on_error": "continue"`)), testOptions(t)); len(probs) > 0 {
		t.Errorf("continue: unexpected problems %v", probs)
	}
	_, probs := Parse([]byte(doc("")), testOptions(t))
	if len(probs) != 1 || !strings.Contains(probs[0].Message, `no field "error"`) {
		t.Errorf("fail: problems = %v, want one about the missing error field", probs)
	}
}
