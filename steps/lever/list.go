package lever

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/lever/client"
)

// Paging bounds of the list steps.
const (
	maxPageSize     = 100
	defaultMaxItems = 1000
	maxMaxItems     = 10000
)

// textList is a repeatable filter: text or a list of text.
type textList []string

// UnmarshalJSON accepts "a", ["a", "b"] and null.
func (l *textList) UnmarshalJSON(b []byte) error {
	*l = nil
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s != "" {
			*l = textList{s}
		}
		return nil
	}
	var arr []any
	if err := json.Unmarshal(b, &arr); err != nil {
		return fmt.Errorf(`must be text or a list of text such as ["a", "b"], got %s`, steps.Describe(rawValue(b)))
	}
	for i, v := range arr {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("[%d]: must be text, got %s", i, steps.Describe(v))
		}
		if s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// timeBound is a time filter: RFC 3339 text or Unix milliseconds.
type timeBound struct{ ms int64 }

// UnmarshalJSON accepts "2025-01-31T09:00:00Z", 1738314000000 and null.
func (t *timeBound) UnmarshalJSON(b []byte) error {
	*t = timeBound{}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case nil:
		return nil
	case float64:
		if v != math.Trunc(v) || v < 0 || v > 1e15 {
			return fmt.Errorf("must be Unix milliseconds (a whole number such as 1738314000000) or an RFC 3339 time, got %s", steps.Describe(v))
		}
		t.ms = int64(v)
		return nil
	case string:
		s := strings.TrimSpace(v)
		if s == "" {
			return nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
			t.ms = n
			return nil
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("must be an RFC 3339 time such as \"2025-01-31T09:00:00Z\" or Unix milliseconds, got %s", steps.Describe(v))
		}
		t.ms = tm.UnixMilli()
		return nil
	}
	return fmt.Errorf("must be an RFC 3339 time such as \"2025-01-31T09:00:00Z\" or Unix milliseconds, got %s", steps.Describe(v))
}

func rawValue(b []byte) any {
	var v any
	_ = json.Unmarshal(b, &v)
	return v
}

// query builds Lever's query parameters from step inputs.
type query url.Values

func (q query) list(name string, l textList) {
	for _, v := range l {
		url.Values(q).Add(name, v)
	}
}

func (q query) text(name, v string) {
	if v != "" {
		url.Values(q).Set(name, v)
	}
}

func (q query) boolean(name string, b *bool) {
	if b != nil {
		url.Values(q).Set(name, strconv.FormatBool(*b))
	}
}

func (q query) time(name string, t timeBound) {
	if t.ms != 0 {
		url.Values(q).Set(name, strconv.FormatInt(t.ms, 10))
	}
}

// paging are the inputs every list step takes.
type paging struct {
	Limit    int    `json:"limit"`
	Offset   string `json:"offset"`
	AllPages bool   `json:"all_pages"`
	MaxItems int    `json:"max_items"`
}

// listOutput is what a list step returns.
type listOutput struct {
	Items   []any  `json:"items"`
	Count   int    `json:"count"`
	HasNext bool   `json:"has_next"`
	Next    string `json:"next"`
}

func checkLimit(v int) *steps.Problem {
	if v < 1 || v > maxPageSize {
		return &steps.Problem{Path: "limit", Message: fmt.Sprintf("must be from 1 to %d (Lever's page size), got %d", maxPageSize, v)}
	}
	return nil
}

func checkMaxItems(v int) *steps.Problem {
	if v < 1 || v > maxMaxItems {
		return &steps.Problem{Path: "max_items", Message: fmt.Sprintf("must be from 1 to %d, got %d; to read more, continue from next in another step", maxMaxItems, v)}
	}
	return nil
}

// checkPaging is the save-time check of the paging inputs.
func checkPaging(input map[string]any) []steps.Problem {
	var out []steps.Problem
	for name, check := range map[string]func(int) *steps.Problem{"limit": checkLimit, "max_items": checkMaxItems} {
		if f, ok := input[name].(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1e9 {
			if p := check(int(f)); p != nil {
				out = append(out, *p)
			}
		}
	}
	if len(out) == 2 && out[0].Path > out[1].Path {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

// fetchList reads one page, or with AllPages every page up to MaxItems.
// The last page asked for is never larger than the items still wanted, so
// next, when has_next is true, continues exactly after the last item.
func fetchList(ctx context.Context, c *client.Client, path string, q url.Values, p paging, each func(map[string]any)) (listOutput, error) {
	if pr := checkLimit(p.Limit); pr != nil {
		return listOutput{}, pr.Err()
	}
	if p.AllPages {
		if pr := checkMaxItems(p.MaxItems); pr != nil {
			return listOutput{}, pr.Err()
		}
	}
	out := listOutput{Items: []any{}}
	offset := p.Offset
	for {
		size := p.Limit
		if p.AllPages {
			size = min(size, p.MaxItems-len(out.Items))
		}
		pq := url.Values{}
		for k, v := range q {
			pq[k] = v
		}
		pq.Set("limit", strconv.Itoa(size))
		if offset != "" {
			pq.Set("offset", offset)
		}
		page, err := client.FetchPage[json.RawMessage](ctx, c, path, pq)
		if err != nil {
			return listOutput{}, leverError(err)
		}
		for _, raw := range page.Data {
			var item any
			if err := json.Unmarshal(raw, &item); err != nil {
				return listOutput{}, fmt.Errorf("reading Lever's answer to GET %s: %w", path, err)
			}
			if m, ok := item.(map[string]any); ok && each != nil {
				each(m)
			}
			out.Items = append(out.Items, item)
		}
		out.HasNext, out.Next = page.HasNext, page.Next
		if !page.HasNext || !p.AllPages || len(out.Items) >= p.MaxItems || page.Next == "" {
			break
		}
		if page.Next == offset {
			return listOutput{}, fmt.Errorf("GET %s: Lever answered the same next token twice; stopping to avoid a loop", path)
		}
		offset = page.Next
	}
	out.Count = len(out.Items)
	if !out.HasNext {
		out.Next = ""
	}
	return out, nil
}
