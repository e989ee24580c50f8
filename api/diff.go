package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// Change operations of a Diff.
const (
	OpAdd     = "add"
	OpRemove  = "remove"
	OpReplace = "replace"
)

// Change is one difference between two workflow documents.
//
// Path names the value in the document it belongs to: object keys joined
// with "." (a key that is not a plain name is written ["key"]), array
// items as [index], e.g. "steps[2].input.tags[0]"; "" is the whole
// document. The index of an added or replaced value is its index in the
// newer document, that of a removed one its index in the older.
//
// From is the old value (absent for add), To the new one (absent for
// remove). StepID, when the change lies inside a step, is that step's id
// (the innermost one, for a step inside a fanout).
type Change struct {
	Path   string          `json:"path"`
	Op     string          `json:"op"`
	From   json.RawMessage `json:"from,omitempty"`
	To     json.RawMessage `json:"to,omitempty"`
	StepID string          `json:"step_id,omitempty"`
}

// Diff compares two JSON documents (two versions of a workflow) value by
// value and returns the changes that turn from into to, in document
// order (removals of an array's items before the rest of that array's
// changes).
//
// Objects are compared key by key. Arrays whose items are all objects
// with a distinct, non-empty string "id" (steps, a fanout's steps) are
// matched by id, not by position: a step that moved but did not change is
// no change at all (the engine runs steps by their edges, never by their
// order), and a changed step is compared field by field under its new
// index. Other arrays (edges, tags, cases) are aligned on their longest
// common subsequence: an item inserted or deleted in the middle is one add
// or one remove, not a replace of every later item; where an item was
// swapped for another at the same place, two objects or arrays are
// compared inside, other values are one replace. Numbers compare by value
// (1 and 1.0 are equal).
func Diff(from, to []byte) ([]Change, error) {
	a, err := decodeNumbers(from)
	if err != nil {
		return nil, fmt.Errorf("reading the older document: %w", err)
	}
	b, err := decodeNumbers(to)
	if err != nil {
		return nil, fmt.Errorf("reading the newer document: %w", err)
	}
	d := differ{changes: []Change{}}
	d.value("", "", a, b)
	return d.changes, nil
}

func decodeNumbers(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

type differ struct{ changes []Change }

func (d *differ) add(path, step string, op string, from, to any) {
	c := Change{Path: path, Op: op, StepID: step}
	if op != OpAdd {
		c.From = rawOf(from)
	}
	if op != OpRemove {
		c.To = rawOf(to)
	}
	d.changes = append(d.changes, c)
}

func rawOf(v any) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return json.RawMessage("null") // cannot happen: v was decoded from JSON
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// value compares a and b at path; step is the innermost step around path.
func (d *differ) value(path, step string, a, b any) {
	switch av := a.(type) {
	case map[string]any:
		if bv, ok := b.(map[string]any); ok {
			d.object(path, step, av, bv)
			return
		}
	case []any:
		if bv, ok := b.([]any); ok {
			d.array(path, step, av, bv)
			return
		}
	}
	if !equalJSON(a, b) {
		d.add(path, step, OpReplace, a, b)
	}
}

func (d *differ) object(path, step string, a, b map[string]any) {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := joinKey(path, k)
		av, inA := a[k]
		bv, inB := b[k]
		switch {
		case !inB:
			d.add(p, step, OpRemove, av, nil)
		case !inA:
			d.add(p, step, OpAdd, nil, bv)
		default:
			d.value(p, step, av, bv)
		}
	}
}

func (d *differ) array(path, step string, a, b []any) {
	if ia, ok := idIndex(a); ok {
		if ib, ok := idIndex(b); ok {
			d.arrayByID(path, a, b, ia, ib)
			return
		}
	}
	d.arrayByLCS(path, step, a, b)
}

// arrayByID matches items by their "id".
func (d *differ) arrayByID(path string, a, b []any, ia, ib map[string]int) {
	for i, item := range a {
		id := item.(map[string]any)["id"].(string)
		if _, ok := ib[id]; !ok {
			d.add(index(path, i), id, OpRemove, item, nil)
		}
	}
	for j, item := range b {
		id := item.(map[string]any)["id"].(string)
		if i, ok := ia[id]; ok {
			d.value(index(path, j), id, a[i], item)
		} else {
			d.add(index(path, j), id, OpAdd, nil, item)
		}
	}
}

// idIndex maps each item's id to its index when every item is an object
// with a distinct, non-empty string id.
func idIndex(items []any) (map[string]int, bool) {
	if len(items) == 0 {
		return map[string]int{}, true
	}
	out := make(map[string]int, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, false
		}
		id, ok := m["id"].(string)
		if !ok || id == "" {
			return nil, false
		}
		if _, dup := out[id]; dup {
			return nil, false
		}
		out[id] = i
	}
	return out, true
}

// arrayByLCS aligns a and b on their longest common subsequence; between
// two matched items, the unmatched ones are paired in order (compared
// inside when both are containers, else replaced) and the rest removed or
// added.
func (d *differ) arrayByLCS(path, step string, a, b []any) {
	n, m := len(a), len(b)
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if equalJSON(a[i], b[j]) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var gapA, gapB []int
	flush := func() {
		k := 0
		for ; k < len(gapA) && k < len(gapB); k++ {
			d.value(index(path, gapB[k]), step, a[gapA[k]], b[gapB[k]])
		}
		for _, i := range gapA[k:] {
			d.add(index(path, i), step, OpRemove, a[i], nil)
		}
		for _, j := range gapB[k:] {
			d.add(index(path, j), step, OpAdd, nil, b[j])
		}
		gapA, gapB = gapA[:0], gapB[:0]
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case equalJSON(a[i], b[j]):
			flush()
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			gapA = append(gapA, i)
			i++
		default:
			gapB = append(gapB, j)
			j++
		}
	}
	for ; i < n; i++ {
		gapA = append(gapA, i)
	}
	for ; j < m; j++ {
		gapB = append(gapB, j)
	}
	flush()
}

// equalJSON compares two decoded JSON values; numbers by value.
func equalJSON(a, b any) bool {
	switch av := a.(type) {
	case json.Number:
		bv, ok := b.(json.Number)
		if !ok {
			return false
		}
		if av == bv {
			return true
		}
		x, err1 := strconv.ParseFloat(string(av), 64)
		y, err2 := strconv.ParseFloat(string(bv), 64)
		return err1 == nil && err2 == nil && x == y
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k, x := range av {
			y, ok := bv[k]
			if !ok || !equalJSON(x, y) {
				return false
			}
		}
		return true
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !equalJSON(av[i], bv[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func joinKey(path, key string) string {
	if !plainKey.MatchString(key) {
		q, _ := json.Marshal(key)
		return path + "[" + string(q) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }
