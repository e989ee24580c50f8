package templating

import (
	"strings"
	"unicode"
)

// segment is one piece of a templated string: literal text or a reference.
type segment struct {
	lit    string // literal text, escapes resolved (when !ref)
	ref    bool
	expr   string // trimmed expression text (when ref)
	refOff int    // byte offset of "<<" in the string
	off    int    // byte offset of the trimmed expression in the string
	end    int    // byte offset just past ">>"
}

// scanError is a problem found while splitting a string into segments.
type scanError struct {
	expr   string
	offset int
	reason string
}

// split cuts s into literal and reference segments. whole reports whether
// s is exactly one reference with nothing outside its delimiters.
func split(s string) (segs []segment, whole bool, err *scanError) {
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			segs = append(segs, segment{lit: lit.String()})
			lit.Reset()
		}
	}
	i := 0
	for i < len(s) {
		j := strings.Index(s[i:], "<<")
		if j < 0 {
			lit.WriteString(s[i:])
			break
		}
		j += i
		if j > 0 && s[j-1] == '\\' {
			lit.WriteString(s[i : j-1])
			lit.WriteString("<<")
			i = j + 2
			continue
		}
		lit.WriteString(s[i:j])
		k := closing(s, j+2)
		if k < 0 {
			return nil, false, &scanError{
				expr:   strings.TrimSpace(s[j+2:]),
				offset: j,
				reason: `unclosed "<<": no matching ">>"`,
			}
		}
		raw := s[j+2 : k]
		expr := strings.TrimSpace(raw)
		if expr == "" {
			return nil, false, &scanError{offset: j, reason: "empty reference"}
		}
		flush()
		segs = append(segs, segment{
			ref:    true,
			expr:   expr,
			refOff: j,
			off:    j + 2 + len(raw) - len(strings.TrimLeftFunc(raw, unicode.IsSpace)),
			end:    k + 2,
		})
		i = k + 2
	}
	flush()
	whole = len(segs) == 1 && segs[0].ref && segs[0].refOff == 0 && segs[0].end == len(s)
	return segs, whole, nil
}

// closing returns the offset of the ">>" that ends the reference whose
// expression starts at from, skipping string literals, or -1.
func closing(s string, from int) int {
	var quote byte
	for k := from; k < len(s); k++ {
		c := s[k]
		if quote != 0 {
			switch {
			case c == '\\' && quote != '`':
				k++
			case c == quote:
				quote = 0
			}
			continue
		}
		switch c {
		case '"', '\'', '`':
			quote = c
		case '>':
			if k+1 < len(s) && s[k+1] == '>' {
				return k
			}
		}
	}
	return -1
}
