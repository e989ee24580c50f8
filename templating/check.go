package templating

import (
	"fmt"
	"sort"

	"github.com/expr-lang/expr/ast"
)

// Check compiles every reference of t against the shapes of the roots in
// env and returns every problem found: an unknown root (roots absent from
// env are unknown; the message lists the known ones), a field that is not
// in a closed object shape (with did-you-mean), indexing something that is
// not a list, reading a field of a scalar, "in" on a scalar or null (or
// with a left side that is not a string, on a string or an object), and
// the syntax errors Compile reported. A Shape that is Open, or of Type ""
// (Any), accepts anything below it. Check returns nil when there is
// nothing to report.
func Check(t *Template, env map[string]*Shape) []Problem {
	if t == nil {
		return nil
	}
	var out []Problem
	for _, e := range t.errs {
		out = append(out, Problem{Path: e.Path, Message: fmt.Sprintf("<<%s>>: %s (at offset %d)", e.Expr, e.Reason, e.Offset)})
	}
	for _, r := range t.refs {
		c := shapeChecker{env: env, seen: map[string]bool{}}
		c.visit(r.c.tree)
		for _, msg := range c.problems {
			out = append(out, Problem{Path: r.path, Message: "<<" + r.c.src + ">>: " + msg})
		}
	}
	return out
}

// Methods of Shape used by Check.

// kind is the shape's type, "" for anything (including unknown types).
func (s *Shape) kind() string {
	if s == nil {
		return ""
	}
	switch s.Type {
	case "object", "array", "string", "number", "integer", "boolean", "null":
		return s.Type
	}
	return ""
}

// describe names the shape's type for a message: "a string", "null".
func (s *Shape) describe() string {
	switch s.kind() {
	case "object":
		return "an object"
	case "array":
		return "a list"
	case "string":
		return "a string"
	case "number", "integer":
		return "a number"
	case "boolean":
		return "a boolean"
	case "null":
		return "null"
	}
	return "anything"
}

// field is the shape of field key, or nil (any) when unknown.
func (s *Shape) field(key string) (*Shape, bool) {
	switch s.kind() {
	case "":
		return Any, true
	case "object":
		if f, ok := s.Properties[key]; ok {
			if f == nil {
				return Any, true
			}
			return f, true
		}
		return Any, s.Open
	}
	return Any, false
}

// items is the shape of an array's elements.
func (s *Shape) items() *Shape {
	if s.kind() == "array" && s.Items != nil {
		return s.Items
	}
	return Any
}

type shapeVar struct {
	name  string
	shape *Shape
}

type shapeChecker struct {
	env      map[string]*Shape
	vars     []shapeVar // let-bound names
	elems    []*Shape   // # in the predicates being walked, innermost last
	problems []string
	seen     map[string]bool
}

func (c *shapeChecker) report(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !c.seen[msg] {
		c.seen[msg] = true
		c.problems = append(c.problems, msg)
	}
}

// visit returns the shape of n's value (Any when unknown), reporting
// problems on the way.
func (c *shapeChecker) visit(n ast.Node) *Shape {
	switch n := n.(type) {
	case nil:
		return Any
	case *ast.IdentifierNode:
		return c.identifier(n.Value)
	case *ast.MemberNode:
		if n.Method {
			c.visit(n.Node)
			return Any
		}
		obj := c.visit(n.Node)
		switch p := n.Property.(type) {
		case *ast.StringNode:
			return c.field(obj, p.Value, n.Node)
		case *ast.IntegerNode:
			return c.index(obj, p.Value, n.Node)
		}
		c.visit(n.Property)
		return obj.items()
	case *ast.ChainNode:
		return c.visit(n.Node)
	case *ast.PointerNode:
		switch {
		case n.Name == "" && len(c.elems) > 0:
			return c.elems[len(c.elems)-1]
		case n.Name == "index":
			return &Shape{Type: "integer"}
		}
		return Any
	case *ast.BuiltinNode:
		return c.builtin(n)
	case *ast.BinaryNode:
		if n.Operator == "in" {
			return c.in(n)
		}
	case *ast.VariableDeclaratorNode:
		s := c.visit(n.Value)
		c.vars = append(c.vars, shapeVar{n.Name, s})
		r := c.visit(n.Expr)
		c.vars = c.vars[:len(c.vars)-1]
		return r
	case *ast.SequenceNode:
		r := Any
		for _, e := range n.Nodes {
			r = c.visit(e)
		}
		return r
	case *ast.SliceNode:
		s := c.visit(n.Node)
		c.visit(n.From)
		c.visit(n.To)
		if s.kind() == "array" || s.kind() == "string" {
			return s
		}
		return Any
	}
	for _, ch := range children(n) {
		c.visit(*ch)
	}
	return Any
}

func (c *shapeChecker) identifier(name string) *Shape {
	if name == "$env" {
		return Any
	}
	for i := len(c.vars) - 1; i >= 0; i-- {
		if c.vars[i].name == name {
			return c.vars[i].shape
		}
	}
	if s, ok := c.env[name]; ok {
		if s == nil {
			return Any
		}
		return s
	}
	known := make([]string, 0, len(c.env))
	for k := range c.env {
		known = append(known, k)
	}
	c.report("%s", unknownRoot(name, known))
	return Any
}

func (c *shapeChecker) field(obj *Shape, key string, objNode ast.Node) *Shape {
	if f, ok := obj.field(key); ok {
		return f
	}
	desc := describeNode(objNode)
	switch obj.kind() {
	case "object":
		keys := make([]string, 0, len(obj.Properties))
		for k := range obj.Properties {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		c.report("%s", missingField(desc, key, keys).reason)
	case "null":
		c.report("cannot read %s: %s is null", keyText(key), desc)
	default:
		c.report("cannot read %s: %s is %s, not an object", keyText(key), desc, obj.describe())
	}
	return Any
}

func (c *shapeChecker) index(obj *Shape, i int, objNode ast.Node) *Shape {
	switch obj.kind() {
	case "":
		return Any
	case "array":
		return obj.items()
	case "null":
		c.report("cannot read [%d]: %s is null", i, describeNode(objNode))
	default:
		c.report("cannot read [%d]: %s is %s, not a list", i, describeNode(objNode), obj.describe())
	}
	return Any
}

// builtin walks a builtin call, giving # in a predicate the shape of the
// collection's elements.
func (c *shapeChecker) builtin(n *ast.BuiltinNode) *Shape {
	if len(n.Arguments) >= 2 {
		if pred, ok := n.Arguments[1].(*ast.PredicateNode); ok {
			coll := c.visit(n.Arguments[0])
			elem := coll.items()
			c.elems = append(c.elems, elem)
			c.visit(pred.Node)
			c.elems = c.elems[:len(c.elems)-1]
			for _, a := range n.Arguments[2:] {
				c.visit(a)
			}
			switch n.Name {
			case "filter", "sortBy":
				if coll.kind() == "array" {
					return coll
				}
			case "find", "findLast":
				return elem
			}
			return Any
		}
	}
	for _, a := range n.Arguments {
		c.visit(a)
	}
	return Any
}

// in checks needle in haystack ("not in" too): the right side must be a
// string, a list or an object, and the left side a string when the right
// one is a string or an object. Unknown shapes are accepted.
func (c *shapeChecker) in(n *ast.BinaryNode) *Shape {
	needle := c.visit(n.Left)
	if lit := literalShape(n.Left); lit != nil {
		needle = lit
	}
	haystack := c.visit(n.Right)
	desc := describeNode(n.Right)
	switch haystack.kind() {
	case "string", "object":
		if k := needle.kind(); k != "" && k != "string" {
			c.report("cannot test %s in %s: %s is %s, so the left side must be a string, not %s",
				describeNode(n.Left), desc, desc, haystack.describe(), needle.describe())
		}
	case "number", "integer", "boolean", "null":
		c.report(`cannot use "in" on %s: it is %s, not a string, a list or an object`, desc, haystack.describe())
	}
	return &Shape{Type: "boolean"}
}

// literalShape is the shape of a scalar literal, or nil.
func literalShape(n ast.Node) *Shape {
	switch n.(type) {
	case *ast.StringNode:
		return &Shape{Type: "string"}
	case *ast.IntegerNode, *ast.FloatNode:
		return &Shape{Type: "number"}
	case *ast.BoolNode:
		return &Shape{Type: "boolean"}
	case *ast.NilNode:
		return &Shape{Type: "null"}
	}
	return nil
}
