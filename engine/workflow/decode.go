package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Problem is one thing wrong with a workflow document: where (a JSON path
// such as "steps[2].input.opportunity_id"; empty for the document as a
// whole) and what, in words that say how to fix it.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// String returns "path: message", or the message alone when the path is
// empty.
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Decode reads a workflow document strictly. Malformed JSON gives one
// problem whose message starts with "line L, column C: "; otherwise every
// unknown field (with a did-you-mean), duplicate field and value of the
// wrong JSON type is reported at its path, all at once. The workflow is nil
// when there are problems. Decode does not validate the workflow: see
// Validate, and Parse, which also validates a document that has decode
// problems.
func Decode(data []byte) (*Workflow, []Problem) {
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		return nil, []Problem{syntaxProblem(data, err)}
	}
	d := strictWalk(data)
	if len(d.problems) > 0 {
		return nil, d.problems
	}
	var w Workflow
	if err := json.Unmarshal(data, &w); err != nil {
		// The walk above accepts only what unmarshals; this is a safety net.
		return nil, []Problem{{Message: "reading the workflow: " + err.Error()}}
	}
	return &w, nil
}

// strictWalk walks a syntactically valid document against workflowShape.
func strictWalk(data []byte) *strictDecoder {
	d := &strictDecoder{dec: json.NewDecoder(bytes.NewReader(data))}
	d.dec.UseNumber()
	d.value(workflowShape, "")
	return d
}

// decodeLenient reads what it can of a syntactically valid document:
// unknown fields are ignored and values of the wrong JSON type left out
// (at their zero value). It returns nil when even that fails.
func decodeLenient(data []byte) *Workflow {
	var w Workflow
	if err := json.Unmarshal(data, &w); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return nil
		}
	}
	return &w
}

// Encode writes the canonical form of a workflow: two-space indentation,
// fields in struct order, step inputs as decoded (re-indented), no HTML
// escaping (so "<<" stays readable) and a trailing newline. Decode then
// Encode of a canonical document gives the same bytes.
func Encode(w *Workflow) ([]byte, error) {
	c := *w
	if c.Steps == nil {
		c.Steps = []Step{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&c); err != nil {
		return nil, fmt.Errorf("encoding workflow %q: %w", w.Name, err)
	}
	return buf.Bytes(), nil
}

// syntaxProblem turns a JSON syntax error into a problem with a line and
// column (1-based, columns counted in characters).
func syntaxProblem(data []byte, err error) Problem {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return Problem{Message: "reading the workflow: " + err.Error()}
	}
	pos := int(se.Offset) - 1 // the offending byte
	msg := se.Error()
	eof := strings.Contains(msg, "unexpected end of JSON input")
	if eof || pos < 0 {
		pos = len(data)
	}
	if pos > len(data) {
		pos = len(data)
	}
	line := 1 + bytes.Count(data[:pos], []byte("\n"))
	col := 1 + utf8.RuneCount(data[bytes.LastIndexByte(data[:pos], '\n')+1:pos])
	switch {
	case eof && len(bytes.TrimSpace(data)) == 0:
		msg = "the document is empty: a workflow is a JSON object such as {\"name\": ..., \"trigger\": ..., \"steps\": [...]}"
	case eof:
		msg += ": the document ends early; close every open \"{\", \"[\" and string"
	case strings.HasPrefix(msg, "invalid character '}' looking for beginning of object key string"):
		msg += ": remove the trailing comma before \"}\""
	case strings.HasPrefix(msg, "invalid character ']' looking for beginning of value"):
		msg += ": remove the trailing comma before \"]\""
	case strings.Contains(msg, "after object key:value pair") || strings.Contains(msg, "after array element"):
		msg += ": a comma is probably missing before it"
	case strings.Contains(msg, "looking for beginning of object key string"):
		msg += ": object keys must be double-quoted strings"
	case strings.Contains(msg, "after top-level value"):
		msg += ": the document must hold exactly one JSON object"
	}
	return Problem{Message: fmt.Sprintf("line %d, column %d: %s", line, col, msg)}
}

// jsonKind is what the strict decoder expects at a place in the document.
type jsonKind int

const (
	kindAny     jsonKind = iota // any JSON value (step input)
	kindMap                     // an object with any fields (vars)
	kindString                  // a string
	kindInteger                 // an integer number
	kindNumber                  // any number
	kindObject                  // an object with the listed fields only
	kindArray                   // an array of elem
	kindBool                    // true or false
)

type docShape struct {
	kind   jsonKind
	fields []docField
	elem   *docShape
	// positive marks an integer that must not be zero (retry.max_attempts:
	// zero would silently mean the default).
	positive string
}

type docField struct {
	name  string
	shape *docShape
}

func (s *docShape) field(name string) (*docShape, bool) {
	for _, f := range s.fields {
		if f.name == name {
			return f.shape, true
		}
	}
	return nil, false
}

func (s *docShape) names() []string {
	out := make([]string, len(s.fields))
	for i, f := range s.fields {
		out[i] = f.name
	}
	return out
}

// workflowShape mirrors the JSON of Workflow; keep it in step with the
// struct tags (TestShapeMatchesStructs checks).
var workflowShape = func() *docShape {
	str := &docShape{kind: kindString}
	edge := &docShape{kind: kindObject, fields: []docField{{"from", str}, {"to", str}, {"branch", str}}}
	edges := &docShape{kind: kindArray, elem: edge}
	retry := &docShape{kind: kindObject, fields: []docField{
		{"max_attempts", &docShape{kind: kindInteger, positive: "must be between 1 and 100 (1 means no retries), got 0; leave it out for the default of 3"}},
		{"backoff", str}, {"initial", str}, {"max", str},
	}}
	num := &docShape{kind: kindNumber}
	position := &docShape{kind: kindObject, fields: []docField{{"x", num}, {"y", num}}}
	step := &docShape{kind: kindObject}
	stepList := &docShape{kind: kindArray, elem: step}
	step.fields = []docField{
		{"id", str}, {"type", str}, {"name", str}, {"connection", str},
		{"input", &docShape{kind: kindAny}}, {"retry", retry}, {"timeout", str},
		{"on_error", str}, {"steps", stepList}, {"edges", edges}, {"position", position},
	}
	integer := &docShape{kind: kindInteger}
	trigger := &docShape{kind: kindObject, fields: []docField{
		{"type", str}, {"connection", str}, {"cron", str}, {"timezone", str},
		{"overlap", str}, {"catch_up", str}, {"catch_up_max", integer}, {"poll_interval", str},
	}}
	concurrency := &docShape{kind: kindObject, fields: []docField{{"limit", integer}, {"key", str}}}
	onFailure := &docShape{kind: kindObject, fields: []docField{{"workflow", str}, {"webhook", str}}}
	return &docShape{kind: kindObject, fields: []docField{
		{"name", str}, {"description", str}, {"trigger", trigger},
		{"vars", &docShape{kind: kindMap}}, {"timeout", str},
		{"concurrency", concurrency}, {"retention", str}, {"redact_pii", &docShape{kind: kindBool}},
		{"on_failure", onFailure},
		{"steps", stepList}, {"edges", edges},
	}}
}()

// strictDecoder walks the tokens of a syntactically valid document against
// a docShape, collecting problems.
type strictDecoder struct {
	dec      *json.Decoder
	problems []Problem
	broken   bool
	// unread are the paths whose values a lenient decode leaves out or
	// cannot trust: values of the wrong type, and a field that is absent
	// but whose name a misspelt field was probably meant to be ("stepz"
	// for "steps").
	unread []string
	// inAny is set inside a free-form value, whose path is anyRoot.
	inAny   bool
	anyRoot string
}

func (d *strictDecoder) add(path, format string, args ...any) {
	d.problems = append(d.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (d *strictDecoder) token() (json.Token, bool) {
	if d.broken {
		return nil, false
	}
	tok, err := d.dec.Token()
	if err != nil {
		d.broken = true
		d.add("", "reading the workflow: %v", err)
		return nil, false
	}
	return tok, true
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// value reads one value expected to have shape s.
func (d *strictDecoder) value(s *docShape, path string) {
	if (s.kind == kindAny || s.kind == kindMap) && !d.inAny {
		// A free-form value (a step's input, vars) decodes as a whole or
		// not at all.
		d.inAny, d.anyRoot = true, path
		defer func() { d.inAny = false }()
	}
	tok, ok := d.token()
	if !ok {
		return
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch {
		case tok == '{' && s.kind == kindObject:
			d.object(s, path)
		case tok == '{' && (s.kind == kindMap || s.kind == kindAny):
			d.anyObject(path, true)
		case tok == '[' && s.kind == kindArray:
			for i := 0; d.dec.More() && !d.broken; i++ {
				d.value(s.elem, joinIndex(path, i))
			}
			d.token() // ']'
		case tok == '[' && s.kind == kindAny:
			d.anyArray(path, true)
		default:
			d.wrongType(s, path, tok)
			if tok == '{' {
				d.anyObject(path, false)
			} else {
				d.anyArray(path, false)
			}
		}
	case json.Number:
		switch s.kind {
		case kindAny, kindNumber:
			if _, err := tok.Float64(); err != nil {
				if d.inAny {
					d.unread = append(d.unread, d.anyRoot)
				} else {
					d.unread = append(d.unread, path)
				}
				d.add(path, "the number %s is out of range", tok)
			}
		case kindInteger:
			n, err := strconv.ParseInt(string(tok), 10, 64)
			switch {
			case err != nil:
				d.unread = append(d.unread, path)
				d.add(path, "must be an integer, got %s", tok)
			case n == 0 && s.positive != "":
				d.add(path, "%s", s.positive)
			}
		default:
			d.wrongType(s, path, tok)
		}
	case string:
		if s.kind != kindString && s.kind != kindAny {
			d.wrongType(s, path, tok)
		}
	case bool:
		if s.kind != kindAny && s.kind != kindBool {
			d.wrongType(s, path, tok)
		}
	case nil:
		if s.kind != kindAny {
			d.wrongType(s, path, tok)
		}
	}
}

// object reads the fields of an object after its '{'.
func (d *strictDecoder) object(s *docShape, path string) {
	seen := map[string]bool{}
	var meant []string
	defer func() {
		for _, m := range meant {
			if !seen[m] {
				d.unread = append(d.unread, joinKey(path, m))
			}
		}
	}()
	for d.dec.More() && !d.broken {
		tok, ok := d.token()
		if !ok {
			return
		}
		key, _ := tok.(string)
		fpath := joinKey(path, key)
		if seen[key] {
			d.add(fpath, "duplicate field %q; keep only one", key)
		}
		seen[key] = true
		fs, known := s.field(key)
		if !known {
			msg := fmt.Sprintf("unknown field %q", key)
			if sug := suggest(key, s.names()); sug != "" {
				msg += fmt.Sprintf("; did you mean %q?", sug)
				meant = append(meant, sug)
			} else {
				msg += "; known fields: " + strings.Join(s.names(), ", ")
			}
			d.add(fpath, "%s", msg)
			d.skip()
			continue
		}
		d.value(fs, fpath)
	}
	d.token() // '}'
}

// anyObject reads an object of any fields after its '{', reporting
// duplicate keys when check is set.
func (d *strictDecoder) anyObject(path string, check bool) {
	seen := map[string]bool{}
	for d.dec.More() && !d.broken {
		tok, ok := d.token()
		if !ok {
			return
		}
		key, _ := tok.(string)
		fpath := joinKey(path, key)
		if check && seen[key] {
			d.add(fpath, "duplicate field %q; keep only one", key)
		}
		seen[key] = true
		if check {
			d.value(&docShape{kind: kindAny}, fpath)
		} else {
			d.skip()
		}
	}
	d.token() // '}'
}

func (d *strictDecoder) anyArray(path string, check bool) {
	for i := 0; d.dec.More() && !d.broken; i++ {
		if check {
			d.value(&docShape{kind: kindAny}, joinIndex(path, i))
		} else {
			d.skip()
		}
	}
	d.token() // ']'
}

// skip reads one value without looking at it.
func (d *strictDecoder) skip() {
	depth := 0
	for {
		tok, ok := d.token()
		if !ok {
			return
		}
		if delim, isDelim := tok.(json.Delim); isDelim {
			if delim == '{' || delim == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return
		}
	}
}

func (d *strictDecoder) wrongType(s *docShape, path string, got json.Token) {
	d.unread = append(d.unread, path)
	want := map[jsonKind]string{
		kindMap:     "an object",
		kindString:  "a string",
		kindInteger: "an integer",
		kindBool:    "true or false",
		kindNumber:  "a number",
		kindObject:  "an object",
		kindArray:   "an array",
	}[s.kind]
	if path == "" {
		d.add(path, "a workflow must be a JSON object such as {\"name\": ..., \"trigger\": ..., \"steps\": [...]}, got %s", tokenKind(got))
		return
	}
	d.add(path, "must be %s, got %s", want, tokenKind(got))
}

func tokenKind(tok json.Token) string {
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '{' {
			return "object"
		}
		return "array"
	case json.Number, float64:
		return "number"
	case string:
		return "string"
	case bool:
		return "boolean"
	default:
		return "null"
	}
}

// suggest returns the candidate closest to name, or "" when none is close
// enough to be what was meant.
func suggest(name string, candidates []string) string {
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "").Replace(s))
	}
	n := norm(name)
	if n == "" {
		return ""
	}
	for _, c := range candidates {
		if norm(c) == n || strings.HasSuffix(c, "."+name) {
			return c
		}
	}
	best, bestDist := "", -1
	limit := max(1, (utf8.RuneCountInString(name)+2)/4)
	for _, c := range candidates {
		dist := editDistance(strings.ToLower(name), strings.ToLower(c))
		if dist <= limit && (bestDist < 0 || dist < bestDist) {
			best, bestDist = c, dist
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and transpositions of neighbours each cost one.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 256 || len(rb) > 256 {
		if a == b {
			return 0
		}
		return max(len(ra), len(rb))
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
