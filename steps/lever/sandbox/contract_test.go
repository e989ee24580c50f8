package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
	"golang.org/x/time/rate"
)

// recorder is the client's transport: the real one, keeping a copy of the
// last response body so its shape can be compared with the fixtures.
type recorder struct {
	mu   sync.Mutex
	last []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	r.mu.Lock()
	r.last = b
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) Last() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return b
}

// strictData decodes the "data" member of body into v, refusing fields
// the client's type does not know: a field the sandbox sends and the client
// would silently drop is a disagreement.
func strictData(t *testing.T, body []byte, v any) {
	t.Helper()
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(env.Data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Errorf("%T does not cover the sandbox's answer: %v", v, err)
	}
}

type contract struct {
	sb  *sandbox.Sandbox
	srv *httptest.Server
	rec *recorder
	c   *client.Client
}

func newContract(t *testing.T, o sandbox.Options, cfg client.Config) *contract {
	t.Helper()
	clk := newFakeClock()
	o.Now, o.Seed = clk.Now, 42
	sb := sandbox.New(o)
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	rec := &recorder{}
	cfg.BaseURL, cfg.APIKey, cfg.HTTPClient = srv.URL+"/v1", sb.APIKey(), &http.Client{Transport: rec, Timeout: 10 * time.Second}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = rate.Inf
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &contract{sb, srv, rec, c}
}

func TestContractReads(t *testing.T) {
	t.Parallel()
	k := newContract(t, sandbox.Options{DisableRateLimit: true}, client.Config{})
	ctx := context.Background()
	var withDP sandbox.Opportunity
	nonConf := 0
	for _, o := range k.sb.Opportunities() {
		if o.DataProtection != nil && len(o.Applications) == 1 && withDP.ID == "" && o.Confidentiality == "non-confidential" {
			withDP = o
		}
		if o.Confidentiality == "non-confidential" {
			nonConf++
		}
	}

	t.Run("opportunity", func(t *testing.T) {
		o, err := k.c.GetOpportunity(ctx, withDP.ID, client.GetOpportunityParams{})
		if err != nil {
			t.Fatal(err)
		}
		sandbox.AssertShape(t, readFixture(t, "opportunity.json"), k.rec.Last())
		strictData(t, k.rec.Last(), &client.Opportunity{})
		if o.ID != withDP.ID || o.Contact.ID != withDP.Contact || o.Stage.ID != withDP.Stage || len(o.Applications) != 1 ||
			o.DataProtection == nil || o.CreatedAt != client.Millis(withDP.CreatedAt) {
			t.Errorf("decoded %+v", o)
		}
		exp, err := k.c.GetOpportunity(ctx, withDP.ID, client.GetOpportunityParams{Expand: []string{"stage", "owner", "contact"}})
		var st client.Stage
		if err != nil || !exp.Stage.Expanded() || exp.Stage.Decode(&st) != nil || st.ID != withDP.Stage || !exp.Contact.Expanded() {
			t.Errorf("expanded: %v %+v", err, exp.Stage)
		}
	})

	t.Run("opportunities pages", func(t *testing.T) {
		p1, err := k.c.OpportunitiesPage(ctx, client.ListOpportunitiesParams{ListOptions: client.ListOptions{Limit: 2}})
		if err != nil || !p1.HasNext || p1.Next == "" || len(p1.Data) != 2 {
			t.Fatalf("page 1: %v %+v", err, p1)
		}
		sandbox.AssertShape(t, readFixture(t, "opportunities_page1.json"), k.rec.Last())
		p2, err := k.c.OpportunitiesPage(ctx, client.ListOpportunitiesParams{ListOptions: client.ListOptions{Limit: 2, Offset: p1.Next}})
		if err != nil || len(p2.Data) != 2 || p2.Data[0].ID == p1.Data[0].ID || p2.Data[0].ID == p1.Data[1].ID {
			t.Fatalf("page 2: %v %+v", err, p2)
		}
		sandbox.AssertShape(t, readFixture(t, "opportunities_page1.json"), k.rec.Last())
		seen := map[string]bool{}
		for o, err := range k.c.ListOpportunities(ctx, client.ListOpportunitiesParams{ListOptions: client.ListOptions{Limit: 7}}) {
			if err != nil {
				t.Fatal(err)
			}
			if seen[o.ID] {
				t.Fatalf("opportunity %s listed twice", o.ID)
			}
			seen[o.ID] = true
		}
		if len(seen) != nonConf || nonConf < 15 {
			t.Errorf("listed %d opportunities over pages of 7, want %d", len(seen), nonConf)
		}
		// The last page has no next token.
		sandbox.AssertShape(t, readFixture(t, "opportunities_page2.json"), k.rec.Last())
	})

	t.Run("contact", func(t *testing.T) {
		ct, err := k.c.GetContact(ctx, withDP.Contact)
		if err != nil || ct.ID != withDP.Contact || ct.Name != withDP.Name || ct.Location.Name == "" {
			t.Fatalf("%v %+v", err, ct)
		}
		sandbox.AssertShape(t, readFixture(t, "contact.json"), k.rec.Last())
		strictData(t, k.rec.Last(), &client.Contact{})
	})

	t.Run("posting", func(t *testing.T) {
		p, err := k.c.GetPosting(ctx, sandbox.PostingBackend, client.GetPostingParams{})
		if err != nil || p.ID != sandbox.PostingBackend || p.State != client.PostingPublished || p.SalaryRange == nil || p.Categories.Team == "" {
			t.Fatalf("%v %+v", err, p)
		}
		sandbox.AssertShape(t, readFixture(t, "posting.json"), k.rec.Last())
		strictData(t, k.rec.Last(), &client.Posting{})
	})

	t.Run("postings list", func(t *testing.T) {
		pg, err := k.c.PostingsPage(ctx, client.ListPostingsParams{})
		if err != nil || len(pg.Data) == 0 || pg.HasNext {
			t.Fatalf("%v %+v", err, pg)
		}
		sandbox.AssertShape(t, readFixture(t, "postings_list.json"), k.rec.Last())
	})

	t.Run("user and users", func(t *testing.T) {
		u, err := k.c.GetUser(ctx, sandbox.UserPriya)
		if err != nil || u.Name != "Priya Raman" || u.AccessRole != client.RoleSuperAdmin || u.CreatedAt.IsZero() {
			t.Fatalf("%v %+v", err, u)
		}
		sandbox.AssertShape(t, readFixture(t, "user.json"), k.rec.Last())
		strictData(t, k.rec.Last(), &client.User{})
		n := 0
		for _, err := range k.c.ListUsers(ctx, client.ListUsersParams{}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 8 { // ten seeded users, two deactivated
			t.Errorf("listed %d active users, want 8", n)
		}
		sandbox.AssertShape(t, readFixture(t, "users_list.json"), k.rec.Last())
	})

	t.Run("400 error body", func(t *testing.T) {
		_, err := k.c.OpportunitiesPage(ctx, client.ListOpportunitiesParams{ListOptions: client.ListOptions{Offset: "garbage"}})
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Code != "BadRequestError" ||
			apiErr.Message != "Invalid offset token: Offset token is invalid for sort" {
			t.Fatalf("err = %v", err)
		}
		sandbox.AssertShape(t, readFixture(t, "error_400.json"), k.rec.Last())
	})

	t.Run("deleted opportunities", func(t *testing.T) {
		var victim sandbox.Opportunity
		for _, o := range k.sb.Opportunities() {
			if o.Confidentiality == "non-confidential" && o.ID != withDP.ID {
				victim = o
			}
		}
		if err := k.sb.DeleteOpportunity(victim.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := k.c.GetOpportunity(ctx, victim.ID, client.GetOpportunityParams{}); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("deleted opportunity still readable: %v", err)
		}
		var got []client.Opportunity
		for o, err := range k.c.ListDeletedOpportunities(ctx, client.ListDeletedOpportunitiesParams{}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, o)
		}
		if len(got) != 1 || got[0].ID != victim.ID || got[0].DeletedBy.ID != sandbox.DeletedBy || got[0].DeletedAt.IsZero() {
			t.Errorf("deleted list: %+v", got)
		}
	})
}

func TestContractRateLimitBody(t *testing.T) {
	t.Parallel()
	k := newContract(t, sandbox.Options{RateLimit: 10, Burst: 1}, client.Config{MaxRetries: -1})
	ctx := context.Background()
	if _, err := k.c.GetUser(ctx, sandbox.UserPriya); err != nil {
		t.Fatal(err)
	}
	_, err := k.c.GetUser(ctx, sandbox.UserPriya)
	var apiErr *client.APIError
	if !errors.Is(err, client.ErrRateLimited) || !errors.As(err, &apiErr) || apiErr.Code != "TooManyRequestsError" ||
		apiErr.Message != "You have exceeded your request rate of 10 r/s." || apiErr.RetryAfter != 0 {
		t.Fatalf("err = %v", err)
	}
	sandbox.AssertShape(t, readFixture(t, "error_429.json"), k.rec.Last())
}

func TestContractApply(t *testing.T) {
	t.Parallel()
	k := newContract(t, sandbox.Options{DisableRateLimit: true}, client.Config{})
	ctx := context.Background()
	q, err := k.c.GetApplyQuestions(ctx, sandbox.PostingBackend)
	if err != nil || q.ID != sandbox.PostingBackend || len(q.PersonalInformation) == 0 || len(q.CustomQuestions) != 1 || len(q.URLs) == 0 {
		t.Fatalf("%v %+v", err, q)
	}
	strictData(t, k.rec.Last(), &client.ApplyQuestions{})
	res, err := k.c.Apply(ctx, sandbox.PostingBackend, client.ApplyInput{
		PersonalInformation: []client.ApplyValue{{Name: "name", Value: "Grace Hopper"}, {Name: "email", Value: "grace@navy.example"}},
		URLs:                []client.ApplyValue{{Name: "GitHub", Value: "https://github.com/grace"}},
		Sources:             []string{"Careers page"},
	}, true)
	if err != nil || res.ApplicationID == "" {
		t.Fatalf("apply: %v %+v", err, res)
	}
	var found bool
	for o, err := range k.c.ListOpportunities(ctx, client.ListOpportunitiesParams{Emails: []string{"grace@navy.example"}, Expand: []string{"applications"}}) {
		if err != nil {
			t.Fatal(err)
		}
		var app client.Application
		found = len(o.Applications) == 1 && o.Applications[0].ID == res.ApplicationID && o.Applications[0].Decode(&app) == nil &&
			app.Posting.ID == sandbox.PostingBackend
	}
	if !found {
		t.Error("the application is not on the applicant's opportunity")
	}
	_, err = k.c.Apply(ctx, sandbox.PostingData, client.ApplyInput{
		PersonalInformation: []client.ApplyValue{{Name: "name", Value: "X"}, {Name: "email", Value: "x@y.example"}}}, false)
	if var400 := (*client.APIError)(nil); !errors.As(err, &var400) || var400.Status != 400 {
		t.Errorf("apply to a draft: %v", err)
	}
}

func TestContractWebhooks(t *testing.T) {
	t.Parallel()
	k := newContract(t, sandbox.Options{DisableRateLimit: true, WebhookBackoff: time.Millisecond}, client.Config{})
	ctx := context.Background()
	var mu sync.Mutex
	var bodies [][]byte
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
	}))
	defer rcv.Close()
	fixtures := map[string]string{
		client.EventApplicationCreated:   "webhook_application_created.json",
		client.EventCandidateStageChange: "webhook_candidate_stage_change.json",
		client.EventContactUpdated:       "webhook_contact_updated.json",
	}
	tokens := map[string]string{}
	for ev := range fixtures {
		w, err := k.c.CreateWebhook(ctx, client.WebhookInput{URL: rcv.URL + "/lever", Event: ev})
		if err != nil || w.Configuration.SignatureToken == "" || w.Event != ev {
			t.Fatalf("create webhook %s: %v %+v", ev, err, w)
		}
		tokens[ev] = w.Configuration.SignatureToken
	}
	o, err := k.c.CreateOpportunity(ctx, client.CreateOpportunityInput{PerformAs: sandbox.UserLena, Name: "Hook Person",
		Emails: []string{"hook@person.example"}, Postings: []string{sandbox.PostingBackend}, Origin: client.OriginApplied})
	if err != nil || len(o.Applications) != 1 {
		t.Fatalf("create: %v %+v", err, o)
	}
	if _, err := k.c.UpdateOpportunityStage(ctx, o.ID, sandbox.StagePhone, sandbox.UserLena); err != nil {
		t.Fatal(err)
	}
	ct, err := k.c.GetContact(ctx, o.Contact.ID)
	if err != nil {
		t.Fatal(err)
	}
	in := client.ContactInputFrom(ct)
	in.Headline = "Now at Hooks Inc."
	if _, err := k.c.UpdateContact(ctx, ct.ID, in); err != nil {
		t.Fatal(err)
	}
	if !k.sb.WaitIdle(5 * time.Second) {
		t.Fatal("deliveries did not finish")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 3 {
		t.Fatalf("%d deliveries, want 3", len(bodies))
	}
	for _, b := range bodies {
		var d client.WebhookDelivery
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("client cannot decode the delivery: %v", err)
		}
		fx, ok := fixtures[d.Event]
		if !ok {
			t.Fatalf("unexpected event %s", d.Event)
		}
		sandbox.AssertShape(t, readFixture(t, fx), b)
		if !d.ValidSignature(tokens[d.Event]) || d.ValidSignature("another-token") {
			t.Errorf("%s: signature check disagrees", d.Event)
		}
		want := map[string][2]string{
			client.EventApplicationCreated:   {d.Data.ApplicationID, o.Applications[0].ID},
			client.EventCandidateStageChange: {d.Data.ToStageID, sandbox.StagePhone},
			client.EventContactUpdated:       {d.Data.ContactID, ct.ID},
		}[d.Event]
		if want[0] != want[1] {
			t.Errorf("%s: data %+v", d.Event, d.Data)
		}
		delete(fixtures, d.Event)
	}
}
