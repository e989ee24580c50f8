package core_test

import (
	"testing"

	"github.com/leverflow/leverflow/steps/core"
)

func TestRespond(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	tests := []struct {
		name    string
		input   string
		want    string
		wantErr string
	}{
		{"defaults", `{}`, `{"status": 200, "headers": {}, "body": null}`, ""},
		{"null status takes the default", `{"status": null, "body": "ok"}`, `{"status": 200, "headers": {}, "body": "ok"}`, ""},
		{"everything", `{"status": 202, "headers": {"Location": "/runs/1", "X-Retry": 2, "X-None": null}, "body": {"id": "r1"}}`,
			`{"status": 202, "headers": {"Location": "/runs/1", "X-Retry": "2"}, "body": {"id": "r1"}}`, ""},
		{"lowest status", `{"status": 100}`, `{"status": 100, "headers": {}, "body": null}`, ""},
		{"highest status", `{"status": 599}`, `{"status": 599, "headers": {}, "body": null}`, ""},
		{"status too low", `{"status": 99}`, "", `input.status: must be between 100 and 599, got 99; 200 is OK, 201 Created, 202 Accepted`},
		{"status too high", `{"status": 600}`, "", `input.status: must be between 100 and 599, got 600`},
		{"status fraction", `{"status": 200.5}`, "", `input.status: must be a whole number such as 10, got number 200.5`},
		{"status text", `{"status": "200"}`, "", `input.status: must be a whole number such as 10, got string "200"`},
		{"header object", `{"headers": {"X-A": {"b": 1}}}`, "", `input.headers.X-A: must be text, got object`},
		{"header name", `{"headers": {"X:A": "1"}}`, "", `input.headers["X:A"]: "X:A" is not a valid header name`},
		{"header value", `{"headers": {"X-A": "1\n2"}}`, "", `input.headers.X-A: header values cannot hold line breaks`},
		{"unknown", `{"code": 200}`, "", `input.code: unknown field (known fields: body, headers, status)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := run(t, reg, "respond", input(t, tt.input))
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
