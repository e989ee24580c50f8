package client

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"
)

// Page is one page of a Lever list.
type Page[T any] struct {
	Data []T `json:"data"`
	// HasNext is false when Lever omits it (small catalog endpoints).
	HasNext bool `json:"hasNext"`
	// Next is the opaque offset token for the following page; pass it back
	// unchanged as ListOptions.Offset.
	Next string `json:"next"`
}

// ListOptions are the paging controls every list call takes.
type ListOptions struct {
	// Limit is the page size, 1-100; 0 leaves Lever's default (100).
	Limit int
	// Offset is a Next token from an earlier page; empty starts at the top.
	Offset string
	// MaxItems stops an iterator after this many items; 0 means no cap.
	// A Page call ignores it.
	MaxItems int
}

func (o ListOptions) apply(q url.Values) {
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Offset != "" {
		q.Set("offset", o.Offset)
	}
}

// FetchPage gets one page of path. The "offset" and "limit" in query, if
// any, are sent as given.
func FetchPage[T any](ctx context.Context, c *Client, path string, query url.Values) (Page[T], error) {
	var p Page[T]
	raw, _, err := c.call(ctx, "GET", path, query, nil, nil)
	if err != nil {
		return p, err
	}
	if len(raw) == 0 {
		return p, nil
	}
	if err := decodeJSON(raw, &p); err != nil {
		return Page[T]{}, fmt.Errorf("lever: GET %s: decoding page: %w", path, err)
	}
	if !p.HasNext {
		p.Next = ""
	}
	return p, nil
}

// List iterates over every item of path, following next tokens, starting at
// opts.Offset and stopping after opts.MaxItems items when that is set. An
// error is yielded once, as the last pair. Stop early by breaking out of
// the loop; no further request is made.
func List[T any](ctx context.Context, c *Client, path string, query url.Values, opts ListOptions) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		q := url.Values{}
		for k, v := range query {
			q[k] = append([]string(nil), v...)
		}
		opts.apply(q)
		seen := 0
		for {
			p, err := FetchPage[T](ctx, c, path, q)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range p.Data {
				if opts.MaxItems > 0 && seen >= opts.MaxItems {
					return
				}
				seen++
				if !yield(item, nil) {
					return
				}
			}
			if !p.HasNext || (opts.MaxItems > 0 && seen >= opts.MaxItems) {
				return
			}
			if p.Next == "" {
				var zero T
				yield(zero, fmt.Errorf("lever: GET %s: hasNext is true but next is missing", path))
				return
			}
			if p.Next == q.Get("offset") {
				var zero T
				yield(zero, fmt.Errorf("lever: GET %s: next token repeats the current offset", path))
				return
			}
			q.Set("offset", p.Next)
		}
	}
}
