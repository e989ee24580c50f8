package templating

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// RenderError is a reference that could not be resolved at run time. The
// engine adds the step id.
type RenderError struct {
	Path   string // where in the input: "" for the root, "tags[1]", "a.b[0].c"
	Expr   string // the expression, trimmed
	Reason string // what went wrong, for a user to act on
}

func (e *RenderError) Error() string {
	return inputPrefix(e.Path) + ": <<" + e.Expr + ">>: " + e.Reason
}

// SyntaxError is a reference that does not parse or compile.
type SyntaxError struct {
	Path   string // where in the input
	Expr   string // the expression, trimmed (what follows "<<" when unclosed)
	Offset int    // byte offset of the problem in the templated string
	Reason string

	source string // the templated string, for the snippet
}

// Error names the path and the expression and shows a caret under the
// problem, like expr's file errors:
//
//	input greeting: <<trigger.>>: unexpected end of expression (1:17)
//	 | Hello <<trigger.>>
//	 | ................^
func (e *SyntaxError) Error() string {
	var b strings.Builder
	b.WriteString(inputPrefix(e.Path))
	b.WriteString(": <<")
	b.WriteString(e.Expr)
	b.WriteString(">>: ")
	b.WriteString(e.Reason)
	if e.source == "" || e.Offset < 0 || e.Offset > len(e.source) {
		return b.String()
	}
	line, col, text := position(e.source, e.Offset)
	fmt.Fprintf(&b, " (%d:%d)\n | ", line, col+1)
	b.WriteString(strings.ReplaceAll(text, "\t", " "))
	b.WriteString("\n | ")
	b.WriteString(strings.Repeat(".", col))
	b.WriteString("^")
	return b.String()
}

// position returns the 1-based line, the 0-based column in runes and the
// text of the line holding byte offset off of s.
func position(s string, off int) (line, col int, text string) {
	start := strings.LastIndexByte(s[:off], '\n') + 1
	end := strings.IndexByte(s[off:], '\n')
	if end < 0 {
		end = len(s)
	} else {
		end += off
	}
	return strings.Count(s[:off], "\n") + 1, utf8.RuneCountInString(s[start:off]), s[start:end]
}

func inputPrefix(path string) string {
	if path == "" {
		return "input"
	}
	return "input " + path
}

// Problem is one thing wrong with a template found by Check.
type Problem struct {
	Path    string // where in the input, as in Ref.Path
	Message string // the expression and what is wrong with it
}

func (p Problem) String() string { return inputPrefix(p.Path) + ": " + p.Message }

// resolveError is a reference that cannot resolve; the VM wraps it.
type resolveError struct {
	kind   failure
	reason string
}

// failure is what kind of thing made a reference fail.
type failure uint8

const (
	otherFailure failure = iota
	missingKey           // an object without the key
	outOfRange           // a list index past either end
	nullValue            // reading from null
	wrongType            // a field of a list or scalar, an index of an object
)

func (e *resolveError) Error() string { return e.reason }

func missing(format string, args ...any) *resolveError {
	return &resolveError{kind: missingKey, reason: fmt.Sprintf(format, args...)}
}

// describe names the kind of a value for a message: "a string", "null".
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("a %T", v)
}

// missingField is the reason for reading a key obj does not have.
func missingField(desc, key string, keys []string) *resolveError {
	if desc == "steps" {
		sort.Strings(keys)
		if s := suggest(key, keys); s != "" {
			return missing("no step %q has output here; %s (known: %s)", key, s, strings.Join(keys, ", "))
		}
		return missing("no step %q has output here (known: %s)", key, strings.Join(keys, ", "))
	}
	if s := suggest(key, keys); s != "" {
		return missing("no field %q in %s; %s", key, desc, s)
	}
	return missing("no field %q in %s", key, desc)
}

// unknownRoot is the reason for a root the env does not hold.
func unknownRoot(name string, known []string) string {
	sort.Strings(known)
	msg := fmt.Sprintf("unknown root %q", name)
	if s := suggest(name, known); s != "" {
		msg += "; " + s
	}
	return msg + " (known: " + strings.Join(known, ", ") + ")"
}

// suggest returns `did you mean "a" or "b"?` for the candidates close to
// name (Levenshtein distance <= 2 or a common prefix), up to 3, or "".
func suggest(name string, candidates []string) string {
	type scored struct {
		s string
		d int
	}
	var close []scored
	lname := strings.ToLower(name)
	for _, c := range candidates {
		if c == name {
			continue
		}
		lc := strings.ToLower(c)
		d := levenshtein(lname, lc)
		ok := d <= 2 && d < utf8.RuneCountInString(name)
		if !ok {
			p := commonPrefix(lname, lc)
			ok = p >= 3 || (p >= 2 && (p == len(lname) || p == len(lc)))
		}
		if ok {
			close = append(close, scored{c, d})
		}
	}
	if len(close) == 0 {
		return ""
	}
	sort.Slice(close, func(i, j int) bool {
		if close[i].d != close[j].d {
			return close[i].d < close[j].d
		}
		return close[i].s < close[j].s
	})
	if len(close) > 3 {
		close = close[:3]
	}
	quoted := make([]string, len(close))
	for i, c := range close {
		quoted[i] = fmt.Sprintf("%q", c.s)
	}
	if len(quoted) == 1 {
		return "did you mean " + quoted[0] + "?"
	}
	return "did you mean " + strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1] + "?"
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
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
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
