package templating

import (
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/expr-lang/expr/file"
)

// Template is a compiled JSON value: every string holding references
// parsed and its expressions compiled. Safe for concurrent use.
type Template struct {
	root node
	refs []ref
	errs []*SyntaxError
}

// Ref is one reference in a template.
type Ref struct {
	// Path is where in the value the reference sits: "" for the root,
	// "opportunity_id", "tags[1]", "a.b[0].c"; keys that are not
	// identifiers are quoted: `headers["x y"]`.
	Path string
	// Expr is the expression text, trimmed.
	Expr string
	// Roots are the free identifiers the expression uses, sorted: "steps",
	// "trigger", or an unknown root. Builtins, predicate variables (#,
	// #index) and let-bound names are not roots.
	Roots []string
	// Steps are the step ids it reads (steps.X, steps["X"], steps?.X),
	// sorted.
	Steps []string
}

type ref struct {
	path string
	c    *compiled
}

// maxHint bounds the buffer a text node preallocates from past renders.
const maxHint = 4096

type kind uint8

const (
	kindLiteral kind = iota // a scalar, returned as is
	kindStatic              // an object or list without references, copied
	kindObject
	kindList
	kindRef     // a string that is exactly one reference
	kindText    // a string with references inside text
	kindInvalid // a string with a syntax error (Compile returned an error)
)

type node struct {
	kind  kind
	path  string
	value any      // kindLiteral, kindStatic
	keys  []string // kindObject
	kids  []node   // kindObject, kindList
	ref   *compiled
	parts []part        // kindText
	size  int           // kindText: bytes of literal text
	hint  *atomic.Int64 // kindText: the longest text rendered so far
	err   *SyntaxError
}

// part is literal text or a reference of an interpolated string.
type part struct {
	lit string
	ref *compiled
}

// Compile parses every string in value (decoded JSON: map[string]any,
// []any, string, float64, json.Number, bool, nil) and compiles the
// expressions of its references. Object keys are not templated. Other Go
// values are kept as opaque literals.
//
// Errors are a *SyntaxError, or errors.Join of several, naming the path,
// the expression and the position. Even then the returned Template is not
// nil: Check reports its syntax errors along with every other problem, and
// Render fails on the strings that did not compile.
func Compile(value any) (*Template, error) {
	t := &Template{}
	t.root = t.compile(value, "")
	switch len(t.errs) {
	case 0:
		return t, nil
	case 1:
		return t, t.errs[0]
	}
	errs := make([]error, len(t.errs))
	for i, e := range t.errs {
		errs[i] = e
	}
	return t, errors.Join(errs...)
}

// CompileString is Compile for one string.
func CompileString(s string) (*Template, error) {
	return Compile(s)
}

func (t *Template) compile(v any, path string) node {
	switch x := v.(type) {
	case string:
		return t.compileString(x, path)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		n := node{kind: kindObject, path: path, keys: keys, kids: make([]node, len(keys))}
		static := true
		for i, k := range keys {
			n.kids[i] = t.compile(x[k], keyPath(path, k))
			static = static && n.kids[i].kind <= kindStatic
		}
		if static {
			return node{kind: kindStatic, path: path, value: deepCopy(x)}
		}
		return n
	case []any:
		n := node{kind: kindList, path: path, kids: make([]node, len(x))}
		static := true
		for i, e := range x {
			n.kids[i] = t.compile(e, path+"["+strconv.Itoa(i)+"]")
			static = static && n.kids[i].kind <= kindStatic
		}
		if static {
			return node{kind: kindStatic, path: path, value: deepCopy(x)}
		}
		return n
	}
	return node{kind: kindLiteral, path: path, value: v}
}

func (t *Template) compileString(s string, path string) node {
	if !strings.Contains(s, "<<") {
		return node{kind: kindLiteral, path: path, value: s}
	}
	segs, whole, serr := split(s)
	if serr != nil {
		e := &SyntaxError{Path: path, Expr: serr.expr, Offset: serr.offset, Reason: serr.reason, source: s}
		t.errs = append(t.errs, e)
		return node{kind: kindInvalid, path: path, err: e}
	}
	var bad *SyntaxError
	parts := make([]part, 0, len(segs))
	size := 0
	for _, sg := range segs {
		if !sg.ref {
			parts = append(parts, part{lit: sg.lit})
			size += len(sg.lit)
			continue
		}
		c := lookup(sg.expr)
		if c.failed {
			e := &SyntaxError{Path: path, Expr: sg.expr, Offset: sg.off + c.errOffset, Reason: c.errReason, source: s}
			t.errs = append(t.errs, e)
			if bad == nil {
				bad = e
			}
			continue
		}
		t.refs = append(t.refs, ref{path: path, c: c})
		parts = append(parts, part{ref: c})
	}
	switch {
	case bad != nil:
		return node{kind: kindInvalid, path: path, err: bad}
	case whole:
		return node{kind: kindRef, path: path, ref: parts[0].ref}
	case !slices.ContainsFunc(parts, func(p part) bool { return p.ref != nil }):
		// Only escapes: a literal with \<< resolved.
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.lit)
		}
		return node{kind: kindLiteral, path: path, value: b.String()}
	}
	return node{kind: kindText, path: path, parts: parts, size: size, hint: new(atomic.Int64)}
}

// keyPath appends key to path: a.b, or a["x y"] for keys that are not
// identifiers.
func keyPath(path, key string) string {
	if isIdent(key) {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// Render evaluates the template against env, whose keys are the roots
// ("trigger", "steps", "item", ...). It returns a fresh value: the
// template's literals are copied, values read from env are not. Errors are
// *RenderError.
func (t *Template) Render(env map[string]any) (any, error) {
	return t.root.render(env)
}

func (n *node) render(env map[string]any) (any, error) {
	switch n.kind {
	case kindLiteral:
		return n.value, nil
	case kindStatic:
		return deepCopy(n.value), nil
	case kindObject:
		m := make(map[string]any, len(n.keys))
		for i := range n.kids {
			if k := &n.kids[i]; k.kind == kindLiteral {
				m[n.keys[i]] = k.value
				continue
			}
			v, err := n.kids[i].render(env)
			if err != nil {
				return nil, err
			}
			m[n.keys[i]] = v
		}
		return m, nil
	case kindList:
		l := make([]any, len(n.kids))
		for i := range n.kids {
			v, err := n.kids[i].render(env)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	case kindRef:
		v, err := n.ref.eval(env)
		if err != nil {
			return nil, renderError(n.path, n.ref.src, err)
		}
		return v, nil
	case kindText:
		var b strings.Builder
		b.Grow(max(int(n.hint.Load()), n.size+16*len(n.parts)))
		for i := range n.parts {
			p := &n.parts[i]
			if p.ref == nil {
				b.WriteString(p.lit)
				continue
			}
			v, err := p.ref.eval(env)
			if err == nil {
				err = appendText(&b, v)
			}
			if err != nil {
				return nil, renderError(n.path, p.ref.src, err)
			}
		}
		if l := int64(b.Len()); l > n.hint.Load() && l <= maxHint {
			n.hint.Store(l)
		}
		return b.String(), nil
	case kindInvalid:
		return nil, &RenderError{Path: n.path, Expr: n.err.Expr, Reason: "syntax error: " + n.err.Reason}
	}
	return nil, nil
}

func renderError(path, expr string, err error) *RenderError {
	reason := err.Error()
	var re *resolveError
	var fe *file.Error
	switch {
	case errors.As(err, &re):
		reason = re.reason
	case errors.As(err, &fe):
		reason = fe.Message
	}
	return &RenderError{Path: path, Expr: expr, Reason: reason}
}

// Refs lists every reference in the template, in order of path (object
// keys sorted) and position.
func (t *Template) Refs() []Ref {
	out := make([]Ref, len(t.refs))
	for i, r := range t.refs {
		out[i] = Ref{Path: r.path, Expr: r.c.src, Roots: slices.Clone(r.c.roots), Steps: slices.Clone(r.c.steps)}
	}
	return out
}

// Static reports whether the template holds no reference at all.
func (t *Template) Static() bool {
	return len(t.refs) == 0 && len(t.errs) == 0
}

// deepCopy copies the objects and lists of a decoded JSON value.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}
