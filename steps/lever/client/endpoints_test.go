package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
)

// TestEndpointsRequests checks the method, path, query and body each typed
// call sends, against a real server that answers every call.
func TestEndpointsRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name      string
		call      func(c *Client) error
		method    string
		path      string
		query     map[string][]string
		body      string
		respond   int
		respBody  string
		checkResp func(t *testing.T, c *Client)
	}{
		{name: "get opportunity with expand", method: "GET", path: "/v1/opportunities/o%2F1",
			call: func(c *Client) error {
				_, err := c.GetOpportunity(ctx, "o/1", GetOpportunityParams{Expand: []string{"stage", "owner"}, Include: []string{"stage"}})
				return err
			}, query: map[string][]string{"expand": {"stage", "owner"}, "include": {"stage"}}},
		{name: "deleted opportunities", method: "GET", path: "/v1/opportunities/deleted",
			call: func(c *Client) error {
				_, err := collect(t, c.ListDeletedOpportunities(ctx, ListDeletedOpportunitiesParams{DeletedAtStart: 5}))
				return err
			}, query: map[string][]string{"deleted_at_start": {"5"}}, respBody: `{"data":[],"hasNext":false}`},
		{name: "create opportunity", method: "POST", path: "/v1/opportunities",
			call: func(c *Client) error {
				_, err := c.CreateOpportunity(ctx, CreateOpportunityInput{
					PerformAs: "u1", Parse: true, PerformAsPostingOwner: true,
					Name: "Avery Chen", Emails: []string{"a@x.example"}, Postings: []string{"p1"}, Origin: OriginSourced,
					Phones: []Phone{{Type: "mobile", Value: "+1"}}, Archived: &ArchiveAt{Reason: "r1", ArchivedAt: 20}, CreatedAt: 10,
				})
				return err
			}, query: map[string][]string{"perform_as": {"u1"}, "parse": {"true"}, "perform_as_posting_owner": {"true"}},
			body:    `{"name":"Avery Chen","phones":[{"type":"mobile","value":"+1"}],"emails":["a@x.example"],"origin":"sourced","postings":["p1"],"createdAt":10,"archived":{"reason":"r1","archivedAt":20}}`,
			respond: 201},
		{name: "update stage", method: "PUT", path: "/v1/opportunities/o1/stage",
			call:  func(c *Client) error { _, err := c.UpdateOpportunityStage(ctx, "o1", "lead-new", "u1"); return err },
			query: map[string][]string{"perform_as": {"u1"}}, body: `{"stage":"lead-new"}`},
		{name: "archive", method: "PUT", path: "/v1/opportunities/o1/archived",
			call: func(c *Client) error {
				_, err := c.ArchiveOpportunity(ctx, "o1", ArchiveInput{Reason: "r1", CleanInterviews: Bool(true)})
				return err
			}, body: `{"reason":"r1","cleanInterviews":true}`},
		{name: "unarchive sends null reason", method: "PUT", path: "/v1/opportunities/o1/archived",
			call: func(c *Client) error { _, err := c.UnarchiveOpportunity(ctx, "o1", ""); return err }, body: `{"reason":null}`},
		{name: "add tags", method: "POST", path: "/v1/opportunities/o1/addTags",
			call:  func(c *Client) error { _, err := c.AddOpportunityTags(ctx, "o1", "u1", "Go", "Berlin"); return err },
			query: map[string][]string{"perform_as": {"u1"}}, body: `{"tags":["Go","Berlin"]}`},
		{name: "remove tags", method: "POST", path: "/v1/opportunities/o1/removeTags",
			call: func(c *Client) error { _, err := c.RemoveOpportunityTags(ctx, "o1", "", "Go"); return err }, body: `{"tags":["Go"]}`},
		{name: "add links", method: "POST", path: "/v1/opportunities/o1/addLinks",
			call: func(c *Client) error { _, err := c.AddOpportunityLinks(ctx, "o1", "", "https://x.example"); return err }, body: `{"links":["https://x.example"]}`},
		{name: "remove links", method: "POST", path: "/v1/opportunities/o1/removeLinks",
			call: func(c *Client) error { _, err := c.RemoveOpportunityLinks(ctx, "o1", ""); return err }, body: `{"links":[]}`},
		{name: "add sources", method: "POST", path: "/v1/opportunities/o1/addSources",
			call: func(c *Client) error { _, err := c.AddOpportunitySources(ctx, "o1", "", "LinkedIn"); return err }, body: `{"sources":["LinkedIn"]}`},
		{name: "remove sources", method: "POST", path: "/v1/opportunities/o1/removeSources",
			call: func(c *Client) error { _, err := c.RemoveOpportunitySources(ctx, "o1", "", "LinkedIn"); return err }, body: `{"sources":["LinkedIn"]}`},
		{name: "update contact", method: "PUT", path: "/v1/contacts/c1",
			call: func(c *Client) error {
				_, err := c.UpdateContact(ctx, "c1", ContactInput{Name: "A", Location: "Berlin", Emails: []string{"a@x.example"}})
				return err
			}, body: `{"name":"A","location":"Berlin","emails":["a@x.example"]}`},
		{name: "create posting", method: "POST", path: "/v1/postings",
			call: func(c *Client) error {
				_, err := c.CreatePosting(ctx, PostingInput{PerformAs: "u1", Text: "Go dev", Categories: &PostingCategories{Team: "Platform"},
					SalaryRange: &SalaryRange{Min: 1, Max: 2, Currency: "EUR", Interval: "per-year-salary"}})
				return err
			}, query: map[string][]string{"perform_as": {"u1"}}, respond: 201,
			body: `{"text":"Go dev","categories":{"team":"Platform"},"salaryRange":{"min":1,"max":2,"currency":"EUR","interval":"per-year-salary"}}`},
		{name: "partial posting update is a POST", method: "POST", path: "/v1/postings/p1",
			call: func(c *Client) error {
				_, err := c.UpdatePosting(ctx, "p1", PostingInput{PerformAs: "u1", State: PostingClosed})
				return err
			}, query: map[string][]string{"perform_as": {"u1"}}, body: `{"state":"closed"}`},
		{name: "get posting", method: "GET", path: "/v1/postings/p1",
			call: func(c *Client) error {
				_, err := c.GetPosting(ctx, "p1", GetPostingParams{Distribution: "external", Expand: []string{"owner"}})
				return err
			}, query: map[string][]string{"distribution": {"external"}, "expand": {"owner"}}},
		{name: "apply questions", method: "GET", path: "/v1/postings/p1/apply",
			call: func(c *Client) error { _, err := c.GetApplyQuestions(ctx, "p1"); return err }},
		{name: "apply", method: "POST", path: "/v1/postings/p1/apply",
			call: func(c *Client) error {
				_, err := c.Apply(ctx, "p1", ApplyInput{PersonalInformation: []ApplyValue{{Name: "fullName", Value: "A"}}}, true)
				return err
			}, query: map[string][]string{"send_confirmation_email": {"true"}}, respond: 201, respBody: `{"data":{"applicationId":"a1"}}`,
			body: `{"personalInformation":[{"name":"fullName","value":"A"}]}`},
		{name: "list applications", method: "GET", path: "/v1/opportunities/o1/applications",
			call:     func(c *Client) error { _, err := collect(t, c.ListApplications(ctx, "o1", ListOptions{})); return err },
			respBody: `{"data":[{"id":"a1","posting":{"id":"p1","text":"Go dev"}}],"hasNext":false}`},
		{name: "get application", method: "GET", path: "/v1/opportunities/o1/applications/a1",
			call: func(c *Client) error { _, err := c.GetApplication(ctx, "o1", "a1"); return err }},
		{name: "create user", method: "POST", path: "/v1/users",
			call: func(c *Client) error {
				_, err := c.CreateUser(ctx, UserInput{Name: "N", Email: "n@x.example", AccessRole: RoleInterviewer})
				return err
			}, respond: 201, body: `{"name":"N","email":"n@x.example","accessRole":"interviewer"}`},
		{name: "update user", method: "PUT", path: "/v1/users/u1",
			call: func(c *Client) error {
				_, err := c.UpdateUser(ctx, "u1", UserInput{Name: "N", Email: "n@x.example", AccessRole: RoleAdmin})
				return err
			}, body: `{"name":"N","email":"n@x.example","accessRole":"admin"}`},
		{name: "deactivate user", method: "POST", path: "/v1/users/u1/deactivate",
			call: func(c *Client) error { _, err := c.DeactivateUser(ctx, "u1"); return err }},
		{name: "reactivate user", method: "POST", path: "/v1/users/u1/reactivate",
			call: func(c *Client) error { _, err := c.ReactivateUser(ctx, "u1"); return err }},
		{name: "get stage", method: "GET", path: "/v1/stages/lead-new",
			call: func(c *Client) error { _, err := c.GetStage(ctx, "lead-new"); return err }},
		{name: "archive reasons by type", method: "GET", path: "/v1/archive_reasons",
			call: func(c *Client) error {
				_, err := collect(t, c.ListArchiveReasons(ctx, "hired", ListOptions{}))
				return err
			},
			query: map[string][]string{"type": {"hired"}}, respBody: `{"data":[{"id":"r","text":"Hired","status":"active","type":"hired"}]}`},
		{name: "get archive reason", method: "GET", path: "/v1/archive_reasons/r1",
			call: func(c *Client) error { _, err := c.GetArchiveReason(ctx, "r1"); return err }},
		{name: "sources", method: "GET", path: "/v1/sources",
			call:     func(c *Client) error { _, err := collect(t, c.ListSources(ctx, ListOptions{})); return err },
			respBody: `{"data":[{"text":"LinkedIn","count":4}]}`},
		{name: "list webhooks", method: "GET", path: "/v1/webhooks",
			call:     func(c *Client) error { _, err := collect(t, c.ListWebhooks(ctx, ListOptions{})); return err },
			respBody: `{"data":[{"id":"w1","url":"https://x.example/h","event":"candidateHired","createdAt":1,"updatedAt":2,"configuration":{"conditions":{"origins":["applied"]}}}]}`},
		{name: "create webhook", method: "POST", path: "/v1/webhooks",
			call: func(c *Client) error {
				w, err := c.CreateWebhook(ctx, WebhookInput{URL: "https://x.example/h", Event: EventCandidateStageChange})
				if err == nil && w.Configuration.SignatureToken != "sig" {
					return errors.New("signature token not decoded")
				}
				return err
			}, respond: 201, respBody: `{"data":{"id":"w1","configuration":{"signatureToken":"sig"}}}`,
			body: `{"url":"https://x.example/h","event":"candidateStageChange"}`},
		{name: "update webhooks", method: "PUT", path: "/v1/webhooks",
			call: func(c *Client) error {
				ws, err := c.UpdateWebhooks(ctx, WebhookUpdate{ID: "w1", URL: "https://y.example/h"})
				if err == nil && (len(ws) != 1 || ws[0].ID != "w1") {
					return errors.New("update list not decoded")
				}
				return err
			}, respBody: `{"data":[{"id":"w1","url":"https://y.example/h"}]}`, body: `{"data":[{"id":"w1","url":"https://y.example/h"}]}`},
		{name: "delete webhook", method: "DELETE", path: "/v1/webhooks/w1",
			call: func(c *Client) error { return c.DeleteWebhook(ctx, "w1") }, respond: 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, body := tt.respond, tt.respBody
			if code == 0 {
				code = 200
			}
			if body == "" && code != 204 {
				body = `{"data":{"id":"x"}}`
			}
			c, srv, _ := setup(t, status(code, body), nil)
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %d", len(reqs))
			}
			r := reqs[0]
			wantQuery := tt.query
			if wantQuery == nil {
				wantQuery = map[string][]string{}
			}
			if r.Method != tt.method || r.Path != tt.path || !reflect.DeepEqual(r.Query, wantQuery) {
				t.Errorf("got %s %s ?%v, want %s %s ?%v", r.Method, r.Path, r.Query, tt.method, tt.path, wantQuery)
			}
			if r.Body != tt.body {
				t.Errorf("body\n got %s\nwant %s", r.Body, tt.body)
			}
		})
	}
}

func TestEndpointsValidateBeforeSending(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, srv, _ := setup(t, status(200, `{}`), nil)
	checks := []struct {
		name string
		err  error
	}{
		{"create opportunity without perform_as", func() error { _, err := c.CreateOpportunity(ctx, CreateOpportunityInput{Name: "x"}); return err }()},
		{"create posting without perform_as", func() error { _, err := c.CreatePosting(ctx, PostingInput{Text: "x"}); return err }()},
		{"update posting without perform_as", func() error { _, err := c.UpdatePosting(ctx, "p", PostingInput{Text: "x"}); return err }()},
	}
	for _, ch := range checks {
		if !errors.Is(ch.err, ErrPerformAsRequired) {
			t.Errorf("%s: err = %v", ch.name, ch.err)
		}
	}
	if _, err := c.ArchiveOpportunity(ctx, "o", ArchiveInput{}); err == nil {
		t.Error("archive without reason: no error")
	}
	if _, err := c.UpdateUser(ctx, "u", UserInput{Name: "n", Email: "e"}); err == nil {
		t.Error("update user without accessRole: no error")
	}
	if _, err := c.CreateUser(ctx, UserInput{Name: "n"}); err == nil {
		t.Error("create user without email: no error")
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("requests = %d, want 0", n)
	}
}

func TestCreateOpportunityDedupeHook(t *testing.T) {
	t.Parallel()
	// The first POST fails with 502 after Lever may have written; the hook
	// finds the opportunity by email and posting, so no second POST is sent.
	c, srv, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case "POST":
			writeJSON(w, 502, `{"code":"BadGateway","message":"upstream"}`)
		case "GET":
			writeJSON(w, 200, `{"data":[{"id":"o-existing","name":"Avery Chen"}],"hasNext":false}`)
		}
	}, nil)
	ctx := context.Background()
	var found *Opportunity
	o, err := c.CreateOpportunity(ctx, CreateOpportunityInput{PerformAs: "u1", Name: "Avery Chen", Emails: []string{"a@x.example"}, Postings: []string{"p1"}},
		BeforeRetry(func(ctx context.Context) (bool, error) {
			for o, err := range c.ListOpportunities(ctx, ListOpportunitiesParams{Emails: []string{"a@x.example"}, PostingIDs: []string{"p1"}, ListOptions: ListOptions{MaxItems: 1}}) {
				if err != nil {
					return false, err
				}
				found = &o
				return true, nil
			}
			return false, nil
		}))
	if err != nil || o.ID != "" || found == nil || found.ID != "o-existing" {
		t.Fatalf("o = %+v, found = %+v, err %v", o, found, err)
	}
	var posts int
	for _, r := range srv.Requests() {
		if r.Method == "POST" {
			posts++
		}
	}
	if posts != 1 {
		t.Errorf("POSTs = %d, want 1", posts)
	}
}

func TestExpandedRefs(t *testing.T) {
	t.Parallel()
	body := `{"data":{"id":"o1","stage":{"id":"lead-new","text":"New lead"},"owner":{"id":"u1","name":"Lena","accessRole":"team member"},
		"followers":[{"id":"u1","name":"Lena"},"u2"],"applications":[{"id":"a1","type":"posting","posting":"p1"}],
		"contact":{"id":"c1","name":"Avery","location":{"name":"Berlin"}},"sourcedBy":null}}`
	c, _, _ := setup(t, status(200, body), nil)
	o, err := c.GetOpportunity(context.Background(), "o1", GetOpportunityParams{Expand: []string{"stage", "owner", "followers", "applications", "contact"}})
	if err != nil {
		t.Fatal(err)
	}
	var stage Stage
	if err := o.Stage.Decode(&stage); err != nil || stage.Text != "New lead" || o.Stage.ID != "lead-new" {
		t.Errorf("stage = %+v, err %v", stage, err)
	}
	var owner User
	if err := o.Owner.Decode(&owner); err != nil || owner.AccessRole != RoleTeamMember {
		t.Errorf("owner = %+v, err %v", owner, err)
	}
	if got := IDs(o.Followers); !reflect.DeepEqual(got, []string{"u1", "u2"}) || o.Followers[1].Expanded() {
		t.Errorf("followers = %v", got)
	}
	var app Application
	if err := o.Applications[0].Decode(&app); err != nil || app.Posting.ID != "p1" {
		t.Errorf("application = %+v, err %v", app, err)
	}
	var ct Contact
	if err := o.Contact.Decode(&ct); err != nil || ct.Location.Name != "Berlin" {
		t.Errorf("contact = %+v, err %v", ct, err)
	}
	if !o.SourcedBy.IsZero() {
		t.Errorf("sourcedBy = %+v", o.SourcedBy)
	}
	if err := (Ref{ID: "x"}).Decode(&stage); err == nil {
		t.Error("Decode of an id-only ref: no error")
	}
}

func TestScalarTypes(t *testing.T) {
	t.Parallel()
	var v struct {
		A, B, C, D Millis
		R1, R2, R3 Ref
		L1, L2, L3 Location
	}
	in := `{"A":1747210897000,"B":"1747210897000","C":null,"D":"",
		"R1":"id1","R2":{"id":"id2","x":1},"R3":null,
		"L1":"Berlin","L2":{"name":"Lisbon"},"L3":null}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 1747210897000 || v.B != v.A || v.C != 0 || v.D != 0 {
		t.Errorf("millis = %v %v %v %v", v.A, v.B, v.C, v.D)
	}
	if got := v.A.Time(); got.UnixMilli() != 1747210897000 || got.Location().String() != "UTC" || !v.C.Time().IsZero() || MillisOf(got) != v.A {
		t.Errorf("Time() = %v", got)
	}
	if v.R1.ID != "id1" || v.R1.Expanded() || v.R2.ID != "id2" || !v.R2.Expanded() || !v.R3.IsZero() {
		t.Errorf("refs = %+v %+v %+v", v.R1, v.R2, v.R3)
	}
	if v.L1.Name != "Berlin" || v.L2.Name != "Lisbon" || v.L3.Name != "" {
		t.Errorf("locations = %+v", v)
	}
	out, err := json.Marshal(struct {
		R1, R2, R3 Ref
		L          Location
	}{v.R1, v.R2, v.R3, v.L2})
	if err != nil || string(out) != `{"R1":"id1","R2":{"id":"id2","x":1},"R3":null,"L":"Lisbon"}` {
		t.Errorf("marshal = %s, err %v", out, err)
	}
	for _, bad := range []string{`{"A":"soon"}`, `{"R1":12}`, `{"L1":12}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
