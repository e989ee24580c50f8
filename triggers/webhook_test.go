package triggers

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fixtureSignatureToken signs the webhook fixtures (shared/lever/fixtures).
const fixtureSignatureToken = "sandbox-signature-token"

var fixtureFiles = []string{
	"webhook_application_created.json",
	"webhook_candidate_stage_change.json",
	"webhook_contact_updated.json",
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseFixture(t testing.TB, name string) *LeverEvent {
	t.Helper()
	ev, err := ParseLeverWebhook(readFixture(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// sign computes the signature independently of the package's code.
func sign(key, token string, at int64) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(token + strconv.FormatInt(at, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

func TestParseFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, event, id, token string
		at                     int64
	}{
		{"webhook_application_created.json", EventApplicationCreated, "c6f0a2d8-4e1b-4973-b5a9-1d8e3c7f0b65", "a3c5e7f9b1d2048e6c8a0f2d4b6e8a1c3e5f7b9d0a2c4e6f", 1747210898905},
		{"webhook_candidate_stage_change.json", EventCandidateStageChange, "2a7e5c91-0b4d-4f38-9e16-c8d3a5f7b204", "5d1f9c3b7a2e8046c9b1d7e3f5a0c2b4e6d8f1a3c5e7b9d0", 1747832698412},
		{"webhook_contact_updated.json", EventContactUpdated, "f41b8d2a-7c6e-4a05-93d1-b2e9c5a7f318", "0e2c4a6f8b1d3e5a7c9f0b2d4e6a8c1e3f5b7d9a0c2e4f6b", 1747832762077},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body := readFixture(t, tt.file)
			ev := parseFixture(t, tt.file)
			if ev.Event != tt.event || ev.ID != tt.id || ev.Token != tt.token || ev.TriggeredAt != tt.at || len(ev.Signature) != 64 {
				t.Errorf("parsed %+v", ev)
			}
			if !bytes.Equal(ev.Raw, body) {
				t.Error("Raw is not the body")
			}
			body[0] = 'X' // the event keeps its own copy
			if ev.Raw[0] == 'X' {
				t.Error("Raw aliases the caller's buffer")
			}
			if ev.DedupeKey() != tt.token || ev.IsTest() {
				t.Errorf("DedupeKey %q IsTest %v", ev.DedupeKey(), ev.IsTest())
			}
			if got := ev.Time(); !got.Equal(time.UnixMilli(tt.at)) || got.Location() != time.UTC {
				t.Errorf("Time() = %v", got)
			}
			if sign(fixtureSignatureToken, ev.Token, ev.TriggeredAt) != ev.Signature {
				t.Fatal("the fixture does not carry the signature computed here")
			}
			if err := VerifyLeverSignature(ev, fixtureSignatureToken); err != nil {
				t.Errorf("VerifyLeverSignature: %v", err)
			}
			if got := LeverSignature(fixtureSignatureToken, ev.Token, ev.TriggeredAt); got != ev.Signature {
				t.Errorf("LeverSignature = %s", got)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       error
		mention    string // the message names the field
	}{
		{"empty", "", ErrMalformed, "empty"},
		{"blank", "  \n", ErrMalformed, "empty"},
		{"not UTF-8", "{\"event\":\"candidateHired\",\"triggeredAt\":1,\"data\":{\"x\":\"\xff\"}}", ErrMalformed, "not valid UTF-8"},
		{"not json", "event=x", ErrMalformed, "not valid JSON"},
		{"truncated", `{"event":"candidateHired","triggeredAt":1`, ErrMalformed, "not valid JSON"},
		{"array", `[1,2]`, ErrMalformed, "JSON object"},
		{"string", `"hello"`, ErrMalformed, "JSON object"},
		{"null", `null`, ErrMalformed, "JSON object"},
		{"trailing data", `{"event":"candidateHired","triggeredAt":1}{}`, ErrMalformed, "not valid JSON"},
		{"no event", `{"triggeredAt":1747832698412}`, ErrMalformed, `"event" is missing`},
		{"null event", `{"event":null,"triggeredAt":1747832698412}`, ErrMalformed, `"event" is missing`},
		{"empty event", `{"event":"","triggeredAt":1747832698412}`, ErrMalformed, `"event" is empty`},
		{"event number", `{"event":7,"triggeredAt":1747832698412}`, ErrMalformed, `"event" must be a string, got a number`},
		{"no triggeredAt", `{"event":"candidateHired"}`, ErrMalformed, `"triggeredAt" is missing`},
		{"triggeredAt string", `{"event":"candidateHired","triggeredAt":"1747832698412"}`, ErrMalformed, `"triggeredAt" must be an integer of Unix milliseconds, got a string`},
		{"triggeredAt float", `{"event":"candidateHired","triggeredAt":1.747832698412e+12}`, ErrMalformed, `got 1.747832698412e+12`},
		{"triggeredAt fraction", `{"event":"candidateHired","triggeredAt":1747832698412.5}`, ErrMalformed, `"triggeredAt"`},
		{"triggeredAt negative", `{"event":"candidateHired","triggeredAt":-5}`, ErrMalformed, `positive`},
		{"triggeredAt zero", `{"event":"candidateHired","triggeredAt":0}`, ErrMalformed, `positive`},
		{"triggeredAt overflow", `{"event":"candidateHired","triggeredAt":99999999999999999999}`, ErrMalformed, `"triggeredAt"`},
		{"token number", `{"event":"candidateHired","triggeredAt":1,"token":5}`, ErrMalformed, `"token" must be a string, got a number`},
		{"signature object", `{"event":"candidateHired","triggeredAt":1,"signature":{}}`, ErrMalformed, `"signature" must be a string, got an object`},
		{"id bool", `{"event":"candidateHired","triggeredAt":1,"id":true}`, ErrMalformed, `"id" must be a string, got a boolean`},
		{"data array", `{"event":"candidateHired","triggeredAt":1,"data":[]}`, ErrMalformed, `"data" must be an object, got an array`},
		{"data string", `{"event":"candidateHired","triggeredAt":1,"data":"x"}`, ErrMalformed, `"data" must be an object, got a string`},
		{"one byte too large", bodyOfSize(MaxWebhookBody + 1), ErrTooLarge, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := ParseLeverWebhook([]byte(tt.body))
			if !errors.Is(err, tt.want) || ev != nil {
				t.Fatalf("got %v, %v; want %v", ev, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

func TestParseLenient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, data string
		test             bool
	}{
		// Lever's example deliveries have no id; its test delivery has
		// empty data.
		{"no id", `{"event":"contactUpdated","triggeredAt":1,"token":"t","signature":"s","data":{"contactId":"c"}}`, `{"contactId":"c"}`, false},
		{"test delivery", `{"event":"candidateHired","triggeredAt":1,"token":"t","signature":"s","data":{}}`, `{}`, true},
		{"no data", `{"event":"candidateHired","triggeredAt":1}`, `{}`, true},
		{"null data and fields", `{"event":"candidateHired","triggeredAt":1,"id":null,"token":null,"signature":null,"data":null}`, `{}`, true},
		{"unknown fields", `{"event":"candidateHired","triggeredAt":1,"later":{"x":[1]},"data":{"opportunityId":"o"}}`, `{"opportunityId":"o"}`, false},
		{"exactly the limit", bodyOfSize(MaxWebhookBody), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := ParseLeverWebhook([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.data != "" && string(ev.Data) != tt.data {
				t.Errorf("Data = %s, want %s", ev.Data, tt.data)
			}
			if ev.IsTest() != tt.test {
				t.Errorf("IsTest = %v", ev.IsTest())
			}
		})
	}
}

// bodyOfSize returns a valid delivery of exactly n bytes.
func bodyOfSize(n int) string {
	const head, tail = `{"event":"candidateHired","triggeredAt":1,"data":{"x":"`, `"}}`
	return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
}

func TestVerifyTampered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(ev *LeverEvent)
		key    string
		want   []error
	}{
		{"fixture", func(*LeverEvent) {}, fixtureSignatureToken, nil},
		{"uppercase hex", func(ev *LeverEvent) { ev.Signature = strings.ToUpper(ev.Signature) }, fixtureSignatureToken, nil},
		{"data is not signed", func(ev *LeverEvent) { ev.Data = json.RawMessage(`{"opportunityId":"x"}`) }, fixtureSignatureToken, nil},
		{"other key", func(*LeverEvent) {}, "another-token", []error{ErrBadSignature}},
		{"token changed", func(ev *LeverEvent) { ev.Token = "X" + ev.Token[1:] }, fixtureSignatureToken, []error{ErrBadSignature}},
		{"triggeredAt changed", func(ev *LeverEvent) { ev.TriggeredAt++ }, fixtureSignatureToken, []error{ErrBadSignature}},
		{"signature changed", func(ev *LeverEvent) {
			b := []byte(ev.Signature)
			b[10] ^= 1
			ev.Signature = string(b)
		}, fixtureSignatureToken, []error{ErrBadSignature}},
		{"signature truncated", func(ev *LeverEvent) { ev.Signature = ev.Signature[:62] }, fixtureSignatureToken, []error{ErrBadSignature}},
		{"signature not hex", func(ev *LeverEvent) { ev.Signature = "zz" + ev.Signature[2:] }, fixtureSignatureToken, []error{ErrBadSignature}},
		{"no signature", func(ev *LeverEvent) { ev.Signature = "" }, fixtureSignatureToken, []error{ErrBadSignature}},
		{"no token", func(ev *LeverEvent) { ev.Token = "" }, fixtureSignatureToken, []error{ErrBadSignature}},
		{"no signature token", func(*LeverEvent) {}, "", []error{ErrBadSignature, ErrNoSignatureToken}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := parseFixture(t, "webhook_candidate_stage_change.json")
			tt.change(ev)
			err := VerifyLeverSignature(ev, tt.key)
			if len(tt.want) == 0 && err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if len(tt.want) > 0 && err == nil {
				t.Fatal("a tampered delivery verified")
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("error %v is not %v", err, w)
				}
			}
		})
	}
	if err := VerifyLeverSignature(nil, fixtureSignatureToken); !errors.Is(err, ErrBadSignature) {
		t.Errorf("nil event: %v", err)
	}
}

// TestVerifyParsedTamper edits the body itself, as an attacker would.
func TestVerifyParsedTamper(t *testing.T) {
	t.Parallel()
	body := string(readFixture(t, "webhook_candidate_stage_change.json"))
	tests := []struct {
		name, old, new string
		ok             bool
	}{
		{"unchanged", "", "", true},
		{"token", `"5d1f9c3b`, `"6d1f9c3b`, false},
		{"triggeredAt", `1747832698412`, `1747832698413`, false},
		{"triggeredAt with exponent", `1747832698412`, `1.747832698412e12`, false},
		{"signature", `"d499e671`, `"d499e672`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := ParseLeverWebhook([]byte(strings.Replace(body, tt.old, tt.new, 1)))
			if err == nil {
				err = VerifyLeverSignature(ev, fixtureSignatureToken)
			}
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestCheckFreshness(t *testing.T) {
	t.Parallel()
	at := time.UnixMilli(1747832698412)
	ev := &LeverEvent{TriggeredAt: at.UnixMilli()}
	tests := []struct {
		name   string
		now    time.Time
		window time.Duration
		stale  bool
	}{
		{"same instant", at, time.Minute, false},
		{"past at the bound", at.Add(time.Minute), time.Minute, false},
		{"past beyond the bound", at.Add(time.Minute + time.Millisecond), time.Minute, true},
		{"future at the bound", at.Add(-time.Minute), time.Minute, false},
		{"future beyond the bound", at.Add(-time.Minute - time.Millisecond), time.Minute, true},
		{"default: last sandbox retry (31s)", at.Add(31 * time.Second), 0, false},
		{"default: one hour old", at.Add(DefaultMaxAge), 0, false},
		{"default: older than an hour", at.Add(DefaultMaxAge + time.Millisecond), 0, true},
		{"default: a day old", at.Add(24 * time.Hour), 0, true},
		{"default: 5 minutes ahead", at.Add(-DefaultMaxSkew), 0, false},
		{"default: more than 5 minutes ahead", at.Add(-DefaultMaxSkew - time.Millisecond), 0, true},
		{"default: 30 minutes ahead", at.Add(-30 * time.Minute), -1, true},
		{"other time zone", at.In(time.FixedZone("X", 5*3600)), time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckFreshness(ev, tt.now, tt.window)
			if tt.stale != errors.Is(err, ErrStale) || (!tt.stale && err != nil) {
				t.Errorf("CheckFreshness = %v, want stale=%v", err, tt.stale)
			}
		})
	}
	if err := CheckFreshness(nil, at, 0); !errors.Is(err, ErrStale) {
		t.Errorf("nil event: %v", err)
	}
	err := CheckFreshness(ev, at.Add(2*time.Hour), 0)
	if err == nil || !strings.Contains(err.Error(), "2h0m0s ago") || !strings.Contains(err.Error(), "1h0m0s") {
		t.Errorf("message: %v", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	body := readFixture(b, "webhook_candidate_stage_change.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		ev, err := ParseLeverWebhook(body)
		if err != nil {
			b.Fatal(err)
		}
		if err := VerifyLeverSignature(ev, fixtureSignatureToken); err != nil {
			b.Fatal(err)
		}
	}
}
