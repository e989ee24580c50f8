package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
)

// Redacted is what a redacted value is stored as.
const Redacted = "[redacted]"

// hasSensitive reports whether the schema marks a value sensitive, at any
// depth of its properties and items.
func hasSensitive(s *steps.Schema) bool {
	if s == nil {
		return false
	}
	if s.Sensitive {
		return true
	}
	for _, p := range s.Properties {
		if hasSensitive(p) {
			return true
		}
	}
	return hasSensitive(s.Items)
}

// redactSensitive returns v with the values its schema marks sensitive
// replaced by Redacted: properties of objects and items of lists, at any
// depth. v is not changed: what holds a redacted value is copied.
func redactSensitive(v any, s *steps.Schema) any {
	if s == nil {
		return v
	}
	if s.Sensitive {
		return Redacted
	}
	switch x := v.(type) {
	case map[string]any:
		if len(s.Properties) == 0 {
			return v
		}
		out := make(map[string]any, len(x))
		for k, val := range x {
			if p := s.Properties[k]; p != nil {
				val = redactSensitive(val, p)
			}
			out[k] = val
		}
		return out
	case []any:
		if s.Items == nil {
			return v
		}
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = redactSensitive(val, s.Items)
		}
		return out
	}
	return v
}

// piiFields are the field names (lowercased, without "_" and "-") whose
// values redactPII replaces whole: people's names, and the emails and
// phones of Lever's contacts and opportunities.
var piiFields = map[string]bool{
	"name": true, "firstname": true, "lastname": true, "fullname": true,
	"preferredname": true, "candidatename": true, "contactname": true,
	"email": true, "emails": true, "emailaddress": true,
	"phone": true, "phones": true, "phonenumber": true,
}

// isPIIField reports whether a field of that name holds PII.
func isPIIField(name string) bool {
	if piiFields[name] {
		return true
	}
	k := strings.Map(func(r rune) rune {
		switch {
		case r == '_' || r == '-':
			return -1
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, name)
	return piiFields[k]
}

var (
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	// phoneRE finds phone-number candidates: international numbers
	// ("+1 415 555 0134", "+44 (0)20 7946 0958", "+14155550134") and
	// North American ones written with separators ("(415) 555-0134",
	// "415-555-0134", "415.555.0134", "415 555 0134"). redactPhones then
	// checks the digit count and the characters around a match, so that
	// ids, dates, times, versions and bare numbers are left alone.
	phoneRE = regexp.MustCompile(`\+\d[\d ().-]{5,22}\d|\(\d{3}\) ?\d{3}[ .-]\d{4}|\d{3}([.-]|\s)\d{3}([.-]|\s)\d{4}`)
)

// redactString replaces the email addresses and phone numbers in s.
func redactString(s string) string {
	if strings.IndexByte(s, '@') >= 0 {
		s = emailRE.ReplaceAllString(s, Redacted)
	}
	if mayHoldPhone(s) {
		s = redactPhones(s)
	}
	return s
}

// mayHoldPhone is a quick test that spares the phone regexp most strings
// (ids, timestamps, words): it reports whether s has a stretch of digits
// and " ().+-" with at least 7 digits and a "+" or a separator.
func mayHoldPhone(s string) bool {
	digits, marked := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits++
			if digits >= 7 && marked {
				return true
			}
		case c == ' ' || c == '(' || c == ')' || c == '.' || c == '-' || c == '+':
			marked = marked || digits > 0 || c == '+' || c == '('
		default:
			digits, marked = 0, false
		}
	}
	return false
}

// redactPhones replaces the phone numbers phoneRE finds in s that have 10
// to 15 digits (7 to 15 after a "+") and stand apart: not inside a longer
// run of letters, digits or the separators of ids and dates.
func redactPhones(s string) string {
	locs := phoneRE.FindAllStringIndex(s, -1)
	if len(locs) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		m := s[l[0]:l[1]]
		digits := 0
		for i := 0; i < len(m); i++ {
			if '0' <= m[i] && m[i] <= '9' {
				digits++
			}
		}
		minDigits := 10
		if m[0] == '+' {
			minDigits = 7
		}
		if digits < minDigits || digits > 15 || joined(s, l[0]-1) || joined(s, l[1]) {
			continue
		}
		b.WriteString(s[last:l[0]])
		b.WriteString(Redacted)
		last = l[1]
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// joined reports whether the byte at i of s (if any) ties a match to the
// text around it: a letter, digit, or one of "-./_:+" (so "ab-415-555-0134"
// or "2024-05-01-415..." are not phone numbers).
func joined(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-./_:+", c) >= 0
}

// redactPII returns a copy of v (decoded JSON) with candidate PII replaced
// by Redacted: the whole value of every field isPIIField names, and email
// addresses and phone numbers anywhere in strings (keys are kept). Numbers
// and booleans are kept.
func redactPII(v any) any {
	switch x := v.(type) {
	case string:
		return redactString(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			if isPIIField(k) && val != nil {
				out[k] = Redacted
				continue
			}
			out[k] = redactPII(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = redactPII(val)
		}
		return out
	}
	return v
}

// redactPIIJSON is redactPII on raw JSON; raw that does not decode is
// replaced whole (it cannot be told safe).
func redactPIIJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return json.RawMessage(`"` + Redacted + `"`)
	}
	out, err := marshalJSON(redactPII(v))
	if err != nil {
		return json.RawMessage(`"` + Redacted + `"`)
	}
	return out
}

// redactRecord returns a copy of a step run with its input and output
// redacted of PII (redactPII) and the emails and phone numbers in its
// error replaced.
func redactRecord(rec *workflow.StepRun) *workflow.StepRun {
	c := rec.Clone()
	c.Input = redactPIIJSON(c.Input)
	c.Output = redactPIIJSON(c.Output)
	c.Error = redactString(c.Error)
	return c
}

// redactFinished redacts the stored data of a run that ended without a
// runner (cancelled while queued or parked), when its workflow version
// asks for it.
func (e *Engine) redactFinished(ctx context.Context, ended *workflow.Run) {
	p, err := e.plans.get(ctx, e.store, e.opts.Steps, ended.WorkflowID, ended.Version)
	if err != nil || !p.wf.RedactPII {
		return
	}
	run, err := e.store.GetRun(ctx, ended.ID)
	if err != nil {
		e.log.Error("redacting a cancelled run", "run_id", ended.ID, "error", err)
		return
	}
	recs := make([]*workflow.StepRun, 0, len(run.Steps))
	for _, rec := range run.Steps {
		recs = append(recs, redactRecord(rec))
	}
	if err := e.store.RedactRun(ctx, run.ID, redactPIIJSON(run.Trigger), recs); err != nil {
		e.log.Error("redacting a cancelled run", "run_id", run.ID, "error", err)
	}
	e.redactEvent(ctx, run)
}

// redactEvent redacts (redactPII) the payload of the inbox event that
// started a finished run of a workflow that redacts PII: the inbox would otherwise keep in clear what the
// run's records no longer hold. It is best effort, after the run's final
// commit: a failure is logged. A replay of that event then replays the
// redacted payload (and so does every other run it routes to, whatever
// their workflows).
func (e *Engine) redactEvent(ctx context.Context, run *workflow.Run) {
	if run.EventID == "" {
		return
	}
	log := e.log.With("run_id", run.ID, "event_id", run.EventID)
	ev, err := e.store.GetEvent(ctx, run.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return // pruned already
	}
	if err != nil {
		log.Error("redacting the inbox event of a finished run", "error", err)
		return
	}
	red := redactPIIJSON(ev.Payload)
	if bytes.Equal(red, ev.Payload) {
		return
	}
	if err := e.store.RedactEventPayload(ctx, ev.ID, red); err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Error("redacting the inbox event of a finished run", "error", err)
	}
}

// onFailure is the workflow's on_failure, nil when it has none (or when
// the plan could not be made).
func (p *plan) onFailure() *workflow.OnFailure {
	if p == nil {
		return nil
	}
	return p.wf.OnFailure
}
