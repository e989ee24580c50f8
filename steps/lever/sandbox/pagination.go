package sandbox

import (
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Sort ids written into offset tokens; a token from another list (another
// sort) is rejected like Lever rejects it.
const (
	sortOpportunities = 1
	sortPostings      = 2
	sortUsers         = 3
	sortCatalog       = 4
	sortWebhooks      = 5
	sortDeleted       = 6
)

type cursor struct {
	ts int64
	id string
}

// before reports whether a sorts before b: newest first, then by id.
func (a cursor) before(b cursor) bool {
	if a.ts != b.ts {
		return a.ts > b.ts
	}
	return a.id < b.id
}

func encodeToken(sortID int, c cursor) string {
	b, _ := json.Marshal([]any{sortID, c.ts, c.id})
	// Lever's tokens are already percent-encoded JSON arrays.
	return url.QueryEscape(string(b))
}

var errBadOffset = badRequest("Invalid offset token: Offset token is invalid for sort")

// decodeToken accepts the token as sent back unchanged (one decode done by
// the query parser) or double-encoded (one more decode here).
func decodeToken(sortID int, raw string) (cursor, error) {
	for range 3 {
		if c, ok := parseToken(sortID, raw); ok {
			return c, nil
		}
		if !strings.Contains(raw, "%") {
			break
		}
		d, err := url.QueryUnescape(raw)
		if err != nil {
			break
		}
		raw = d
	}
	return cursor{}, errBadOffset
}

func parseToken(sortID int, raw string) (cursor, bool) {
	var arr []json.RawMessage
	if json.Unmarshal([]byte(raw), &arr) != nil || len(arr) != 3 {
		return cursor{}, false
	}
	var sid int
	var ts int64
	var id string
	if json.Unmarshal(arr[0], &sid) != nil || sid != sortID ||
		json.Unmarshal(arr[1], &ts) != nil || json.Unmarshal(arr[2], &id) != nil || id == "" {
		return cursor{}, false
	}
	return cursor{ts, id}, true
}

// parseLimit reads limit (1..100, default 100).
func parseLimit(q map[string][]string) (int, error) {
	v := q["limit"]
	if len(v) == 0 || v[0] == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < 1 || n > 100 {
		return 0, badRequest("Invalid limit: must be an integer between 1 and 100")
	}
	return n, nil
}

// page sorts items (newest first) and cuts the page after the offset
// cursor. key gives each item's sort key.
func page[T any](q map[string][]string, sortID int, items []T, key func(T) cursor) (listEnvelope, error) {
	limit, err := parseLimit(q)
	if err != nil {
		return listEnvelope{}, err
	}
	sort.SliceStable(items, func(i, j int) bool { return key(items[i]).before(key(items[j])) })
	start := 0
	if off := q["offset"]; len(off) > 0 && off[0] != "" {
		c, err := decodeToken(sortID, off[0])
		if err != nil {
			return listEnvelope{}, err
		}
		start = sort.Search(len(items), func(i int) bool { return c.before(key(items[i])) })
	}
	end := min(start+limit, len(items))
	data := items[start:end]
	if data == nil {
		data = []T{}
	}
	out := listEnvelope{Data: data}
	if end < len(items) {
		out.HasNext = true
		out.Next = encodeToken(sortID, key(items[end-1]))
	}
	return out, nil
}
