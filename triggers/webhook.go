package triggers

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// MaxWebhookBody is the largest webhook body ParseLeverWebhook accepts.
// Lever's bodies hold only ids and are well under 1 KiB; the HTTP layer caps
// what it reads at the same size.
const MaxWebhookBody = 1 << 20

// The default freshness windows of CheckFreshness (used when it is given a
// window <= 0).
//
// DefaultMaxAge is how old a delivery may be. Lever resends the same body
// (same token, triggeredAt and signature) when a delivery fails, up to 5
// times with growing delays; the delays are not documented. Our sandbox
// retries after 1s, 2s, 4s, 8s and 16s (31 s in all); one hour accepts the
// last retry even if Lever's back-off were a whole order of minutes
// (1+2+4+8+16 = 31 min), while a replay of a captured delivery is still
// refused after an hour (and within it by deduplication on the token, see
// LeverEvent.DedupeKey). A manual "Rerun" from Lever's UI more than an hour
// later is refused as stale: replay it from Leverflow's inbox instead.
//
// DefaultMaxSkew is how far in the future triggeredAt may be: only clock
// skew between Lever and us, so minutes, not hours.
const (
	DefaultMaxAge  = time.Hour
	DefaultMaxSkew = 5 * time.Minute
)

// Errors callers branch on. They are wrapped with the detail (the field, the
// age), so test them with errors.Is.
var (
	// ErrMalformed: the body is not a Lever webhook delivery (not JSON, not
	// an object, a required field missing or of the wrong type). Answer 400.
	ErrMalformed = errors.New("malformed Lever webhook")
	// ErrTooLarge: the body exceeds MaxWebhookBody. Answer 413.
	ErrTooLarge = errors.New("webhook body too large")
	// ErrBadSignature: the signature is missing, not hex, or does not match
	// the webhook's signature token. Answer 401 and start nothing.
	ErrBadSignature = errors.New("bad Lever webhook signature")
	// ErrNoSignatureToken: the connection has no signature token to verify
	// with (a configuration problem). Errors carrying it also match
	// ErrBadSignature, so the delivery is refused either way.
	ErrNoSignatureToken = errors.New("no Lever webhook signature token configured")
	// ErrStale: triggeredAt is outside the freshness window (a replay, or
	// a badly skewed clock). Answer 4xx and start nothing.
	ErrStale = errors.New("stale Lever webhook")
)

// LeverEvent is one decoded Lever webhook delivery.
type LeverEvent struct {
	// ID is Lever's event id. Documented but absent from Lever's example
	// deliveries, so it may be empty; it is not signed.
	ID string
	// Event is Lever's event name, such as "candidateStageChange".
	Event string
	// TriggeredAt is when Lever triggered the event, in Unix milliseconds,
	// kept as an integer because it is part of the signed message.
	TriggeredAt int64
	// Token is the delivery's random token (48 characters), part of the
	// signed message; it stays the same across Lever's retries.
	Token string
	// Signature is the hex HMAC-SHA256 Lever sent.
	Signature string
	// Data is the event's data object as sent ({} when absent or null).
	Data json.RawMessage
	// Raw is a copy of the whole body as received.
	Raw []byte
}

// Time returns TriggeredAt as a UTC time.
func (ev *LeverEvent) Time() time.Time { return time.UnixMilli(ev.TriggeredAt).UTC() }

// DedupeKey is the key the inbox deduplicates deliveries on: the token.
// Lever resends the same token on retries and reruns, and the token (unlike
// the id or the data) is covered by the signature, so a replay cannot dodge
// deduplication by changing it. Scope it by connection.
func (ev *LeverEvent) DedupeKey() string { return ev.Token }

// IsTest reports whether the delivery carries no data, as the delivery
// Lever sends from its webhook settings page to test a URL does
// ("candidateHired" with data {}). Accept it; it starts no run (see Match).
func (ev *LeverEvent) IsTest() bool {
	return len(bytes.TrimSpace(ev.Data)) == 0 || bytes.Equal(compactJSON(ev.Data), []byte("{}"))
}

// ParseLeverWebhook decodes a Lever webhook body:
//
//	{"id", "event", "triggeredAt", "token", "signature", "data"}
//
// event (a non-empty string) and triggeredAt (a positive integer of
// milliseconds) are required. id, token and signature may be absent or
// null but must be strings when present; a missing token or signature is
// left to VerifyLeverSignature to refuse. data must be an object, or absent
// or null (read as {}). Unknown fields are ignored. Errors wrap ErrMalformed
// (naming the field) or ErrTooLarge. The event keeps a copy of body.
func ParseLeverWebhook(body []byte) (*LeverEvent, error) {
	if len(body) > MaxWebhookBody {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(body), MaxWebhookBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: the body is empty", ErrMalformed)
	}
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: the body is not valid UTF-8", ErrMalformed)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("%w: the body must be a JSON object, got %s", ErrMalformed, te.Value)
		}
		return nil, fmt.Errorf("%w: the body is not valid JSON: %v", ErrMalformed, err)
	}
	if fields == nil {
		return nil, fmt.Errorf("%w: the body must be a JSON object, got null", ErrMalformed)
	}
	ev := &LeverEvent{Raw: bytes.Clone(body)}
	var err error
	if ev.Event, err = stringField(fields, "event", true); err != nil {
		return nil, err
	}
	if ev.TriggeredAt, err = millisField(fields, "triggeredAt"); err != nil {
		return nil, err
	}
	if ev.ID, err = stringField(fields, "id", false); err != nil {
		return nil, err
	}
	if ev.Token, err = stringField(fields, "token", false); err != nil {
		return nil, err
	}
	if ev.Signature, err = stringField(fields, "signature", false); err != nil {
		return nil, err
	}
	if ev.Data, err = objectField(fields, "data"); err != nil {
		return nil, err
	}
	return ev, nil
}

func isNull(raw json.RawMessage) bool {
	return raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// jsonKind names the JSON type of a value for error messages.
func jsonKind(raw json.RawMessage) string {
	b := bytes.TrimSpace(raw)
	switch {
	case len(b) == 0:
		return "nothing"
	case b[0] == '"':
		return "a string"
	case b[0] == '{':
		return "an object"
	case b[0] == '[':
		return "an array"
	case b[0] == 't' || b[0] == 'f':
		return "a boolean"
	case b[0] == 'n':
		return "null"
	default:
		return "a number"
	}
}

func stringField(fields map[string]json.RawMessage, name string, required bool) (string, error) {
	raw, ok := fields[name]
	if !ok || isNull(raw) {
		if required {
			return "", fmt.Errorf("%w: %q is missing", ErrMalformed, name)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%w: %q must be a string, got %s", ErrMalformed, name, jsonKind(raw))
	}
	if required && s == "" {
		return "", fmt.Errorf("%w: %q is empty", ErrMalformed, name)
	}
	return s, nil
}

// millisField reads a positive integer of milliseconds. It is parsed from
// the JSON text, never through float64, which would lose digits and change
// the decimal form the signature covers.
func millisField(fields map[string]json.RawMessage, name string) (int64, error) {
	raw, ok := fields[name]
	if !ok || isNull(raw) {
		return 0, fmt.Errorf("%w: %q is missing", ErrMalformed, name)
	}
	if kind := jsonKind(raw); kind != "a number" {
		return 0, fmt.Errorf("%w: %q must be an integer of Unix milliseconds, got %s", ErrMalformed, name, kind)
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q must be an integer of Unix milliseconds, got %s", ErrMalformed, name, bytes.TrimSpace(raw))
	}
	if n <= 0 {
		return 0, fmt.Errorf("%w: %q must be a positive number of Unix milliseconds, got %d", ErrMalformed, name, n)
	}
	return n, nil
}

func objectField(fields map[string]json.RawMessage, name string) (json.RawMessage, error) {
	raw, ok := fields[name]
	if !ok || isNull(raw) {
		return json.RawMessage("{}"), nil
	}
	if kind := jsonKind(raw); kind != "an object" {
		return nil, fmt.Errorf("%w: %q must be an object, got %s", ErrMalformed, name, kind)
	}
	return bytes.Clone(raw), nil
}

func compactJSON(raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// LeverSignature returns the signature Lever computes for a delivery:
// lowercase hex(HMAC-SHA256(key=signatureToken, msg=token + triggeredAt in
// decimal)). Only token and triggeredAt are signed, never data.
func LeverSignature(signatureToken, token string, triggeredAt int64) string {
	return hex.EncodeToString(leverMAC(signatureToken, token, triggeredAt))
}

func leverMAC(signatureToken, token string, triggeredAt int64) []byte {
	m := hmac.New(sha256.New, []byte(signatureToken))
	m.Write([]byte(token))
	m.Write(strconv.AppendInt(nil, triggeredAt, 10))
	return m.Sum(nil)
}

// VerifyLeverSignature checks ev.Signature against signatureToken, the
// token Lever returned when the webhook was registered
// (configuration.signatureToken), in constant time. It returns nil when the
// signature matches and otherwise an error wrapping ErrBadSignature (and
// ErrNoSignatureToken when signatureToken is empty).
//
// The signature covers token and triggeredAt only: data, event and id are
// not authenticated. Check freshness (CheckFreshness), deduplicate on the
// token (LeverEvent.DedupeKey), and read the current state from Lever
// rather than trusting data beyond the ids.
func VerifyLeverSignature(ev *LeverEvent, signatureToken string) error {
	switch {
	case signatureToken == "":
		return fmt.Errorf("%w: %w", ErrBadSignature, ErrNoSignatureToken)
	case ev == nil:
		return fmt.Errorf("%w: no event", ErrBadSignature)
	case ev.Signature == "":
		return fmt.Errorf("%w: the delivery has no signature", ErrBadSignature)
	case ev.Token == "":
		return fmt.Errorf("%w: the delivery has no token", ErrBadSignature)
	}
	got, err := hex.DecodeString(ev.Signature)
	if err != nil {
		return fmt.Errorf("%w: the signature is not hex", ErrBadSignature)
	}
	if !hmac.Equal(got, leverMAC(signatureToken, ev.Token, ev.TriggeredAt)) {
		return fmt.Errorf("%w: it does not match the webhook's signature token (was the webhook registered again, with a new token?)", ErrBadSignature)
	}
	return nil
}

// CheckFreshness returns an error wrapping ErrStale when ev.TriggeredAt is
// more than window before or after now; the bounds themselves are
// accepted. A window <= 0 means the defaults: DefaultMaxAge into the past
// (room for Lever's retries) and DefaultMaxSkew into the future (clock
// skew only).
func CheckFreshness(ev *LeverEvent, now time.Time, window time.Duration) error {
	if ev == nil {
		return fmt.Errorf("%w: no event", ErrStale)
	}
	maxAge, maxSkew := window, window
	if window <= 0 {
		maxAge, maxSkew = DefaultMaxAge, DefaultMaxSkew
	}
	at := ev.Time()
	switch age := now.Sub(at); {
	case age > maxAge:
		return fmt.Errorf("%w: triggered at %s, %s ago; at most %s is accepted", ErrStale, at.Format(time.RFC3339), age.Round(time.Millisecond), maxAge)
	case -age > maxSkew:
		return fmt.Errorf("%w: triggered at %s, %s in the future; at most %s of clock skew is accepted", ErrStale, at.Format(time.RFC3339), (-age).Round(time.Millisecond), maxSkew)
	}
	return nil
}
