package templating

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm/runtime"
)

// expr-lang's "in" tests membership in a list and key presence in a map,
// but is not defined on strings. References use it as a substring test
// too ('Senior' in steps.opp.headline), so rewrite turns every "in" but
// one over a literal range into a call of inFunc, which adds strings to
// expr's meaning and makes null on the right an error, like every other
// missing value.

// inFunc is the function "in" is rewritten into.
const inFunc = "__leverflow_in"

// inSite describes the two sides of one "in", for messages. It is passed
// to inFunc as a constant.
type inSite struct {
	needle   string // the left side: "'Senior'"
	haystack string // the right side: "steps.opp.headline"
}

// inType is inFunc's signature for expr's checker: any operands, a bool.
var inType = new(func(any, any, *inSite) bool)

// nativeIn reports whether an "in" with right side n is left to expr: a
// literal range (1..10), which expr's optimizer may turn into a bounds
// check. Literal lists are not: expr's optimizer turns a list of string
// literals into a set whose lookup panics on a needle that is not a
// string (3 in ['a']), where membership is simply false. Constant lists
// are folded into constants anyway.
func nativeIn(n ast.Node) bool {
	r, ok := n.(*ast.BinaryNode)
	return ok && r.Operator == ".."
}

// inCall is the call replacing an "in" (left and right already
// rewritten); site describes them as written.
func inCall(left, right ast.Node, site *inSite) ast.Node {
	return &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: inFunc},
		Arguments: []ast.Node{left, right, &ast.ConstantNode{Value: site}},
	}
}

// callIn is inFunc: args are the needle, the haystack and the *inSite.
func callIn(args ...any) (any, error) {
	site, _ := args[2].(*inSite)
	if site == nil {
		site = &inSite{needle: "the left side", haystack: "the right side"}
	}
	found, err := in(args[0], args[1], site)
	if err != nil {
		return nil, err
	}
	return found, nil
}

// in is needle in haystack: a substring of a string, an element of a list
// (expr's equality), a key of an object. Null and scalars on the right,
// and a needle that is not a string on a string or an object, are errors.
func in(needle, haystack any, site *inSite) (bool, *resolveError) {
	switch h := haystack.(type) {
	case string:
		n, ok := needle.(string)
		if !ok {
			return false, inNeedleError(needle, haystack, site)
		}
		return strings.Contains(h, n), nil
	case []any:
		for _, v := range h {
			if runtime.Equal(v, needle) {
				return true, nil
			}
		}
		return false, nil
	case map[string]any:
		k, ok := needle.(string)
		if !ok {
			return false, inNeedleError(needle, haystack, site)
		}
		_, found := h[k]
		return found, nil
	case nil:
		return false, &resolveError{kind: nullValue, reason: fmt.Sprintf(`cannot use "in" on %s: it is null, not a string, a list or an object`, site.haystack)}
	case bool, float64, float32, int, int64, int32, uint, uint64, uint32, uint8:
		return false, inHaystackError(haystack, site)
	}
	return reflectIn(needle, haystack, site)
}

// reflectIn is in for values that are not decoded JSON: named string
// types, then expr's own rules (typed lists and maps, structs, pointers),
// its panics made errors.
func reflectIn(needle, haystack any, site *inSite) (found bool, rerr *resolveError) {
	rv := reflect.ValueOf(haystack)
	switch rv.Kind() {
	case reflect.String:
		n, ok := needle.(string)
		if !ok {
			nv := reflect.ValueOf(needle)
			if nv.Kind() != reflect.String {
				return false, inNeedleError(needle, rv.String(), site)
			}
			n = nv.String()
		}
		return strings.Contains(rv.String(), n), nil
	case reflect.Array, reflect.Slice, reflect.Map, reflect.Struct, reflect.Pointer:
	default:
		return false, inHaystackError(haystack, site)
	}
	defer func() {
		if r := recover(); r != nil {
			found, rerr = false, &resolveError{kind: wrongType, reason: fmt.Sprintf(`cannot test %s in %s: %v`, site.needle, site.haystack, r)}
		}
	}()
	return runtime.In(needle, haystack), nil
}

// inNeedleError is the reason for a needle that is not a string, tested
// in a string or an object.
func inNeedleError(needle, haystack any, site *inSite) *resolveError {
	return &resolveError{kind: wrongType, reason: fmt.Sprintf(
		"cannot test %s in %s: %s is %s, so the left side must be a string, not %s",
		site.needle, site.haystack, site.haystack, describe(haystack), describe(needle))}
}

// inHaystackError is the reason for a right side "in" is not defined on.
func inHaystackError(haystack any, site *inSite) *resolveError {
	return &resolveError{kind: wrongType, reason: fmt.Sprintf(
		`cannot use "in" on %s: it is %s, not a string, a list or an object`, site.haystack, describe(haystack))}
}
