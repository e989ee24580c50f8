package client

import (
	"context"
	"errors"
	"iter"
	"net/url"
)

// Opportunity is one candidacy of a contact (Lever's "candidate" of old).
// Fields that expand can turn into objects are Ref.
type Opportunity struct {
	ID                  string          `json:"id"`
	Name                string          `json:"name"`
	Headline            string          `json:"headline"`
	Contact             Ref             `json:"contact"`
	Emails              []string        `json:"emails"`
	Phones              []Phone         `json:"phones"`
	Confidentiality     string          `json:"confidentiality"`
	Location            string          `json:"location"`
	Links               []string        `json:"links"`
	CreatedAt           Millis          `json:"createdAt"`
	UpdatedAt           Millis          `json:"updatedAt"` // zero when null on old records
	LastInteractionAt   Millis          `json:"lastInteractionAt"`
	LastAdvancedAt      Millis          `json:"lastAdvancedAt"`
	SnoozedUntil        Millis          `json:"snoozedUntil"`
	Archived            *Archived       `json:"archived"` // nil when active
	Stage               Ref             `json:"stage"`
	StageChanges        []StageChange   `json:"stageChanges"`
	Owner               Ref             `json:"owner"`
	Tags                []string        `json:"tags"`
	Sources             []string        `json:"sources"`
	Origin              string          `json:"origin"`
	SourcedBy           Ref             `json:"sourcedBy"`
	Applications        []Ref           `json:"applications"`
	Followers           []Ref           `json:"followers"`
	URLs                URLs            `json:"urls"`
	DataProtection      *DataProtection `json:"dataProtection"`
	IsAnonymized        bool            `json:"isAnonymized"`
	OpportunityLocation string          `json:"opportunityLocation"`
	// DeletedBy and DeletedAt are set only by ListDeletedOpportunities.
	DeletedBy Ref    `json:"deletedBy"`
	DeletedAt Millis `json:"deletedAt"`
}

// StageChange is one entry of an opportunity's stage history.
type StageChange struct {
	ToStageID    string `json:"toStageId"`
	ToStageIndex int    `json:"toStageIndex"`
	UpdatedAt    Millis `json:"updatedAt"`
	UserID       string `json:"userId"` // empty when Lever moved it
}

// DataProtection is the GDPR consent state of an opportunity.
type DataProtection struct {
	Store   *Consent `json:"store"`
	Contact *Consent `json:"contact"`
}

// Consent is one data-protection permission.
type Consent struct {
	Allowed   bool   `json:"allowed"`
	ExpiresAt Millis `json:"expiresAt"` // zero when it does not expire
}

// Opportunity origins.
const (
	OriginAgency     = "agency"
	OriginApplied    = "applied"
	OriginInternal   = "internal"
	OriginReferred   = "referred"
	OriginSourced    = "sourced"
	OriginUniversity = "university"
)

// Confidentiality filter values.
const (
	ConfidentialityNonConfidential = "non-confidential"
	ConfidentialityConfidential    = "confidential"
	ConfidentialityAll             = "all"
)

// ListOpportunitiesParams are the filters of GET /opportunities. Slices
// are sent as repeated parameters and joined with OR by Lever; the time
// bounds are inclusive and zero means unset.
type ListOpportunitiesParams struct {
	Tags               []string
	Emails             []string
	Origins            []string
	Sources            []string
	Confidentiality    string // non-confidential (Lever's default), confidential, all
	StageIDs           []string
	PostingIDs         []string
	ArchivedPostingIDs []string
	CreatedAtStart     Millis
	CreatedAtEnd       Millis
	UpdatedAtStart     Millis
	UpdatedAtEnd       Millis
	AdvancedAtStart    Millis
	AdvancedAtEnd      Millis
	ArchivedAtStart    Millis
	ArchivedAtEnd      Millis
	Archived           *bool
	ArchiveReasonIDs   []string
	Snoozed            *bool
	ContactIDs         []string
	Locations          []string
	// Expand: applications, stage, owner, followers, sourcedBy, contact.
	Expand []string
	// Include narrows the response to the named fields only.
	Include []string
	ListOptions
}

// Values encodes the filters as Lever's query parameters.
func (p ListOpportunitiesParams) Values() url.Values {
	q := query{}
	q.strs("tag", p.Tags)
	q.strs("email", p.Emails)
	q.strs("origin", p.Origins)
	q.strs("source", p.Sources)
	q.str("confidentiality", p.Confidentiality)
	q.strs("stage_id", p.StageIDs)
	q.strs("posting_id", p.PostingIDs)
	q.strs("archived_posting_id", p.ArchivedPostingIDs)
	q.millis("created_at_start", p.CreatedAtStart)
	q.millis("created_at_end", p.CreatedAtEnd)
	q.millis("updated_at_start", p.UpdatedAtStart)
	q.millis("updated_at_end", p.UpdatedAtEnd)
	q.millis("advanced_at_start", p.AdvancedAtStart)
	q.millis("advanced_at_end", p.AdvancedAtEnd)
	q.millis("archived_at_start", p.ArchivedAtStart)
	q.millis("archived_at_end", p.ArchivedAtEnd)
	q.boolp("archived", p.Archived)
	q.strs("archive_reason_id", p.ArchiveReasonIDs)
	q.boolp("snoozed", p.Snoozed)
	q.strs("contact_id", p.ContactIDs)
	q.strs("location", p.Locations)
	q.strs("expand", p.Expand)
	q.strs("include", p.Include)
	return url.Values(q)
}

// ListOpportunities iterates over GET /opportunities.
func (c *Client) ListOpportunities(ctx context.Context, p ListOpportunitiesParams) iter.Seq2[Opportunity, error] {
	return List[Opportunity](ctx, c, "/opportunities", p.Values(), p.ListOptions)
}

// OpportunitiesPage gets one page of GET /opportunities.
func (c *Client) OpportunitiesPage(ctx context.Context, p ListOpportunitiesParams) (Page[Opportunity], error) {
	q := p.Values()
	p.ListOptions.apply(q)
	return FetchPage[Opportunity](ctx, c, "/opportunities", q)
}

// GetOpportunityParams are the options of GET /opportunities/:id.
type GetOpportunityParams struct {
	Expand  []string
	Include []string
}

// GetOpportunity gets one opportunity.
func (c *Client) GetOpportunity(ctx context.Context, id string, p GetOpportunityParams) (Opportunity, error) {
	q := query{}
	q.strs("expand", p.Expand)
	q.strs("include", p.Include)
	var o Opportunity
	err := c.Do(ctx, "GET", "/opportunities/"+url.PathEscape(id), url.Values(q), nil, &o)
	return o, err
}

// ListDeletedOpportunitiesParams are the filters of GET /opportunities/deleted.
type ListDeletedOpportunitiesParams struct {
	DeletedAtStart Millis
	DeletedAtEnd   Millis
	ListOptions
}

// Values encodes the filters as Lever's query parameters.
func (p ListDeletedOpportunitiesParams) Values() url.Values {
	q := query{}
	q.millis("deleted_at_start", p.DeletedAtStart)
	q.millis("deleted_at_end", p.DeletedAtEnd)
	return url.Values(q)
}

// ListDeletedOpportunities iterates over GET /opportunities/deleted; items
// carry DeletedBy and DeletedAt.
func (c *Client) ListDeletedOpportunities(ctx context.Context, p ListDeletedOpportunitiesParams) iter.Seq2[Opportunity, error] {
	return List[Opportunity](ctx, c, "/opportunities/deleted", p.Values(), p.ListOptions)
}

// CreateOpportunityInput is the body of POST /opportunities plus its query
// options. Ids are plain strings.
type CreateOpportunityInput struct {
	// PerformAs is the acting user id; required.
	PerformAs string `json:"-"`
	// Parse asks Lever to parse the resume (only useful with files).
	Parse bool `json:"-"`
	// PerformAsPostingOwner makes the posting owner the actor.
	PerformAsPostingOwner bool `json:"-"`

	Name     string   `json:"name,omitempty"`
	Headline string   `json:"headline,omitempty"`
	Stage    string   `json:"stage,omitempty"` // default: New Lead
	Location string   `json:"location,omitempty"`
	Phones   []Phone  `json:"phones,omitempty"`
	Emails   []string `json:"emails,omitempty"`
	Links    []string `json:"links,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	Sources  []string `json:"sources,omitempty"`
	Origin   string   `json:"origin,omitempty"`
	Owner    string   `json:"owner,omitempty"`
	// Followers always gets the creator added by Lever.
	Followers []string `json:"followers,omitempty"`
	// Postings holds at most one posting id; Lever rejects more.
	Postings  []string `json:"postings,omitempty"`
	CreatedAt Millis   `json:"createdAt,omitempty"`
	// Archived creates the opportunity archived; Reason is required.
	Archived            *ArchiveAt `json:"archived,omitempty"`
	Contact             string     `json:"contact,omitempty"`
	OpportunityLocation string     `json:"opportunityLocation,omitempty"`
}

// ArchiveAt archives a new opportunity with a reason, optionally in the
// past (ArchivedAt must be after CreatedAt).
type ArchiveAt struct {
	Reason     string `json:"reason"`
	ArchivedAt Millis `json:"archivedAt,omitempty"`
}

// ErrPerformAsRequired is returned before any request when an endpoint that
// Lever requires perform_as on is called without it.
var ErrPerformAsRequired = errors.New("lever: perform_as (acting user id) is required")

// CreateOpportunity creates an opportunity. Lever dedupes on email into an
// existing contact but always creates a new opportunity, and has no
// idempotency key: the POST is not retried on 5xx or network errors unless
// opts has Idempotent or BeforeRetry (use BeforeRetry to look the
// opportunity up first). With BeforeRetry reporting done, the zero
// Opportunity and a nil error are returned.
func (c *Client) CreateOpportunity(ctx context.Context, in CreateOpportunityInput, opts ...CallOption) (Opportunity, error) {
	if in.PerformAs == "" {
		return Opportunity{}, ErrPerformAsRequired
	}
	q := query{"perform_as": {in.PerformAs}}
	q.flag("parse", in.Parse)
	q.flag("perform_as_posting_owner", in.PerformAsPostingOwner)
	var o Opportunity
	err := c.Do(ctx, "POST", "/opportunities", url.Values(q), in, &o, opts...)
	return o, err
}

// UpdateOpportunityStage moves an opportunity (PUT /opportunities/:id/stage).
// performAs is optional.
func (c *Client) UpdateOpportunityStage(ctx context.Context, id, stageID, performAs string) (Opportunity, error) {
	var o Opportunity
	body := struct {
		Stage string `json:"stage"`
	}{stageID}
	err := c.Do(ctx, "PUT", "/opportunities/"+url.PathEscape(id)+"/stage", performAsQuery(performAs), body, &o)
	return o, err
}

// ArchiveInput is the body of PUT /opportunities/:id/archived.
type ArchiveInput struct {
	PerformAs string `json:"-"`
	// Reason is the archive reason id.
	Reason          string `json:"reason"`
	CleanInterviews *bool  `json:"cleanInterviews,omitempty"`
	RequisitionID   string `json:"requisitionId,omitempty"`
}

// ArchiveOpportunity archives an opportunity with a reason.
func (c *Client) ArchiveOpportunity(ctx context.Context, id string, in ArchiveInput) (Opportunity, error) {
	if in.Reason == "" {
		return Opportunity{}, errors.New("lever: archiving needs a reason id")
	}
	var o Opportunity
	err := c.Do(ctx, "PUT", "/opportunities/"+url.PathEscape(id)+"/archived", performAsQuery(in.PerformAs), in, &o)
	return o, err
}

// UnarchiveOpportunity sends {"reason": null} to restore an opportunity.
func (c *Client) UnarchiveOpportunity(ctx context.Context, id, performAs string) (Opportunity, error) {
	var o Opportunity
	body := struct {
		Reason *string `json:"reason"`
	}{}
	err := c.Do(ctx, "PUT", "/opportunities/"+url.PathEscape(id)+"/archived", performAsQuery(performAs), body, &o)
	return o, err
}

// AddOpportunityTags adds tags (created when new). performAs is optional.
// This and the other add/remove calls are POSTs that are safe to repeat, so
// they are sent as Idempotent.
func (c *Client) AddOpportunityTags(ctx context.Context, id, performAs string, tags ...string) (Opportunity, error) {
	return c.opportunityList(ctx, id, "addTags", "tags", performAs, tags)
}

// RemoveOpportunityTags removes tags.
func (c *Client) RemoveOpportunityTags(ctx context.Context, id, performAs string, tags ...string) (Opportunity, error) {
	return c.opportunityList(ctx, id, "removeTags", "tags", performAs, tags)
}

// AddOpportunityLinks adds links.
func (c *Client) AddOpportunityLinks(ctx context.Context, id, performAs string, links ...string) (Opportunity, error) {
	return c.opportunityList(ctx, id, "addLinks", "links", performAs, links)
}

// RemoveOpportunityLinks removes links.
func (c *Client) RemoveOpportunityLinks(ctx context.Context, id, performAs string, links ...string) (Opportunity, error) {
	return c.opportunityList(ctx, id, "removeLinks", "links", performAs, links)
}

// AddOpportunitySources adds sources (created when new).
func (c *Client) AddOpportunitySources(ctx context.Context, id, performAs string, sources ...string) (Opportunity, error) {
	return c.opportunityList(ctx, id, "addSources", "sources", performAs, sources)
}

// RemoveOpportunitySources removes sources.
func (c *Client) RemoveOpportunitySources(ctx context.Context, id, performAs string, sources ...string) (Opportunity, error) {
	return c.opportunityList(ctx, id, "removeSources", "sources", performAs, sources)
}

func (c *Client) opportunityList(ctx context.Context, id, action, field, performAsID string, values []string) (Opportunity, error) {
	if values == nil {
		values = []string{}
	}
	var o Opportunity
	body := map[string][]string{field: values}
	err := c.Do(ctx, "POST", "/opportunities/"+url.PathEscape(id)+"/"+action, performAsQuery(performAsID), body, &o, Idempotent())
	return o, err
}
