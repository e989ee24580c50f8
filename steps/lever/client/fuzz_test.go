package client

import (
	"encoding/json"
	"testing"
	"time"
)

func FuzzDecodeScalars(f *testing.F) {
	for _, s := range []string{`"id"`, `{"id":"x","a":[1]}`, `null`, `1747210897000`, `"1747210897000"`, `{"name":"Berlin"}`, `[]`, `""`, `1e12`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Ref
		if json.Unmarshal(b, &r) == nil {
			out, err := json.Marshal(r)
			if err != nil {
				t.Fatalf("marshal %+v: %v", r, err)
			}
			var back Ref
			if err := json.Unmarshal(out, &back); err != nil || back.ID != r.ID {
				t.Fatalf("round trip %s -> %s: %+v, %v", b, out, back, err)
			}
		}
		var m Millis
		_ = json.Unmarshal(b, &m)
		var l Location
		_ = json.Unmarshal(b, &l)
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "5", "-1", "Wed, 21 Oct 2015 07:28:00 GMT", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d := parseRetryAfter(s, now); d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v < 0", s, d)
		}
	})
}
