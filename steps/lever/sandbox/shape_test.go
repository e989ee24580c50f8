package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// loadFixture reads testdata/<name> (a copy of shared/lever/fixtures).
func loadFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return b
}

// assertShape checks that got (a JSON document) has the shape of fixture
// (a JSON document): the same keys at every level, and values of the same
// JSON type. null on either side matches any type, since Lever may null
// almost any field. For arrays, every element of got must match the shape
// of at least one element of the fixture's array (fixture lists mix
// optional keys, e.g. postings without salary fields); an empty fixture
// array only requires an array.
func assertShape(t *testing.T, fixture, got []byte) {
	t.Helper()
	var f, g any
	if err := json.Unmarshal(fixture, &f); err != nil {
		t.Fatalf("assertShape: fixture is not JSON: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("assertShape: got is not JSON: %v\n%s", err, got)
	}
	if errs := shapeDiff("$", f, g); len(errs) > 0 {
		t.Errorf("shape differs from fixture:\n  %s", strings.Join(errs, "\n  "))
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

func shapeDiff(path string, f, g any) []string {
	if f == nil || g == nil {
		return nil
	}
	if fk, gk := jsonKind(f), jsonKind(g); fk != gk {
		return []string{fmt.Sprintf("%s: fixture has %s, got %s", path, fk, gk)}
	}
	switch fv := f.(type) {
	case map[string]any:
		gv := g.(map[string]any)
		var errs []string
		keys := map[string]bool{}
		for k := range fv {
			keys[k] = true
		}
		for k := range gv {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			fc, inF := fv[k]
			gc, inG := gv[k]
			switch {
			case !inG:
				errs = append(errs, fmt.Sprintf("%s.%s: missing (fixture has it)", path, k))
			case !inF:
				errs = append(errs, fmt.Sprintf("%s.%s: unexpected key (not in fixture)", path, k))
			default:
				errs = append(errs, shapeDiff(path+"."+k, fc, gc)...)
			}
		}
		return errs
	case []any:
		gv := g.([]any)
		if len(fv) == 0 {
			return nil
		}
		var errs []string
		for i, ge := range gv {
			var first []string
			matched := false
			for j, fe := range fv {
				d := shapeDiff(fmt.Sprintf("%s[%d]", path, i), fe, ge)
				if len(d) == 0 {
					matched = true
					break
				}
				if j == 0 {
					first = d
				}
			}
			if !matched {
				errs = append(errs, first...)
			}
		}
		return errs
	}
	return nil
}

func TestAssertShapeHelper(t *testing.T) {
	t.Parallel()
	f := []byte(`{"a":1,"b":{"c":"x","d":null},"l":[{"k":1},{"k":1,"opt":true}]}`)
	cases := []struct {
		got  string
		errs int
	}{
		{`{"a":2,"b":{"c":"y","d":5},"l":[{"k":2},{"k":3,"opt":false}]}`, 0},
		{`{"a":"2","b":{"c":"y","d":null},"l":[]}`, 1},           // wrong type
		{`{"a":2,"b":{"c":"y"},"l":[]}`, 1},                      // missing key
		{`{"a":2,"b":{"c":"y","d":1,"e":1},"l":[]}`, 1},          // extra key
		{`{"a":2,"b":{"c":"y","d":1},"l":[{"k":1,"zzz":1}]}`, 1}, // element matches no fixture element
		{`{"a":null,"b":null,"l":null}`, 0},                      // nulls are tolerated
	}
	for _, c := range cases {
		var fv, gv any
		_ = json.Unmarshal(f, &fv)
		if err := json.Unmarshal([]byte(c.got), &gv); err != nil {
			t.Fatal(err)
		}
		if d := shapeDiff("$", fv, gv); len(d) != c.errs {
			t.Errorf("%s: got %d diffs %v, want %d", c.got, len(d), d, c.errs)
		}
	}
}
