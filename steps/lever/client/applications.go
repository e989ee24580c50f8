package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
)

// Application links an opportunity to a posting. Lever deprecates the
// application endpoints in favour of GET /opportunities/:id?expand=applications
// (Opportunity.Applications then holds expanded Refs that Decode into
// Application).
type Application struct {
	ID                   string              `json:"id"`
	OpportunityID        string              `json:"opportunityId"`
	CandidateID          string              `json:"candidateId"` // deprecated: OpportunityID
	CreatedAt            Millis              `json:"createdAt"`
	Type                 string              `json:"type"` // posting, user, referral
	Posting              Ref                 `json:"posting"`
	PostingOwner         Ref                 `json:"postingOwner"`
	PostingHiringManager Ref                 `json:"postingHiringManager"`
	User                 Ref                 `json:"user"`
	Name                 string              `json:"name"`
	Email                string              `json:"email"`
	Phone                *Phone              `json:"phone"`
	Company              string              `json:"company"`
	Links                []string            `json:"links"`
	Comments             string              `json:"comments"`
	CustomQuestions      []json.RawMessage   `json:"customQuestions"`
	Archived             *Archived           `json:"archived"`
	RequisitionForHire   *RequisitionForHire `json:"requisitionForHire"`
}

// RequisitionForHire is the requisition an application was hired against.
type RequisitionForHire struct {
	ID                  string `json:"id"`
	RequisitionCode     string `json:"requisitionCode"`
	HiringManagerOnHire string `json:"hiringManagerOnHire"`
}

// ListApplications iterates over GET /opportunities/:id/applications.
func (c *Client) ListApplications(ctx context.Context, opportunityID string, opts ListOptions) iter.Seq2[Application, error] {
	return List[Application](ctx, c, "/opportunities/"+url.PathEscape(opportunityID)+"/applications", nil, opts)
}

// GetApplication gets one application of an opportunity.
func (c *Client) GetApplication(ctx context.Context, opportunityID, applicationID string) (Application, error) {
	var out Application
	err := c.Do(ctx, "GET", "/opportunities/"+url.PathEscape(opportunityID)+"/applications/"+url.PathEscape(applicationID), nil, nil, &out)
	return out, err
}
