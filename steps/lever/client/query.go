package client

import (
	"net/url"
	"strconv"
)

// query builds url.Values; repeated filters become repeated parameters
// (?tag=a&tag=b), which Lever joins with OR.
type query url.Values

func (q query) strs(key string, vs []string) {
	for _, v := range vs {
		if v != "" {
			url.Values(q).Add(key, v)
		}
	}
}

func (q query) str(key, v string) {
	if v != "" {
		url.Values(q).Set(key, v)
	}
}

func (q query) millis(key string, m Millis) {
	if m != 0 {
		url.Values(q).Set(key, strconv.FormatInt(int64(m), 10))
	}
}

func (q query) boolp(key string, b *bool) {
	if b != nil {
		url.Values(q).Set(key, strconv.FormatBool(*b))
	}
}

func (q query) flag(key string, b bool) {
	if b {
		url.Values(q).Set(key, "true")
	}
}

// Bool returns a pointer to b, for the optional true/false filters.
func Bool(b bool) *bool { return &b }

// performAsQuery returns the perform_as query, nil when userID is empty.
func performAsQuery(userID string) url.Values {
	if userID == "" {
		return nil
	}
	return url.Values{"perform_as": {userID}}
}
