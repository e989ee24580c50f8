package templating

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/expr-lang/expr/vm/runtime"
)

// The functions member accesses are rewritten into. They are registered
// under names a user cannot mistake for a root.
const (
	getFunc = "__leverflow_get" // strict: a missing key is an error
	optFunc = "__leverflow_opt" // lenient (left of ??): missing is nil
)

// compiled is one expression, compiled once per process and shared by
// every template and goroutine. It is never modified after compileExpr.
type compiled struct {
	src string

	// A syntax or compile error: reason and byte offset in src.
	failed    bool
	errReason string
	errOffset int

	tree   ast.Node // the parsed, unpatched tree: what Check walks
	roots  []string // free identifiers, sorted
	steps  []string // step ids read, sorted
	strict []string // roots read where a missing root is an error

	// A pure member chain (steps.opp.contact.emails[0]) is resolved
	// directly; everything else runs program on a pooled VM.
	fast    bool
	root    string
	chain   []link
	program *vm.Program
}

// link is one member access of a pure chain.
type link struct {
	key      any    // string or int
	optional bool   // a?.b: nil when a is null or has no b
	soft     bool   // followed by an optional access: a missing value is nil
	desc     string // the text of the value it reads from: "steps.opp"
}

const cacheLimit = 10_000

// exprCache holds compiled expressions by text. It is bounded: past
// cacheLimit entries, arbitrary ones are evicted.
type exprCache struct {
	m     sync.Map // string -> *cacheEntry
	n     atomic.Int64
	evict sync.Mutex
}

type cacheEntry struct {
	once sync.Once
	c    *compiled
}

var cache exprCache

// lookup returns the compiled form of src, compiling it at most once.
func lookup(src string) *compiled {
	v, ok := cache.m.Load(src)
	if !ok {
		var loaded bool
		v, loaded = cache.m.LoadOrStore(src, &cacheEntry{})
		if !loaded && cache.n.Add(1) > cacheLimit {
			cache.shrink()
		}
	}
	e := v.(*cacheEntry)
	e.once.Do(func() { e.c = compileExpr(src) })
	return e.c
}

// shrink evicts entries until the cache is 10% below its limit.
func (ec *exprCache) shrink() {
	if !ec.evict.TryLock() {
		return
	}
	defer ec.evict.Unlock()
	target := int64(cacheLimit * 9 / 10)
	ec.m.Range(func(k, _ any) bool {
		if ec.n.Load() <= target {
			return false
		}
		if _, ok := ec.m.LoadAndDelete(k); ok {
			ec.n.Add(-1)
		}
		return true
	})
}

func newConfig() *conf.Config {
	c := conf.CreateNew()
	c.WithEnv(map[string]any{})
	c.Strict = false // roots are checked by us, at render and by Check
	expr.Function(getFunc, strictGet)(c)
	expr.Function(optFunc, lenientGet)(c)
	expr.Function(inFunc, callIn, inType)(c)
	return c
}

// compileExpr parses, analyses and compiles src. It never panics.
func compileExpr(src string) (c *compiled) {
	c = &compiled{src: src}
	defer func() {
		if r := recover(); r != nil {
			c.fail(fmt.Errorf("%v", r))
		}
	}()
	tree, err := parser.ParseWithConfig(src, newConfig())
	if err != nil {
		c.fail(err)
		return c
	}
	c.tree = tree.Node
	a := analyzer{roots: map[string]bool{}, steps: map[string]bool{}, strict: map[string]bool{}}
	a.walk(tree.Node, false)
	c.roots, c.steps, c.strict = sortedKeys(a.roots), sortedKeys(a.steps), sortedKeys(a.strict)

	if root, chain, ok := pureChain(tree.Node); ok {
		c.fast, c.root, c.chain = true, root, chain
		return c
	}

	config := newConfig()
	run, err := parser.ParseWithConfig(src, config)
	if err != nil {
		c.fail(err)
		return c
	}
	rewrite(&run.Node, false, false)
	if _, err := checker.Check(run, config); err != nil {
		c.fail(err)
		return c
	}
	if err := optimizer.Optimize(&run.Node, config); err != nil {
		c.fail(err)
		return c
	}
	program, err := compiler.Compile(run, config)
	if err != nil {
		c.fail(err)
		return c
	}
	c.program = program
	return c
}

func (c *compiled) fail(err error) {
	c.failed = true
	c.fast = false
	c.errReason = err.Error()
	var fe *file.Error
	if errors.As(err, &fe) {
		c.errReason = fe.Message
		c.errOffset = runeToByte(c.src, fe.From)
	}
}

func runeToByte(s string, runes int) int {
	off := 0
	for i := 0; i < runes && off < len(s); i++ {
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
	}
	return off
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var vmPool = sync.Pool{New: func() any { return new(vm.VM) }}

// eval resolves the expression against env. Errors are *resolveError or
// expr's *file.Error.
func (c *compiled) eval(env map[string]any) (any, error) {
	if c.fast {
		v, err := c.walkChain(env)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
	if c.failed {
		return nil, &resolveError{reason: "syntax error: " + c.errReason}
	}
	for _, r := range c.strict {
		if _, ok := env[r]; !ok {
			return nil, &resolveError{reason: unknownRoot(r, mapKeys(env))}
		}
	}
	m := vmPool.Get().(*vm.VM)
	v, err := m.Run(c.program, env)
	vmPool.Put(m)
	return v, err
}

// walkChain resolves a pure member chain without the VM, with the same
// rules as the rewritten program.
func (c *compiled) walkChain(env map[string]any) (any, *resolveError) {
	v, ok := env[c.root]
	if !ok {
		if len(c.chain) > 0 && c.chain[0].optional {
			return nil, nil
		}
		return nil, &resolveError{reason: unknownRoot(c.root, mapKeys(env))}
	}
	for i := range c.chain {
		l := &c.chain[i]
		if l.optional && v == nil {
			return nil, nil // a?.b.c short-circuits the whole chain
		}
		if m, isMap := v.(map[string]any); isMap {
			if k, isStr := l.key.(string); isStr {
				next, found := m[k]
				if !found && !l.optional && !l.soft {
					return nil, missingField(l.desc, k, mapKeys(m))
				}
				v = next
				continue
			}
		}
		next, err := get(v, l.key, l.desc)
		if err != nil {
			if (l.optional || l.soft) && err.kind != wrongType {
				v = nil
				continue
			}
			return nil, err
		}
		v = next
	}
	return v, nil
}

func mapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// strictGet is getFunc: args are the value, the key and its description.
func strictGet(args ...any) (any, error) {
	desc, _ := args[2].(string)
	v, err := get(args[0], args[1], desc)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// lenientGet is optFunc: null, a missing key or an index out of range is
// nil; reading a field of a scalar is still an error.
func lenientGet(args ...any) (any, error) {
	desc, _ := args[2].(string)
	v, err := get(args[0], args[1], desc)
	if err != nil {
		if err.kind != wrongType {
			return nil, nil
		}
		return nil, err
	}
	return v, nil
}

// get reads key (a string or an integer) from obj, describing obj as desc
// in errors.
func get(obj, key any, desc string) (any, *resolveError) {
	switch o := obj.(type) {
	case map[string]any:
		k, ok := key.(string)
		if !ok {
			return nil, typeError(key, desc, obj)
		}
		v, found := o[k]
		if !found {
			return nil, missingField(desc, k, mapKeys(o))
		}
		return v, nil
	case []any:
		i, ok := toInt(key)
		if !ok {
			return nil, typeError(key, desc, obj)
		}
		return index(o, i, desc)
	case nil:
		return nil, &resolveError{kind: nullValue, reason: fmt.Sprintf("cannot read %s: %s is null", keyText(key), desc)}
	case string, bool, float64, float32, int, int64, int32:
		return nil, typeError(key, desc, obj)
	}
	return reflectGet(obj, key, desc)
}

func index(list []any, i int, desc string) (any, *resolveError) {
	j := i
	if j < 0 {
		j += len(list)
	}
	if j < 0 || j >= len(list) {
		return nil, &resolveError{kind: outOfRange, reason: fmt.Sprintf("index %d out of range: %s has length %d", i, desc, len(list))}
	}
	return list[j], nil
}

// reflectGet reads from values that are not decoded JSON: typed maps and
// slices, structs (with expr's rules), pointers.
func reflectGet(obj, key any, desc string) (v any, rerr *resolveError) {
	rv := reflect.ValueOf(obj)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return get(nil, key, desc)
		}
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			k, ok := key.(string)
			if !ok {
				return nil, typeError(key, desc, obj)
			}
			val := rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()))
			if !val.IsValid() {
				keys := make([]string, 0, rv.Len())
				for _, mk := range rv.MapKeys() {
					keys = append(keys, mk.String())
				}
				return nil, missingField(desc, k, keys)
			}
			return val.Interface(), nil
		}
	case reflect.Slice, reflect.Array:
		i, ok := toInt(key)
		if !ok {
			return nil, typeError(key, desc, obj)
		}
		j := i
		if j < 0 {
			j += rv.Len()
		}
		if j < 0 || j >= rv.Len() {
			return nil, &resolveError{kind: outOfRange, reason: fmt.Sprintf("index %d out of range: %s has length %d", i, desc, rv.Len())}
		}
		return rv.Index(j).Interface(), nil
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		if _, isStr := key.(string); !isStr || rv.NumMethod() == 0 {
			return nil, typeError(key, desc, obj)
		}
	}
	// Structs and methods: expr's own rules, its panics made errors.
	defer func() {
		if r := recover(); r != nil {
			v, rerr = nil, &resolveError{kind: wrongType, reason: fmt.Sprint(r)}
		}
	}()
	return runtime.Fetch(obj, key), nil
}

func typeError(key any, desc string, obj any) *resolveError {
	want := "an object"
	if _, isStr := key.(string); !isStr {
		want = "a list"
	}
	return &resolveError{kind: wrongType, reason: fmt.Sprintf("cannot read %s: %s is %s, not %s", keyText(key), desc, describe(obj), want)}
}

func keyText(key any) string {
	switch k := key.(type) {
	case string:
		return fmt.Sprintf("field %q", k)
	case nil:
		return "[null]"
	}
	return fmt.Sprintf("[%v]", key)
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case int32:
		return int(n), true
	case float64:
		if n == float64(int(n)) {
			return int(n), true
		}
	case uint8:
		return int(n), true
	}
	return 0, false
}
