package client

import (
	"context"
	"iter"
	"net/url"
)

// Stage is a pipeline stage. Built-in stages have slug ids such as
// "lead-new" and "applicant-new"; custom ones UUIDs.
type Stage struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// ArchiveReason is why an opportunity was archived.
type ArchiveReason struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	Status string `json:"status"` // active, inactive
	Type   string `json:"type"`   // hired, non-hired
}

// Tag is a tag in use and how many opportunities carry it.
type Tag struct {
	Text  string `json:"text"`
	Count int    `json:"count"`
}

// Source is a source in use and how many opportunities carry it.
type Source struct {
	Text  string `json:"text"`
	Count int    `json:"count"`
}

// ListStages iterates over GET /stages.
func (c *Client) ListStages(ctx context.Context, opts ListOptions) iter.Seq2[Stage, error] {
	return List[Stage](ctx, c, "/stages", nil, opts)
}

// GetStage gets one stage.
func (c *Client) GetStage(ctx context.Context, id string) (Stage, error) {
	var out Stage
	err := c.Do(ctx, "GET", "/stages/"+url.PathEscape(id), nil, nil, &out)
	return out, err
}

// ListArchiveReasons iterates over GET /archive_reasons; typ filters by
// "hired" or "non-hired" when not empty.
func (c *Client) ListArchiveReasons(ctx context.Context, typ string, opts ListOptions) iter.Seq2[ArchiveReason, error] {
	q := query{}
	q.str("type", typ)
	return List[ArchiveReason](ctx, c, "/archive_reasons", url.Values(q), opts)
}

// GetArchiveReason gets one archive reason.
func (c *Client) GetArchiveReason(ctx context.Context, id string) (ArchiveReason, error) {
	var out ArchiveReason
	err := c.Do(ctx, "GET", "/archive_reasons/"+url.PathEscape(id), nil, nil, &out)
	return out, err
}

// ListTags iterates over GET /tags.
func (c *Client) ListTags(ctx context.Context, opts ListOptions) iter.Seq2[Tag, error] {
	return List[Tag](ctx, c, "/tags", nil, opts)
}

// ListSources iterates over GET /sources.
func (c *Client) ListSources(ctx context.Context, opts ListOptions) iter.Seq2[Source, error] {
	return List[Source](ctx, c, "/sources", nil, opts)
}
