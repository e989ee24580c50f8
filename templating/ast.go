package templating

import (
	"github.com/expr-lang/expr/ast"
)

// children returns pointers to the direct children of n, in source order.
func children(n ast.Node) []*ast.Node {
	switch n := n.(type) {
	case *ast.UnaryNode:
		return []*ast.Node{&n.Node}
	case *ast.BinaryNode:
		return []*ast.Node{&n.Left, &n.Right}
	case *ast.ChainNode:
		return []*ast.Node{&n.Node}
	case *ast.MemberNode:
		return []*ast.Node{&n.Node, &n.Property}
	case *ast.SliceNode:
		out := []*ast.Node{&n.Node}
		if n.From != nil {
			out = append(out, &n.From)
		}
		if n.To != nil {
			out = append(out, &n.To)
		}
		return out
	case *ast.CallNode:
		out := []*ast.Node{&n.Callee}
		for i := range n.Arguments {
			out = append(out, &n.Arguments[i])
		}
		return out
	case *ast.BuiltinNode:
		out := make([]*ast.Node, 0, len(n.Arguments))
		for i := range n.Arguments {
			out = append(out, &n.Arguments[i])
		}
		return out
	case *ast.PredicateNode:
		return []*ast.Node{&n.Node}
	case *ast.VariableDeclaratorNode:
		return []*ast.Node{&n.Value, &n.Expr}
	case *ast.SequenceNode:
		out := make([]*ast.Node, 0, len(n.Nodes))
		for i := range n.Nodes {
			out = append(out, &n.Nodes[i])
		}
		return out
	case *ast.ConditionalNode:
		return []*ast.Node{&n.Cond, &n.Exp1, &n.Exp2}
	case *ast.ArrayNode:
		out := make([]*ast.Node, 0, len(n.Nodes))
		for i := range n.Nodes {
			out = append(out, &n.Nodes[i])
		}
		return out
	case *ast.MapNode:
		out := make([]*ast.Node, 0, len(n.Pairs))
		for i := range n.Pairs {
			out = append(out, &n.Pairs[i])
		}
		return out
	case *ast.PairNode:
		return []*ast.Node{&n.Key, &n.Value}
	}
	return nil
}

// analyzer collects the roots and step ids an expression reads.
type analyzer struct {
	bound  []string // let-bound names in scope
	roots  map[string]bool
	steps  map[string]bool
	strict map[string]bool // roots read outside the left side of ??
}

func (a *analyzer) isBound(name string) bool {
	for _, b := range a.bound {
		if b == name {
			return true
		}
	}
	return false
}

func (a *analyzer) walk(n ast.Node, lenient bool) {
	switch n := n.(type) {
	case nil:
		return
	case *ast.IdentifierNode:
		if n.Value == "$env" || a.isBound(n.Value) {
			return
		}
		a.roots[n.Value] = true
		if !lenient {
			a.strict[n.Value] = true
		}
		return
	case *ast.MemberNode:
		if id, ok := n.Node.(*ast.IdentifierNode); ok && id.Value == "steps" && !a.isBound("steps") {
			if s, ok := n.Property.(*ast.StringNode); ok {
				a.steps[s.Value] = true
			}
		}
		if n.Optional {
			// item?.x: the root may be absent.
			a.walk(n.Node, lenient || isIdentifier(n.Node))
			a.walk(n.Property, lenient)
			return
		}
	case *ast.BinaryNode:
		if n.Operator == "??" {
			a.walk(n.Left, true)
			a.walk(n.Right, lenient)
			return
		}
	case *ast.VariableDeclaratorNode:
		a.walk(n.Value, lenient)
		a.bound = append(a.bound, n.Name)
		a.walk(n.Expr, lenient)
		a.bound = a.bound[:len(a.bound)-1]
		return
	}
	for _, c := range children(n) {
		a.walk(*c, lenient)
	}
}

func isIdentifier(n ast.Node) bool {
	_, ok := n.(*ast.IdentifierNode)
	return ok
}

// pureChain reports whether n is a root followed only by member accesses
// with constant keys (steps.opp.contact.emails[0], trigger?.data["x"]),
// and returns its links, root first.
func pureChain(n ast.Node) (root string, chain []link, ok bool) {
	if c, isChain := n.(*ast.ChainNode); isChain {
		n = c.Node
	}
	for {
		switch m := n.(type) {
		case *ast.IdentifierNode:
			if m.Value == "$env" {
				return "", nil, false
			}
			for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
				chain[i], chain[j] = chain[j], chain[i]
			}
			for i := 0; i+1 < len(chain); i++ {
				chain[i].soft = chain[i+1].optional
			}
			return m.Value, chain, true
		case *ast.MemberNode:
			if m.Method {
				return "", nil, false
			}
			var key any
			switch p := m.Property.(type) {
			case *ast.StringNode:
				key = p.Value
			case *ast.IntegerNode:
				key = p.Value
			default:
				return "", nil, false
			}
			chain = append(chain, link{key: key, optional: m.Optional, desc: describeNode(m.Node)})
			n = m.Node
		default:
			return "", nil, false
		}
	}
}

// describeNode is the text naming a value in messages.
func describeNode(n ast.Node) string {
	return n.String()
}

// rewrite replaces member accesses with calls that make missing values
// errors (getFunc) or nil (optFunc): on the left of ?? (lenient), and right
// before an optional access (soft: in steps.opp?.x, steps.opp may be
// missing). Optional accesses themselves (a?.b) are left to expr, which
// short-circuits the chain on nil. It also replaces "in" (and so "not in")
// with a call of inFunc, which adds substring tests (see in.go), unless
// its right side is a literal range.
func rewrite(p *ast.Node, lenient, soft bool) {
	switch n := (*p).(type) {
	case nil:
		return
	case *ast.BinaryNode:
		if n.Operator == "??" {
			rewrite(&n.Left, true, false)
			rewrite(&n.Right, lenient, false)
			return
		}
		if n.Operator == "in" && !nativeIn(n.Right) {
			site := &inSite{needle: describeNode(n.Left), haystack: describeNode(n.Right)}
			rewrite(&n.Left, lenient, false)
			rewrite(&n.Right, lenient, false)
			ast.Patch(p, inCall(n.Left, n.Right, site))
			return
		}
	case *ast.MemberNode:
		if n.Method {
			break
		}
		if n.Optional && !lenient {
			rewrite(&n.Node, lenient, true)
			rewrite(&n.Property, lenient, false)
			return
		}
		desc := describeNode(n.Node)
		rewrite(&n.Node, lenient, false)
		rewrite(&n.Property, lenient, false)
		fn := getFunc
		if lenient || soft {
			fn = optFunc
		}
		ast.Patch(p, &ast.CallNode{
			Callee:    &ast.IdentifierNode{Value: fn},
			Arguments: []ast.Node{n.Node, n.Property, &ast.StringNode{Value: desc}},
		})
		return
	}
	for _, c := range children(*p) {
		rewrite(c, lenient, false)
	}
}
