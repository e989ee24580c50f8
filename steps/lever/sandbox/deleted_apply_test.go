package sandbox

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func nonConfidential(e *env, n int) []Opportunity {
	e.t.Helper()
	var out []Opportunity
	for _, o := range e.sb.Opportunities() {
		if o.Confidentiality == "non-confidential" && len(out) < n {
			out = append(out, o)
		}
	}
	if len(out) < n {
		e.t.Fatalf("only %d non-confidential opportunities", len(out))
	}
	return out
}

func TestDeleteOpportunity(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{DisableRateLimit: true, WebhookBackoff: time.Millisecond})
	rc := newReceiver(t, 0)
	w := e.hook("candidateDeleted", rc.srv.URL)
	victims := nonConfidential(e, 3)
	var times []int64
	for _, o := range victims {
		times = append(times, e.clk.Now().UnixMilli())
		if err := e.sb.DeleteOpportunity(o.ID); err != nil {
			t.Fatalf("DeleteOpportunity(%s): %v", o.ID, err)
		}
		e.clk.Advance(time.Hour)
	}
	if err := e.sb.DeleteOpportunity(victims[0].ID); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), victims[0].ID) {
		t.Errorf("second delete: %v, want ErrNotFound naming the id", err)
	}
	assertError(t, e.call("GET", "/opportunities/"+victims[0].ID, nil), 404, "ResourceNotFound", "")

	ids := func(path string) []string {
		t.Helper()
		p := decode[page1[DeletedOpportunity]](t, e.want(e.call("GET", path, nil), 200).body)
		var out []string
		for _, d := range p.Data {
			if d.DeletedBy == nil || *d.DeletedBy != DeletedBy || d.DeletedAt == 0 || d.Name == "" {
				t.Errorf("%s: entry %+v lacks deletedBy/deletedAt/name", path, d)
			}
			out = append(out, d.ID)
		}
		return out
	}
	v0, v1, v2 := victims[0].ID, victims[1].ID, victims[2].ID
	ms := func(i int) string { return strconv.FormatInt(times[i], 10) }
	cases := []struct {
		name, path string
		want       []string
	}{
		{"all, newest deletion first", "/opportunities/deleted", []string{v2, v1, v0}},
		{"start inclusive", "/opportunities/deleted?deleted_at_start=" + ms(1), []string{v2, v1}},
		{"end inclusive", "/opportunities/deleted?deleted_at_end=" + ms(1), []string{v1, v0}},
		{"window", "/opportunities/deleted?deleted_at_start=" + ms(1) + "&deleted_at_end=" + ms(1), []string{v1}},
		{"confidential only", "/opportunities/deleted?confidentiality=confidential", nil},
	}
	for _, c := range cases {
		if got := ids(c.path); strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	// Pagination: two pages of limit 2.
	p1 := decode[page1[DeletedOpportunity]](t, e.want(e.call("GET", "/opportunities/deleted?limit=2", nil), 200).body)
	if !p1.HasNext || p1.Next == nil || len(p1.Data) != 2 {
		t.Fatalf("page 1: %+v", p1)
	}
	p2 := decode[page1[DeletedOpportunity]](t, e.want(e.call("GET", "/opportunities/deleted?limit=2&offset="+*p1.Next, nil), 200).body)
	if p2.HasNext || len(p2.Data) != 1 || p2.Data[0].ID != v0 {
		t.Errorf("page 2: %+v", p2)
	}
	assertError(t, e.call("GET", "/opportunities/deleted?deleted_at_start=yesterday", nil), 400, "BadRequestError",
		"Invalid value for deleted_at_start: must be a timestamp in milliseconds")
	// An offset token of another list is refused.
	op := decode[page1[Opportunity]](t, e.want(e.call("GET", "/opportunities?limit=1", nil), 200).body)
	assertError(t, e.call("GET", "/opportunities/deleted?offset="+*op.Next, nil), 400, "BadRequestError", errBadOffset.message)
	if got := e.sb.DeletedOpportunities(); len(got) != 3 || got[0].ID != v2 {
		t.Errorf("DeletedOpportunities: %d entries", len(got))
	}

	if !e.sb.WaitIdle(5 * time.Second) {
		t.Fatal("deliveries did not finish")
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bodies) != 3 {
		t.Fatalf("%d candidateDeleted deliveries, want 3", len(rc.bodies))
	}
	// Deliveries are concurrent, so match them by opportunity.
	seen := map[string]bool{}
	for i, raw := range rc.bodies {
		b := decode[WebhookBody](t, raw)
		id, _ := b.Data["opportunityId"].(string)
		k := slices.IndexFunc(victims, func(o Opportunity) bool { return o.ID == id })
		if k < 0 || seen[id] || b.Event != "candidateDeleted" || b.Data["contactId"] != victims[k].Contact ||
			b.Data["deletedBy"] != DeletedBy || b.TriggeredAt != times[k] ||
			Sign(w.Configuration.SignatureToken, b.Token, b.TriggeredAt) != b.Signature {
			t.Errorf("delivery %d: %+v", i, b)
		}
		seen[id] = true
	}
}

func applyBodyFor(name, email string, extra ...applyValue) map[string]any {
	info := append([]applyValue{{"name", name}, {"email", email}}, extra...)
	return map[string]any{"personalInformation": info}
}

func TestApplyQuestions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	r := e.want(e.call("GET", "/postings/"+PostingBackend+"/apply", nil), 200)
	q := decode[one[ApplyQuestions]](t, r.body).Data
	if q.ID != PostingBackend || q.Text != "Senior Backend Engineer (Go)" || len(q.PersonalInformation) == 0 || len(q.CustomQuestions) != 1 {
		t.Fatalf("questions: %s", r.body)
	}
	required := map[string]bool{}
	for _, f := range q.PersonalInformation {
		required[f.Name] = f.Required
	}
	if !required["name"] || !required["email"] || required["phone"] {
		t.Errorf("required fields: %v", required)
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(decode[one[json.RawMessage]](t, r.body).Data, &raw)
	if string(raw["eeoQuestions"]) != "null" {
		t.Errorf("eeoQuestions = %s, want null", raw["eeoQuestions"])
	}
	assertError(t, e.call("GET", "/postings/nope/apply", nil), 404, "ResourceNotFound", "Posting nope was not found")
}

func TestApplyToPosting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{DisableRateLimit: true, WebhookBackoff: time.Millisecond})
	rc := newReceiver(t, 0)
	e.hook("applicationCreated", rc.srv.URL)
	e.hook("contactCreated", rc.srv.URL)
	apply := func(posting string, body any) resp {
		return e.call("POST", "/postings/"+posting+"/apply?send_confirmation_email=true", body)
	}
	appID := func(r resp) string {
		t.Helper()
		return decode[one[map[string]string]](t, e.want(r, 201).body).Data["applicationId"]
	}

	// A new person: new contact, new opportunity in New applicant.
	first := appID(apply(PostingBackend, map[string]any{
		"personalInformation": []applyValue{{"name", "Ada Byron"}, {"email", "ada@byron.example"}, {"phone", "+44 20 1234"},
			{"org", "Analytical Engines"}, {"comments", "Hello"}},
		"urls":    []applyValue{{"LinkedIn", "https://www.linkedin.com/in/ada"}},
		"sources": []string{"Careers page"},
	}))
	r := decode[page1[Opportunity]](t, e.want(e.call("GET", "/opportunities?email=ada@byron.example", nil), 200).body)
	if len(r.Data) != 1 {
		t.Fatalf("opportunities for the applicant: %d", len(r.Data))
	}
	o := r.Data[0]
	if len(o.Applications) != 1 || o.Applications[0] != first || o.Stage != "applicant-new" || o.Origin != "applied" ||
		o.Name != "Ada Byron" || o.Headline != "Analytical Engines" || len(o.Links) != 1 || len(o.Sources) != 1 {
		t.Errorf("opportunity: %+v", o)
	}
	app := decode[one[Application]](t, e.want(e.call("GET", "/opportunities/"+o.ID+"/applications/"+first, nil), 200).body).Data
	if app.Posting != PostingBackend || app.Company == nil || *app.Company != "Analytical Engines" || app.Comments == nil {
		t.Errorf("application: %+v", app)
	}

	// The same person again on the same posting: deduped, nothing new.
	if again := appID(apply(PostingBackend, applyBodyFor("Someone Else", "ADA@byron.example"))); again != first {
		t.Errorf("second application to the same posting = %s, want the first %s", again, first)
	}
	// The same person on another posting: the contact is reused (its data
	// wins), a second opportunity is made.
	second := appID(apply(PostingDesigner, applyBodyFor("Someone Else", "ada@byron.example")))
	r = decode[page1[Opportunity]](t, e.want(e.call("GET", "/opportunities?email=ada@byron.example", nil), 200).body)
	if second == first || len(r.Data) != 2 || r.Data[0].Contact != r.Data[1].Contact || r.Data[0].Name != "Ada Byron" {
		t.Errorf("second posting: %s", mustJSON(t, r.Data))
	}
	// A sourced lead without an application gets the application.
	lead := decode[one[Opportunity]](t, e.want(e.call("POST", "/opportunities?perform_as="+UserLena, map[string]any{
		"name": "Lead Person", "emails": []string{"lead@person.example"}}), 201).body).Data
	leadApp := appID(apply(PostingBackend, applyBodyFor("Lead Person", "lead@person.example")))
	if got := e.mustOpp(lead.ID); len(got.Applications) != 1 || got.Applications[0] != leadApp {
		t.Errorf("lead not given the application: %+v", got)
	}

	bad := []struct {
		name, posting string
		body          any
		status        int
		msg           string
	}{
		{"draft posting", PostingData, applyBodyFor("A", "a@b.example"), 400, "Posting " + PostingData + " is draft: only published or internal postings accept applications"},
		{"unknown posting", "nope", applyBodyFor("A", "a@b.example"), 404, "Posting nope was not found"},
		{"no name", PostingBackend, map[string]any{"personalInformation": []applyValue{{"email", "a@b.example"}}}, 400, `Missing required personalInformation field "name"`},
		{"bad email", PostingBackend, applyBodyFor("A", "nope"), 400, `Missing or invalid required personalInformation field "email"`},
		{"unknown field", PostingBackend, applyBodyFor("A", "a@b.example", applyValue{"shoe", "42"}), 400, ""},
		{"bad url", PostingBackend, map[string]any{"personalInformation": []applyValue{{"name", "A"}, {"email", "a@b.example"}}, "urls": []applyValue{{"Other", "not a url"}}}, 400, ""},
		{"bad origin", PostingBackend, map[string]any{"personalInformation": []applyValue{{"name", "A"}, {"email", "a@b.example"}}, "origin": "magic"}, 400, ""},
		{"no body", PostingBackend, nil, 400, "Request body must be a JSON object"},
	}
	for _, c := range bad {
		code := "BadRequestError"
		if c.status == 404 {
			code = "ResourceNotFound"
		}
		r := apply(c.posting, c.body)
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.name, r.status, c.status, r.body)
			continue
		}
		assertError(t, r, c.status, code, c.msg)
	}
	assertError(t, e.call("POST", "/postings/"+PostingBackend+"/apply?send_confirmation_email=maybe", applyBodyFor("A", "a@b.example")),
		400, "BadRequestError", "Invalid value for send_confirmation_email: must be true or false")

	if !e.sb.WaitIdle(5 * time.Second) {
		t.Fatal("deliveries did not finish")
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	events := map[string]int{}
	for _, b := range rc.bodies {
		wb := decode[WebhookBody](t, b)
		events[wb.Event]++
		if wb.Event == "applicationCreated" && wb.Data["applicationId"] == first {
			assertShape(t, loadFixture(t, "webhook_application_created.json"), b)
		}
	}
	// Three new applications (first, second, lead); contacts created: Ada
	// and the lead (the lead's from POST /opportunities).
	if events["applicationCreated"] != 3 || events["contactCreated"] != 2 {
		t.Errorf("events: %v", events)
	}
}
