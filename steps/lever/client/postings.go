package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
)

// Posting states. "internal" is shown as "unlisted" in Lever's UI; there is
// no "closing" state.
const (
	PostingPublished = "published"
	PostingInternal  = "internal"
	PostingClosed    = "closed"
	PostingDraft     = "draft"
	PostingPending   = "pending"
	PostingRejected  = "rejected"
)

// Posting is a job posting.
type Posting struct {
	ID                    string            `json:"id"`
	Text                  string            `json:"text"`
	CreatedAt             Millis            `json:"createdAt"`
	UpdatedAt             Millis            `json:"updatedAt"`
	State                 string            `json:"state"`
	DistributionChannels  []string          `json:"distributionChannels"`
	Confidentiality       string            `json:"confidentiality"`
	User                  Ref               `json:"user"`
	Owner                 Ref               `json:"owner"`
	HiringManager         Ref               `json:"hiringManager"`
	Categories            PostingCategories `json:"categories"`
	Tags                  []string          `json:"tags"`
	Content               PostingContent    `json:"content"`
	Country               string            `json:"country"` // ISO 3166-1 alpha-2
	Followers             []Ref             `json:"followers"`
	ReqCode               string            `json:"reqCode"` // deprecated: RequisitionCodes
	RequisitionCodes      []string          `json:"requisitionCodes"`
	SalaryDescription     string            `json:"salaryDescription"`
	SalaryDescriptionHTML string            `json:"salaryDescriptionHtml"`
	SalaryRange           *SalaryRange      `json:"salaryRange"`
	URLs                  URLs              `json:"urls"`
	WorkplaceType         string            `json:"workplaceType"` // unspecified, onsite, remote, hybrid
}

// PostingCategories are the posting's team, location and so on.
type PostingCategories struct {
	Team         string   `json:"team,omitempty"`
	Department   string   `json:"department,omitempty"`
	Location     string   `json:"location,omitempty"`
	AllLocations []string `json:"allLocations,omitempty"`
	Commitment   string   `json:"commitment,omitempty"`
	Level        string   `json:"level,omitempty"` // deprecated
}

// PostingContent is the posting's text. Description and Closing are
// read-only plain-text renderings.
type PostingContent struct {
	Description     string        `json:"description,omitempty"`
	DescriptionHTML string        `json:"descriptionHtml,omitempty"`
	Lists           []PostingList `json:"lists,omitempty"`
	Closing         string        `json:"closing,omitempty"`
	ClosingHTML     string        `json:"closingHtml,omitempty"`
}

// PostingList is one titled list of a posting ("What you will do").
type PostingList struct {
	Text    string `json:"text"`
	Content string `json:"content"` // HTML <li> items
}

// SalaryRange is all-or-nothing on write.
type SalaryRange struct {
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Currency string  `json:"currency"`
	Interval string  `json:"interval"` // e.g. per-year-salary
}

// ListPostingsParams are the filters of GET /postings (case-sensitive,
// repeatable). UpdatedAt bounds may only be combined with Confidentiality.
type ListPostingsParams struct {
	States []string
	// DistributionChannels: public, internal. A published list shows only
	// public postings unless this is set.
	DistributionChannels []string
	Confidentiality      string
	Teams                []string
	Departments          []string
	Locations            []string
	Commitments          []string
	Levels               []string // deprecated by Lever
	Tags                 []string
	Group                string // location, team, department, commitment
	UpdatedAtStart       Millis
	UpdatedAtEnd         Millis
	Include              []string // content, followers
	Expand               []string // user, owner, hiringManager, followers
	ListOptions
}

// Values encodes the filters as Lever's query parameters.
func (p ListPostingsParams) Values() url.Values {
	q := query{}
	q.strs("state", p.States)
	q.strs("distributionChannel", p.DistributionChannels)
	q.str("confidentiality", p.Confidentiality)
	q.strs("team", p.Teams)
	q.strs("department", p.Departments)
	q.strs("location", p.Locations)
	q.strs("commitment", p.Commitments)
	q.strs("level", p.Levels)
	q.strs("tag", p.Tags)
	q.str("group", p.Group)
	q.millis("updated_at_start", p.UpdatedAtStart)
	q.millis("updated_at_end", p.UpdatedAtEnd)
	q.strs("include", p.Include)
	q.strs("expand", p.Expand)
	return url.Values(q)
}

// ListPostings iterates over GET /postings.
func (c *Client) ListPostings(ctx context.Context, p ListPostingsParams) iter.Seq2[Posting, error] {
	return List[Posting](ctx, c, "/postings", p.Values(), p.ListOptions)
}

// PostingsPage gets one page of GET /postings.
func (c *Client) PostingsPage(ctx context.Context, p ListPostingsParams) (Page[Posting], error) {
	q := p.Values()
	p.ListOptions.apply(q)
	return FetchPage[Posting](ctx, c, "/postings", q)
}

// GetPostingParams are the options of GET /postings/:id.
type GetPostingParams struct {
	// Distribution filters custom questions: internal or external.
	Distribution string
	Include      []string
	Expand       []string
}

// GetPosting gets one posting.
func (c *Client) GetPosting(ctx context.Context, id string, p GetPostingParams) (Posting, error) {
	q := query{}
	q.str("distribution", p.Distribution)
	q.strs("include", p.Include)
	q.strs("expand", p.Expand)
	var out Posting
	err := c.Do(ctx, "GET", "/postings/"+url.PathEscape(id), url.Values(q), nil, &out)
	return out, err
}

// PostingInput is the body of POST /postings (create; Text required) and
// POST /postings/:id (partial update: only non-empty fields are sent, so a
// field cannot be cleared through it). HTML fields accept Lever's small tag
// whitelist.
type PostingInput struct {
	// PerformAs is the acting user id; required.
	PerformAs string `json:"-"`

	Text                  string             `json:"text,omitempty"`
	State                 string             `json:"state,omitempty"`
	DistributionChannels  []string           `json:"distributionChannels,omitempty"`
	Owner                 string             `json:"owner,omitempty"`
	HiringManager         string             `json:"hiringManager,omitempty"`
	Categories            *PostingCategories `json:"categories,omitempty"`
	Tags                  []string           `json:"tags,omitempty"`
	Content               *PostingContent    `json:"content,omitempty"`
	WorkplaceType         string             `json:"workplaceType,omitempty"`
	RequisitionCodes      []string           `json:"requisitionCodes,omitempty"`
	SalaryDescriptionHTML string             `json:"salaryDescriptionHtml,omitempty"`
	SalaryRange           *SalaryRange       `json:"salaryRange,omitempty"`
}

// CreatePosting creates a posting (201). Like every POST it is retried on
// 5xx only with Idempotent or BeforeRetry.
func (c *Client) CreatePosting(ctx context.Context, in PostingInput, opts ...CallOption) (Posting, error) {
	if in.PerformAs == "" {
		return Posting{}, ErrPerformAsRequired
	}
	var out Posting
	err := c.Do(ctx, "POST", "/postings", performAsQuery(in.PerformAs), in, &out, opts...)
	return out, err
}

// UpdatePosting partially updates a posting (POST /postings/:id). Setting
// the same fields twice is harmless, so it is sent as Idempotent.
func (c *Client) UpdatePosting(ctx context.Context, id string, in PostingInput) (Posting, error) {
	if in.PerformAs == "" {
		return Posting{}, ErrPerformAsRequired
	}
	var out Posting
	err := c.Do(ctx, "POST", "/postings/"+url.PathEscape(id), performAsQuery(in.PerformAs), in, &out, Idempotent())
	return out, err
}

// ApplyQuestions is the application form of a posting
// (GET /postings/:id/apply). Its shape is not in our reference; the
// question lists are kept raw.
type ApplyQuestions struct {
	ID                  string            `json:"id"`
	Text                string            `json:"text"`
	PersonalInformation []ApplyField      `json:"personalInformation"`
	URLs                []ApplyField      `json:"urls"`
	CustomQuestions     []json.RawMessage `json:"customQuestions"`
	EEOQuestions        json.RawMessage   `json:"eeoQuestions"`
}

// ApplyField is one named field of an application form.
type ApplyField struct {
	Text     string `json:"text"`
	Name     string `json:"name,omitempty"`
	Type     string `json:"type,omitempty"`
	Required bool   `json:"required"`
}

// GetApplyQuestions gets a posting's application questions.
func (c *Client) GetApplyQuestions(ctx context.Context, postingID string) (ApplyQuestions, error) {
	var out ApplyQuestions
	err := c.Do(ctx, "GET", "/postings/"+url.PathEscape(postingID)+"/apply", nil, nil, &out)
	return out, err
}

// ApplyInput is the body of POST /postings/:id/apply. The answer shapes
// follow the questions from GetApplyQuestions and are passed through.
type ApplyInput struct {
	PersonalInformation []ApplyValue      `json:"personalInformation,omitempty"`
	URLs                []ApplyValue      `json:"urls,omitempty"`
	CustomQuestions     []json.RawMessage `json:"customQuestions,omitempty"`
	EEOResponses        json.RawMessage   `json:"eeoResponses,omitempty"`
	Consent             json.RawMessage   `json:"consent,omitempty"`
	Diversity           json.RawMessage   `json:"diversitySurvey,omitempty"`
	Origin              string            `json:"origin,omitempty"`
	Sources             []string          `json:"sources,omitempty"`
}

// ApplyValue answers one named field.
type ApplyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ApplyResult is what POST /postings/:id/apply returns.
type ApplyResult struct {
	ApplicationID string `json:"applicationId"`
}

// Apply submits an application to a published or internal posting. It is a
// write without idempotency and is not retried on 5xx unless opts say so.
func (c *Client) Apply(ctx context.Context, postingID string, in ApplyInput, sendConfirmationEmail bool, opts ...CallOption) (ApplyResult, error) {
	q := query{}
	q.flag("send_confirmation_email", sendConfirmationEmail)
	var out ApplyResult
	err := c.Do(ctx, "POST", "/postings/"+url.PathEscape(postingID)+"/apply", url.Values(q), in, &out, opts...)
	return out, err
}
