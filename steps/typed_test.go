package steps_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps"
)

type typedInner struct {
	Name string `json:"name"`
	If   bool   `json:"if"`
}

type typedEmbedded struct {
	Note string `json:"note"`
}

type typedInput struct {
	typedEmbedded
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Timeout time.Duration     `json:"timeout"`
	At      *time.Time        `json:"at"`
	Count   int               `json:"count"`
	Small   int8              `json:"small"`
	Size    uint              `json:"size"`
	Ratio   float64           `json:"ratio"`
	Flag    bool              `json:"flag"`
	Tags    []string          `json:"tags"`
	Headers map[string]string `json:"headers"`
	Cases   []typedInner      `json:"cases"`
	Value   any               `json:"value"`
	Raw     json.RawMessage   `json:"raw"`
	Skipped string            `json:"-"`
	hidden  string
}

func typedSchema() *steps.Schema {
	return &steps.Schema{
		Type: steps.TypeObject,
		Properties: map[string]*steps.Schema{
			"method":  {Type: steps.TypeString, Enum: []any{"GET", "POST"}, Default: "GET"},
			"url":     {Type: steps.TypeString, Description: "The URL to call."},
			"timeout": {Type: steps.TypeString, Format: "duration", Default: "30s"},
			"value":   {Type: steps.TypeAny},
			"count":   {Type: steps.TypeInteger, Default: 10},
			"cases": {Type: steps.TypeArray, Items: &steps.Schema{
				Type:       steps.TypeObject,
				Properties: map[string]*steps.Schema{"name": {Type: steps.TypeString}, "if": {Type: steps.TypeBoolean}},
				Required:   []string{"name"},
			}},
		},
		Required: []string{"url", "value"},
	}
}

// echoSpec is a Typed spec whose output is its decoded input.
func echoSpec() steps.Spec {
	return steps.Typed(steps.Spec{Type: "test.echo", Input: typedSchema()},
		func(_ context.Context, _ *steps.Request, in typedInput) (typedInput, error) { return in, nil })
}

func TestTypedDecodes(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 1, 31, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		input map[string]any
		want  typedInput
	}{
		{
			name:  "defaults fill absent fields",
			input: map[string]any{"url": "https://x", "value": nil},
			want:  typedInput{Method: "GET", URL: "https://x", Timeout: 30 * time.Second, Count: 10},
		},
		{
			name:  "null takes the default",
			input: map[string]any{"url": "https://x", "value": 1.0, "method": nil, "timeout": nil},
			want:  typedInput{Method: "GET", URL: "https://x", Timeout: 30 * time.Second, Count: 10, Value: 1.0},
		},
		{
			name: "every kind",
			input: map[string]any{
				"note": "embedded", "method": "POST", "url": "https://x", "timeout": "1m30s",
				"at": "2025-01-31T09:00:00+01:00", "count": 3.0, "small": -5, "size": 7, "ratio": 0.5,
				"flag": true, "tags": []any{"a", "b"}, "headers": map[string]any{"Accept": "text/plain"},
				"cases": []any{map[string]any{"name": "offer", "if": true}},
				"value": map[string]any{"n": 1}, "raw": []any{1, "two"},
			},
			want: typedInput{
				typedEmbedded: typedEmbedded{Note: "embedded"}, Method: "POST", URL: "https://x",
				Timeout: 90 * time.Second, At: &at, Count: 3, Small: -5, Size: 7, Ratio: 0.5, Flag: true,
				Tags: []string{"a", "b"}, Headers: map[string]string{"Accept": "text/plain"},
				Cases: []typedInner{{Name: "offer", If: true}},
				Value: map[string]any{"n": 1.0}, Raw: json.RawMessage(`[1,"two"]`),
			},
		},
		{
			name: "Go values are read as their JSON",
			input: map[string]any{"url": "https://x", "value": []string{"a"}, "tags": []string{"b"},
				"count": int64(4), "at": at},
			want: typedInput{Method: "GET", URL: "https://x", Timeout: 30 * time.Second, Count: 4,
				Value: []any{"a"}, Tags: []string{"b"}, At: &at},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := echoSpec().Run(context.Background(), &steps.Request{Input: tt.input})
			if err != nil {
				t.Fatal(err)
			}
			got := out.(typedInput)
			if got.At != nil && tt.want.At != nil && got.At.Equal(*tt.want.At) {
				got.At = tt.want.At
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestTypedErrors(t *testing.T) {
	t.Parallel()
	base := func(kv ...any) map[string]any {
		m := map[string]any{"url": "https://x", "value": 1}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name  string
		input map[string]any
		want  string
	}{
		{"duration as a number", base("timeout", 30), `input.timeout: must be a duration such as "30s" or "1h30m", got number 30`},
		{"duration without a unit", base("timeout", "30"), `input.timeout: must be a duration: a number with a unit such as "30s", "5m" or "1h30m", got string "30"`},
		{"time not RFC 3339", base("at", "tomorrow"), `input.at: must be an RFC 3339 time such as "2025-01-31T09:00:00Z"`},
		{"unknown field with a suggestion", base("methd", "GET"), `input.methd: unknown field; did you mean "method"? (known fields: at, cases, count,`},
		{"unknown nested field", base("cases", []any{map[string]any{"name": "a", "iff": true}}), `input.cases[0].iff: unknown field; did you mean "if"? (known fields: if, name)`},
		{"missing required", map[string]any{"value": 1}, `input.url: required field is missing (The URL to call)`},
		{"null required", base("url", nil), `input.url: required, got null (The URL to call)`},
		{"null is fine for a required any", base("value", nil), ""},
		{"missing nested required", base("cases", []any{map[string]any{"if": true}}), `input.cases[0].name: required field is missing`},
		{"enum", base("method", "get"), `input.method: must be one of "GET", "POST", got string "get"; did you mean "GET"?`},
		{"string", base("url", 5), `input.url: must be a string, got number 5`},
		{"boolean", base("flag", "yes"), `input.flag: must be a boolean (true or false), got string "yes"`},
		{"whole number", base("count", 2.5), `input.count: must be a whole number such as 10, got number 2.5`},
		{"integer range", base("small", 300), `input.small: number 300 is out of range`},
		{"unsigned", base("size", -1), `input.size: must not be negative, got number -1`},
		{"list", base("tags", "a"), `input.tags: must be a list such as ["a", "b"], got string "a"`},
		{"list item", base("tags", []any{"a", 2}), `input.tags[1]: must be a string, got number 2`},
		{"object", base("headers", "x"), `input.headers: must be an object such as {"key": "value"}, got string "x"`},
		{"odd map key in a path", base("headers", map[string]any{"X Odd": 1}), `input.headers["X Odd"]: must be a string, got number 1`},
		{"long strings are cut", base("flag", strings.Repeat("x", 100)), `got string "` + strings.Repeat("x", 37) + `..."`},
		{"skipped fields are unknown", base("Skipped", "x"), `input.Skipped: unknown field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := echoSpec().Run(context.Background(), &steps.Request{Input: tt.input})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error:\n  %v\nwant it to contain:\n  %s", err, tt.want)
			}
			if !steps.IsPermanent(err) {
				t.Fatalf("input errors must be permanent: %v", err)
			}
		})
	}
}

func TestTypedPassesRunResults(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	type in struct {
		Fail bool `json:"fail"`
	}
	spec := steps.Typed(steps.Spec{Type: "test.run"}, func(ctx context.Context, req *steps.Request, in in) (map[string]any, error) {
		if in.Fail {
			return map[string]any{"partial": true}, steps.RetryAfter(boom, time.Minute)
		}
		return map[string]any{"step": req.StepID}, nil
	})
	out, err := spec.Run(context.Background(), &steps.Request{StepID: "s1", Input: nil})
	if err != nil || !reflect.DeepEqual(out, map[string]any{"step": "s1"}) {
		t.Fatalf("got %v, %v", out, err)
	}
	out, err = spec.Run(context.Background(), &steps.Request{Input: map[string]any{"fail": true}})
	if !errors.Is(err, boom) || out != nil || steps.IsPermanent(err) {
		t.Fatalf("got %v, %v; want the run's retryable error and no output", out, err)
	}
	if d, ok := steps.RetryAfterOf(err); !ok || d != time.Minute {
		t.Fatalf("RetryAfterOf = %v, %v", d, ok)
	}
	if _, err := spec.Run(context.Background(), &steps.Request{Input: map[string]any{"x": 1}}); err == nil ||
		!strings.Contains(err.Error(), "input.x: unknown field (known fields: fail)") {
		t.Fatalf("got %v", err)
	}
}

func TestTypedKeepsSpec(t *testing.T) {
	t.Parallel()
	spec := steps.Typed(steps.Spec{Type: "test.keep", Title: "Keep", Category: "Test"},
		func(context.Context, *steps.Request, struct{}) (any, error) { return nil, nil })
	if spec.Type != "test.keep" || spec.Title != "Keep" || spec.Run == nil {
		t.Fatalf("Typed changed the spec: %+v", spec)
	}
	if _, err := spec.Run(context.Background(), &steps.Request{Input: map[string]any{"a": 1}}); err == nil ||
		!strings.Contains(err.Error(), "input.a: unknown field; this takes no fields, remove it") {
		t.Fatalf("got %v", err)
	}
}

func TestDecodeInputMap(t *testing.T) {
	t.Parallel()
	got, err := steps.DecodeInput[map[string]any](nil, map[string]any{"a": []int{1}})
	if err != nil || !reflect.DeepEqual(got, map[string]any{"a": []any{1.0}}) {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := steps.DecodeInput[struct{ C chan int }](nil, map[string]any{"C": 1}); err == nil ||
		!strings.Contains(err.Error(), "cannot decode into Go type chan int") {
		t.Fatalf("got %v", err)
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	for v, want := range map[any]string{nil: "null", "yes": `string "yes"`, 1.5: "number 1.5", 3: "number 3", true: "boolean true"} {
		if got := steps.Describe(v); got != want {
			t.Errorf("Describe(%#v) = %q, want %q", v, got, want)
		}
	}
	if got := steps.Describe([]string{"a"}); got != "array" {
		t.Errorf("Describe(slice) = %q", got)
	}
	if got := steps.Describe(map[string]int{}); got != "object" {
		t.Errorf("Describe(map) = %q", got)
	}
}

// FuzzDecodeInput feeds arbitrary JSON objects to a Typed handler: it must
// never panic, and every failure must be a permanent input error.
func FuzzDecodeInput(f *testing.F) {
	for _, seed := range []string{
		`{"url": "https://x", "value": 1}`,
		`{"url": "https://x", "value": null, "timeout": "1m", "count": 3, "tags": ["a"]}`,
		`{"url": 1, "cases": [{"name": "a", "if": true}, {"iff": 1}]}`,
		`{"headers": {"a": "b"}, "at": "2025-01-31T09:00:00Z", "raw": {"x": [1]}}`,
		`{"small": 1e300, "size": -1, "ratio": "x", "note": 5}`,
	} {
		f.Add([]byte(seed))
	}
	spec := echoSpec()
	f.Fuzz(func(t *testing.T, data []byte) {
		var in map[string]any
		if json.Unmarshal(data, &in) != nil {
			return
		}
		_, err := spec.Run(context.Background(), &steps.Request{Input: in})
		if err != nil && (!steps.IsPermanent(err) || !strings.HasPrefix(err.Error(), "input")) {
			t.Fatalf("error %v: want a permanent error naming an input path", err)
		}
	})
}

func BenchmarkTyped(b *testing.B) {
	spec := echoSpec()
	req := &steps.Request{Input: map[string]any{
		"url": "https://api.example.com/v1/opportunities", "method": "POST", "timeout": "10s",
		"headers": map[string]any{"Authorization": "Bearer x", "Accept": "application/json"},
		"tags":    []any{"a", "b", "c"},
		"value":   map[string]any{"name": "Ada", "emails": []any{"ada@example.com"}},
	}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := spec.Run(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
