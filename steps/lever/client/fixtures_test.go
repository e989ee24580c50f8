package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"
)

// strictData decodes the "data" member of a fixture with unknown fields
// disallowed, proving the typed struct covers every field of the fixture.
func strictData(t *testing.T, raw []byte, v any) {
	t.Helper()
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(env.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("strict decode: %v", err)
	}
}

func TestFixturesDecodeThroughClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		fixture string
		call    func(t *testing.T, c *Client)
	}{
		{"opportunity", "opportunity.json", func(t *testing.T, c *Client) {
			o, err := c.GetOpportunity(ctx, "6f2b8d1e-4c7a-4e93-b0a5-2d9c1f6e8a73", GetOpportunityParams{})
			if err != nil {
				t.Fatal(err)
			}
			if o.Name != "Avery Chen" || o.Contact.ID != "9e4c1b7a-2f8d-4d36-b9a5-0c6e3f1d7b42" || o.Contact.Expanded() {
				t.Errorf("opportunity = %+v", o)
			}
			if o.Stage.ID != "7a2c9e41-0d5b-4f83-b6a1-4e9c3d7f2b08" || len(o.StageChanges) != 3 || o.StageChanges[0].UserID != "" {
				t.Errorf("stage fields = %+v / %+v", o.Stage, o.StageChanges)
			}
			if o.CreatedAt != 1747210897000 || !o.CreatedAt.Time().Equal(time.UnixMilli(1747210897000)) || o.SnoozedUntil != 0 {
				t.Errorf("timestamps = %v %v", o.CreatedAt, o.SnoozedUntil)
			}
			if o.Archived != nil || !o.SourcedBy.IsZero() || len(o.Followers) != 2 || len(o.Applications) != 1 {
				t.Errorf("refs = %+v %+v %+v", o.Archived, o.SourcedBy, o.Followers)
			}
			if o.DataProtection == nil || !o.DataProtection.Store.Allowed || o.DataProtection.Store.ExpiresAt != 1810282897000 || o.DataProtection.Contact.ExpiresAt != 0 {
				t.Errorf("dataProtection = %+v", o.DataProtection)
			}
			if o.URLs.Show == "" || o.OpportunityLocation != "Berlin" || o.Location != "Berlin, Germany" || o.Phones[0] != (Phone{"mobile", "+49 151 2345 6789"}) {
				t.Errorf("misc = %+v", o)
			}
		}},
		{"opportunities page 1", "opportunities_page1.json", func(t *testing.T, c *Client) {
			p, err := c.OpportunitiesPage(ctx, ListOpportunitiesParams{ListOptions: ListOptions{Limit: 2}})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Data) != 2 || !p.HasNext || p.Next != "%5B1%2C1747669202000%2C%221d9a6f3c-8e4b-4c27-a5d0-3b7e2f9c6a18%22%5D" {
				t.Errorf("page = %d items, hasNext %v, next %q", len(p.Data), p.HasNext, p.Next)
			}
			if p.Data[1].SourcedBy.ID != "c47d1e88-3a92-4f0b-b6e1-9a5f2d8c0e14" || p.Data[1].DataProtection != nil {
				t.Errorf("second = %+v", p.Data[1])
			}
		}},
		{"opportunities page 2", "opportunities_page2.json", func(t *testing.T, c *Client) {
			p, err := c.OpportunitiesPage(ctx, ListOpportunitiesParams{})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Data) != 1 || p.HasNext || p.Next != "" {
				t.Fatalf("page = %+v", p)
			}
			a := p.Data[0].Archived
			if a == nil || a.ArchivedAt != 1746523840000 || a.Reason.ID != "5e1c7a92-3f4d-4b68-8a0e-9d2b6c1f4e77" {
				t.Errorf("archived = %+v", a)
			}
		}},
		{"posting", "posting.json", func(t *testing.T, c *Client) {
			p, err := c.GetPosting(ctx, "4c9e2a7f-1b3d-4e85-a6c0-8f2d5b9e1a36", GetPostingParams{})
			if err != nil {
				t.Fatal(err)
			}
			if p.State != PostingPublished || p.WorkplaceType != "hybrid" || p.Country != "DE" || p.HiringManager.ID != "2b6e9d40-1f3c-4a8b-9e57-c0d1a2b3f4e5" {
				t.Errorf("posting = %+v", p)
			}
			if p.SalaryRange == nil || *p.SalaryRange != (SalaryRange{85000, 110000, "EUR", "per-year-salary"}) {
				t.Errorf("salaryRange = %+v", p.SalaryRange)
			}
			if len(p.Content.Lists) != 2 || p.Categories.AllLocations[1] != "Remote - EU" || p.RequisitionCodes[0] != "ENG-142" || p.URLs.Apply == "" {
				t.Errorf("content = %+v categories = %+v", p.Content, p.Categories)
			}
		}},
		{"postings list", "postings_list.json", func(t *testing.T, c *Client) {
			var states []string
			for p, err := range c.ListPostings(ctx, ListPostingsParams{}) {
				if err != nil {
					t.Fatal(err)
				}
				states = append(states, p.State)
				if p.State == PostingDraft && (!p.HiringManager.IsZero() || p.Country != "" || p.SalaryRange != nil) {
					t.Errorf("draft nulls = %+v", p)
				}
			}
			if len(states) != 3 || states[1] != PostingInternal {
				t.Errorf("states = %v", states)
			}
		}},
		{"contact", "contact.json", func(t *testing.T, c *Client) {
			ct, err := c.GetContact(ctx, "9e4c1b7a-2f8d-4d36-b9a5-0c6e3f1d7b42")
			if err != nil {
				t.Fatal(err)
			}
			if ct.Location.Name != "Berlin, Germany" || len(ct.Phones) != 2 || ct.Emails[0] != "avery.chen@mailbox.example" {
				t.Errorf("contact = %+v", ct)
			}
			if in := ContactInputFrom(ct); in.Location != "Berlin, Germany" || in.Name != "Avery Chen" {
				t.Errorf("ContactInputFrom = %+v", in)
			}
		}},
		{"user", "user.json", func(t *testing.T, c *Client) {
			u, err := c.GetUser(ctx, "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31")
			if err != nil {
				t.Fatal(err)
			}
			if u.AccessRole != RoleSuperAdmin || u.DeactivatedAt != 0 || u.ExternalDirectoryID != "NW-10042" || u.ManagerID != "" {
				t.Errorf("user = %+v", u)
			}
		}},
		{"users list", "users_list.json", func(t *testing.T, c *Client) {
			var names []string
			for u, err := range c.ListUsers(ctx, ListUsersParams{}) {
				if err != nil {
					t.Fatal(err)
				}
				names = append(names, u.Name)
			}
			if len(names) != 3 || names[2] != "Lena Fischer" {
				t.Errorf("names = %v", names)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := fixture(t, tt.fixture)
			c, _, _ := setup(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, body) }, nil)
			tt.call(t, c)
		})
	}
}

func TestFixturesStrictFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture string
		into    func() any
	}{
		{"opportunity.json", func() any { return new(Opportunity) }},
		{"opportunities_page1.json", func() any { return new([]Opportunity) }},
		{"opportunities_page2.json", func() any { return new([]Opportunity) }},
		{"posting.json", func() any { return new(Posting) }},
		{"postings_list.json", func() any { return new([]Posting) }},
		{"contact.json", func() any { return new(Contact) }},
		{"user.json", func() any { return new(User) }},
		{"users_list.json", func() any { return new([]User) }},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			strictData(t, fixture(t, tt.fixture), tt.into())
		})
	}
}

func TestFixturesWebhookDeliveries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture string
		event   string
		check   func(d WebhookEventData) bool
	}{
		{"webhook_candidate_stage_change.json", EventCandidateStageChange, func(d WebhookEventData) bool {
			return d.FromStageID == "3d8f1a6c-92b4-4e7d-a0c5-1f6e8b2d9a47" && d.ToStageID == "7a2c9e41-0d5b-4f83-b6a1-4e9c3d7f2b08" && d.OpportunityID == d.CandidateID
		}},
		{"webhook_application_created.json", EventApplicationCreated, func(d WebhookEventData) bool {
			return d.ApplicationID == "7c3e1a9d-6b2f-4e58-90d4-2f8a5c1e7b36" && d.ContactID != ""
		}},
		{"webhook_contact_updated.json", EventContactUpdated, func(d WebhookEventData) bool {
			return d.ContactID == "9e4c1b7a-2f8d-4d36-b9a5-0c6e3f1d7b42" && d.OpportunityID == ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			dec := json.NewDecoder(bytes.NewReader(fixture(t, tt.fixture)))
			dec.DisallowUnknownFields()
			var d WebhookDelivery
			if err := dec.Decode(&d); err != nil {
				t.Fatal(err)
			}
			if d.Event != tt.event || d.TriggeredAt < 1e12 || !tt.check(d.Data) {
				t.Errorf("delivery = %+v", d)
			}
			if !d.ValidSignature("sandbox-signature-token") {
				t.Error("signature does not verify with the fixture token")
			}
			if d.ValidSignature("other-token") {
				t.Error("signature verifies with a wrong token")
			}
			d.TriggeredAt++
			if d.ValidSignature("sandbox-signature-token") {
				t.Error("signature verifies with a changed triggeredAt")
			}
		})
	}
}

func TestFixturesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture string
		status  int
		code    string
		is      error
		text    string
	}{
		{"error_400.json", 400, "BadRequestError", nil,
			"lever: GET /opportunities: 400 BadRequestError: Invalid offset token: Offset token is invalid for sort"},
		{"error_429.json", 429, "TooManyRequestsError", ErrRateLimited,
			"lever: GET /opportunities: 429 TooManyRequestsError: You have exceeded your request rate of 10 r/s."},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			body := fixture(t, tt.fixture)
			c, _, _ := setup(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, tt.status, body) },
				func(cfg *Config) { cfg.MaxRetries = -1 })
			_, err := c.OpportunitiesPage(context.Background(), ListOpportunitiesParams{})
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if apiErr.Status != tt.status || apiErr.Code != tt.code || err.Error() != tt.text {
				t.Errorf("err = %q (%+v)", err, apiErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}
