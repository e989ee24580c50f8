package core_test

import (
	"testing"

	"github.com/leverflow/leverflow/steps/core"
)

func TestTransform(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	tests := []struct {
		name    string
		input   string
		want    string
		wantErr string
	}{
		{"object", `{"value": {"a": 1, "b": [true, null]}}`, `{"a": 1, "b": [true, null]}`, ""},
		{"list", `{"value": [1, "two"]}`, `[1, "two"]`, ""},
		{"text", `{"value": "hi"}`, `"hi"`, ""},
		{"number", `{"value": 2.5}`, `2.5`, ""},
		{"null is a value", `{"value": null}`, `null`, ""},
		{"missing", `{}`, "", `input.value: required field is missing`},
		{"extra field", `{"value": 1, "extra": 2}`, "", `input.extra: unknown field (known fields: value)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := run(t, reg, "transform", input(t, tt.input))
			if tt.wantErr != "" {
				checkErr(t, err, tt.wantErr, true)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, out, tt.want) {
				t.Fatalf("output %s, want %s", mustJSON(out), tt.want)
			}
		})
	}
}
