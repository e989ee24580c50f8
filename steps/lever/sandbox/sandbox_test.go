package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.UnixMilli(1_750_000_000_000)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t   *testing.T
	sb  *Sandbox
	srv *httptest.Server
	clk *clock
}

// newEnv starts the sandbox on a real 127.0.0.1 listener.
func newEnv(t *testing.T, o Options) *env {
	t.Helper()
	clk := newClock()
	if o.Now == nil {
		o.Now = clk.Now
	}
	if o.Seed == 0 {
		o.Seed = 42
	}
	sb := New(o)
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("server not on 127.0.0.1: %s", srv.URL)
	}
	return &env{t, sb, srv, clk}
}

func noLimit() Options { return Options{DisableRateLimit: true} }

func basic(key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))
}

type resp struct {
	status int
	body   []byte
	header http.Header
}

// call sends a request with the sandbox's API key; path is relative to /v1.
func (e *env) call(method, path string, body any) resp {
	e.t.Helper()
	return e.callAuth(method, path, body, basic(e.sb.APIKey()))
}

func (e *env) callAuth(method, path string, body any, auth string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				e.t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, e.srv.URL+"/v1"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{r.StatusCode, b, r.Header}
}

func (e *env) want(r resp, status int) resp {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	return r
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, b)
	}
	return v
}

type page1[T any] struct {
	Data    []T     `json:"data"`
	HasNext bool    `json:"hasNext"`
	Next    *string `json:"next"`
}

type one[T any] struct {
	Data T `json:"data"`
}

func assertError(t *testing.T, r resp, status int, code, message string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("error body not JSON: %s", r.body)
	}
	if len(m) != 2 || m["code"] != code || (message != "" && m["message"] != message) {
		t.Fatalf("error body %s, want code %q message %q", r.body, code, message)
	}
}

// ---------------------------------------------------------------- shapes

func TestFixtureShapes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	var withDP string
	for _, o := range e.sb.Opportunities() {
		if o.DataProtection != nil && len(o.Applications) == 1 {
			withDP = o.ID
			break
		}
	}
	first := e.want(e.call("GET", "/opportunities?limit=2", nil), 200)
	p := decode[page1[Opportunity]](t, first.body)
	if !p.HasNext || p.Next == nil {
		t.Fatalf("first page of 2 should have a next token: %s", first.body)
	}
	var last resp
	for off := *p.Next; ; {
		last = e.want(e.call("GET", "/opportunities?limit=100&offset="+off, nil), 200)
		lp := decode[page1[Opportunity]](t, last.body)
		if !lp.HasNext {
			break
		}
		off = *lp.Next
	}
	cases := []struct{ fixture, path string }{
		{"opportunity.json", "/opportunities/" + withDP},
		{"opportunities_page1.json", "/opportunities?limit=2"},
		{"posting.json", "/postings/" + PostingBackend},
		{"postings_list.json", "/postings"},
		{"user.json", "/users/" + UserPriya},
		{"users_list.json", "/users"},
		{"contact.json", "/contacts/" + e.mustOpp(withDP).Contact},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			r := e.want(e.call("GET", c.path, nil), 200)
			assertShape(t, loadFixture(t, c.fixture), r.body)
		})
	}
	t.Run("opportunities_page2.json", func(t *testing.T) {
		assertShape(t, loadFixture(t, "opportunities_page2.json"), last.body)
		if bytes.Contains(last.body, []byte(`"next"`)) {
			t.Errorf("last page carries a next key")
		}
	})
	t.Run("error_400.json", func(t *testing.T) {
		r := e.call("GET", "/opportunities?offset=garbage", nil)
		if r.status != 400 {
			t.Fatalf("status %d", r.status)
		}
		assertShape(t, loadFixture(t, "error_400.json"), r.body)
		assertJSONEqual(t, loadFixture(t, "error_400.json"), r.body)
	})
	t.Run("error_429.json", func(t *testing.T) {
		e2 := newEnv(t, Options{RateLimit: 10, Burst: 1})
		e2.want(e2.call("GET", "/stages", nil), 200)
		r := e2.call("GET", "/stages", nil)
		if r.status != 429 {
			t.Fatalf("status %d", r.status)
		}
		assertJSONEqual(t, loadFixture(t, "error_429.json"), r.body)
	})
	t.Run("archived opportunity", func(t *testing.T) {
		r := e.want(e.call("GET", "/opportunities?archived=true&limit=3", nil), 200)
		assertShape(t, loadFixture(t, "opportunities_page1.json"), r.body)
		assertShape(t, loadFixture(t, "opportunity.json"), []byte(`{"data":`+string(mustJSON(t, decode[page1[json.RawMessage]](t, r.body).Data[0]))+`}`))
	})
}

func (e *env) mustOpp(id string) Opportunity {
	o, ok := e.sb.Opportunity(id)
	if !ok {
		e.t.Fatalf("no opportunity %s", id)
	}
	return o
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertJSONEqual(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	_ = json.Unmarshal(want, &w)
	_ = json.Unmarshal(got, &g)
	if string(mustJSON(t, w)) != string(mustJSON(t, g)) {
		t.Errorf("body %s, want %s", got, want)
	}
}

func TestEveryListShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	oppID := e.sb.Opportunities()[0].ID
	for _, path := range []string{"/opportunities", "/opportunities?limit=5", "/postings", "/postings?limit=1", "/users",
		"/users?limit=2", "/stages", "/archive_reasons", "/tags", "/sources", "/webhooks", "/opportunities/" + oppID + "/applications"} {
		r := e.want(e.call("GET", path, nil), 200)
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var data []json.RawMessage
		if err := json.Unmarshal(m["data"], &data); err != nil || data == nil {
			t.Errorf("%s: data is not an array: %s", path, m["data"])
		}
		var hasNext bool
		if err := json.Unmarshal(m["hasNext"], &hasNext); err != nil {
			t.Errorf("%s: hasNext is not a boolean: %s", path, r.body)
		}
		_, hasNextTok := m["next"]
		if hasNext != hasNextTok {
			t.Errorf("%s: hasNext=%v but next present=%v", path, hasNext, hasNextTok)
		}
		if len(m) != 2+map[bool]int{true: 1}[hasNext] {
			t.Errorf("%s: unexpected envelope keys: %s", path, r.body)
		}
		if r.header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s: content type %q", path, r.header.Get("Content-Type"))
		}
	}
	// Single objects are {"data": {...}} only.
	r := e.want(e.call("GET", "/stages/applicant-new", nil), 200)
	assertJSONEqual(t, []byte(`{"data":{"id":"applicant-new","text":"New applicant"}}`), r.body)
}

// ---------------------------------------------------------------- pagination

func TestPaginateAllOpportunitiesBySeven(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	want := map[string]bool{}
	for _, o := range e.sb.Opportunities() {
		if o.Confidentiality == "non-confidential" {
			want[o.ID] = true
		}
	}
	if len(want) < 55 {
		t.Fatalf("only %d non-confidential seed opportunities", len(want))
	}
	seen := map[string]int{}
	offset, pages := "", 0
	for {
		q := "/opportunities?limit=7"
		if offset != "" {
			// The token sent back unchanged on odd pages, URL-encoded
			// again (double-encoded) on even pages.
			if pages%2 == 0 {
				q += "&offset=" + url.QueryEscape(offset)
			} else {
				q += "&offset=" + offset
			}
		}
		p := decode[page1[Opportunity]](t, e.want(e.call("GET", q, nil), 200).body)
		pages++
		if len(p.Data) > 7 || len(p.Data) == 0 {
			t.Fatalf("page %d has %d items", pages, len(p.Data))
		}
		for _, o := range p.Data {
			seen[o.ID]++
		}
		if !p.HasNext {
			if p.Next != nil {
				t.Fatal("next present on last page")
			}
			break
		}
		if p.Next == nil || !strings.HasPrefix(*p.Next, "%5B") {
			t.Fatalf("next token missing or not percent-encoded: %v", p.Next)
		}
		offset = *p.Next
	}
	if len(seen) != len(want) {
		t.Fatalf("visited %d opportunities, want %d", len(seen), len(want))
	}
	for id, n := range seen {
		if n != 1 || !want[id] {
			t.Errorf("opportunity %s visited %d times (expected: %v)", id, n, want[id])
		}
	}
	if wantPages := (len(want) + 6) / 7; pages != wantPages {
		t.Errorf("%d pages, want %d", pages, wantPages)
	}
}

func TestPaginationErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	msg := "Invalid offset token: Offset token is invalid for sort"
	for _, off := range []string{"garbage", "%5B1%2C2%5D", url.QueryEscape(`["x",1,"id"]`)} {
		assertError(t, e.call("GET", "/opportunities?offset="+off, nil), 400, "BadRequestError", msg)
	}
	// A users token is invalid for the opportunities sort.
	p := decode[page1[User]](t, e.want(e.call("GET", "/users?limit=1", nil), 200).body)
	assertError(t, e.call("GET", "/opportunities?offset="+*p.Next, nil), 400, "BadRequestError", msg)
	for _, l := range []string{"0", "101", "-1", "abc"} {
		assertError(t, e.call("GET", "/opportunities?limit="+l, nil), 400, "BadRequestError", "")
	}
	e.want(e.call("GET", "/opportunities?limit=100", nil), 200)
	e.want(e.call("GET", "/opportunities?limit=1&unknown_param=1&expand=stage", nil), 200)
}

// ---------------------------------------------------------------- filters

func (e *env) listOpps(q string) []Opportunity {
	e.t.Helper()
	return decode[page1[Opportunity]](e.t, e.want(e.call("GET", "/opportunities?"+q, nil), 200).body).Data
}

func TestOpportunityFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	all := e.listOpps("")
	allConf := e.listOpps("confidentiality=all")
	conf := e.listOpps("confidentiality=confidential")
	if len(conf) == 0 || len(allConf) != len(all)+len(conf) {
		t.Fatalf("confidentiality: all=%d default=%d confidential=%d", len(allConf), len(all), len(conf))
	}
	count := func(pred func(Opportunity) bool) int {
		n := 0
		for _, o := range all {
			if pred(o) {
				n++
			}
		}
		return n
	}
	check := func(q string, pred func(Opportunity) bool) {
		t.Helper()
		got := e.listOpps(q)
		if len(got) != count(pred) || len(got) == 0 {
			t.Errorf("%s: %d results, want %d (>0)", q, len(got), count(pred))
		}
		for _, o := range got {
			if !pred(o) {
				t.Errorf("%s: %s does not match", q, o.ID)
			}
		}
	}
	check("tag=Go", func(o Opportunity) bool { return slices.Contains(o.Tags, "Go") })
	check("tag=Go&tag=Design", func(o Opportunity) bool {
		return slices.Contains(o.Tags, "Go") || slices.Contains(o.Tags, "Design")
	})
	check("tag[]=Go&tag[]=Design", func(o Opportunity) bool {
		return slices.Contains(o.Tags, "Go") || slices.Contains(o.Tags, "Design")
	})
	check("origin=sourced", func(o Opportunity) bool { return o.Origin == "sourced" })
	check("origin=applied&origin=referred", func(o Opportunity) bool { return o.Origin == "applied" || o.Origin == "referred" })
	check("source=LinkedIn", func(o Opportunity) bool { return slices.Contains(o.Sources, "LinkedIn") })
	check("stage_id=lead-new&stage_id=applicant-new", func(o Opportunity) bool { return o.Stage == "lead-new" || o.Stage == "applicant-new" })
	check("archived=true", func(o Opportunity) bool { return o.Archived != nil })
	check("archived=false", func(o Opportunity) bool { return o.Archived == nil })
	check("archived=true&origin=applied", func(o Opportunity) bool { return o.Archived != nil && o.Origin == "applied" })
	check("posting_id="+PostingBackend, func(o Opportunity) bool {
		return len(o.Applications) == 1 && e.appPosting(o) == PostingBackend
	})
	mid := all[len(all)/2].CreatedAt
	check("created_at_start="+itoa(mid), func(o Opportunity) bool { return o.CreatedAt >= mid })
	check("created_at_end="+itoa(mid), func(o Opportunity) bool { return o.CreatedAt <= mid })
	check("updated_at_start="+itoa(mid)+"&updated_at_end="+itoa(mid+30*day), func(o Opportunity) bool {
		return o.UpdatedAt >= mid && o.UpdatedAt <= mid+30*day
	})
	target := all[3]
	check("email="+strings.ToUpper(target.Emails[0]), func(o Opportunity) bool { return o.Contact == target.Contact })
	check("contact_id="+target.Contact, func(o Opportunity) bool { return o.Contact == target.Contact })
	if n := len(e.listOpps("tag=NoSuchTag")); n != 0 {
		t.Errorf("unknown tag matched %d", n)
	}
	assertError(t, e.call("GET", "/opportunities?created_at_start=yesterday", nil), 400, "BadRequestError", "")
	assertError(t, e.call("GET", "/opportunities?archived=maybe", nil), 400, "BadRequestError", "")
}

func itoa(n int64) string { return strings.TrimSpace(string(mustJSONAny(n))) }

func mustJSONAny(v any) []byte { b, _ := json.Marshal(v); return b }

func (e *env) appPosting(o Opportunity) string {
	r := e.want(e.call("GET", "/opportunities/"+o.ID+"/applications/"+o.Applications[0], nil), 200)
	return decode[one[Application]](e.t, r.body).Data.Posting
}

func TestPostingAndUserFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	postings := func(q string) []Posting {
		return decode[page1[Posting]](t, e.want(e.call("GET", "/postings?"+q, nil), 200).body).Data
	}
	states := map[string]bool{}
	for _, p := range e.sb.Postings() {
		states[p.State] = true
	}
	if len(e.sb.Postings()) != 12 || len(states) != 6 {
		t.Fatalf("want 12 postings in all 6 states, got %d in %v", len(e.sb.Postings()), states)
	}
	pub := postings("state=published")
	pubInternal := postings("state=published&distributionChannel=internal")
	for _, p := range pub {
		if p.State != "published" || !slices.Contains(p.DistributionChannels, "public") {
			t.Errorf("published list shows %s (%s %v)", p.Text, p.State, p.DistributionChannels)
		}
	}
	if !slices.ContainsFunc(pubInternal, func(p Posting) bool { return !slices.Contains(p.DistributionChannels, "public") }) {
		t.Errorf("distributionChannel=internal should show the internal-only published posting")
	}
	if n := len(postings("state=draft&state=pending")); n != 2 {
		t.Errorf("draft|pending: %d, want 2", n)
	}
	for _, p := range postings("team=Platform") {
		if *p.Categories.Team != "Platform" {
			t.Errorf("team filter returned %s", p.Text)
		}
	}
	if n := len(postings("department=Engineering&commitment=Full-time")); n == 0 {
		t.Error("department+commitment matched nothing")
	}
	if n := len(postings("tag=engineering")); n < 4 {
		t.Errorf("tag=engineering: %d", n)
	}
	if n := len(postings("confidentiality=all")); n != 12 {
		t.Errorf("confidentiality=all: %d, want 12", n)
	}
	if n := len(postings("")); n != 11 {
		t.Errorf("default (non-confidential): %d, want 11", n)
	}
	if n := len(postings("updated_at_start=" + itoa(e.clk.Now().UnixMilli()+1))); n != 0 {
		t.Errorf("updated in the future: %d", n)
	}
	if n := len(postings("updated_at_start=0&confidentiality=all&limit=50")); n != 12 {
		t.Errorf("updated_at_start=0&confidentiality=all: %d, want 12", n)
	}
	assertError(t, e.call("GET", "/postings?updated_at_start=0&state=published", nil), 400, "BadRequestError", "")

	users := func(q string) []User {
		return decode[page1[User]](t, e.want(e.call("GET", "/users?"+q, nil), 200).body).Data
	}
	roles := map[string]bool{}
	deact := 0
	for _, u := range e.sb.Users() {
		roles[u.AccessRole] = true
		if u.DeactivatedAt != nil {
			deact++
		}
	}
	if len(e.sb.Users()) != 10 || len(roles) != 5 || deact == 0 {
		t.Fatalf("seed users: %d users, roles %v, %d deactivated", len(e.sb.Users()), roles, deact)
	}
	if n := len(users("")); n != 10-deact {
		t.Errorf("default users: %d, want %d active", n, 10-deact)
	}
	if n := len(users("includeDeactivated=true")); n != 10 {
		t.Errorf("includeDeactivated: %d", n)
	}
	a := users("accessRole=admin&accessRole=super%20admin")
	b := users("accessRole[]=admin&accessRole[]=super%20admin")
	if len(a) != 3 || len(b) != 3 {
		t.Errorf("accessRole filters: %d and %d, want 3", len(a), len(b))
	}
	if u := users("email=PRIYA.RAMAN@northwind-robotics.example"); len(u) != 1 || u[0].ID != UserPriya {
		t.Errorf("email filter: %+v", u)
	}
}

// ---------------------------------------------------------------- writes

func TestCreateOpportunityPerformAsRequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	body := map[string]any{"name": "Nia Kowalczyk", "emails": []string{"nia@new.example"}}
	assertError(t, e.call("POST", "/opportunities", body), 400, "BadRequestError", "Missing required parameter: perform_as")
	assertError(t, e.call("POST", "/opportunities?perform_as=nobody", body), 400, "BadRequestError", "")
	assertError(t, e.call("POST", "/postings", map[string]any{"text": "X"}), 400, "BadRequestError", "Missing required parameter: perform_as")
	assertError(t, e.call("POST", "/postings/"+PostingData, map[string]any{"text": "X"}), 400, "BadRequestError", "Missing required parameter: perform_as")
	before := len(e.sb.Opportunities())
	r := e.want(e.call("POST", "/opportunities?perform_as="+UserLena, map[string]any{
		"name": "Nia Kowalczyk", "headline": "Cobalt Mobility", "location": "Gdańsk, Poland",
		"emails": []string{"nia@new.example"}, "phones": []Phone{{"mobile", "+48 500 100 200"}},
		"tags": []string{"Go", "Brand new tag"}, "sources": []string{"Meetup"}, "origin": "applied",
		"postings": []string{PostingBackend}, "links": []string{"https://nia.example"},
	}), 201)
	o := decode[one[Opportunity]](t, r.body).Data
	assertShape(t, loadFixture(t, "opportunity.json"), r.body)
	if o.Name != "Nia Kowalczyk" || o.Location != "Gdańsk, Poland" || o.Stage != "lead-new" || len(o.Applications) != 1 ||
		*o.Owner != UserLena || !slices.Contains(o.Followers, UserLena) || len(o.StageChanges) != 1 {
		t.Errorf("created: %+v", o)
	}
	if len(e.sb.Opportunities()) != before+1 {
		t.Error("opportunity not stored")
	}
	c, ok := e.sb.Contact(o.Contact)
	if !ok || c.Location == nil || c.Location.Name != "Gdańsk, Poland" {
		t.Errorf("contact %+v", c)
	}
	counts := decode[page1[Count]](t, e.want(e.call("GET", "/tags", nil), 200).body).Data
	if !slices.Contains(counts, Count{"Brand new tag", 1}) {
		t.Errorf("new tag not counted: %v", counts)
	}
	// Validation.
	assertError(t, e.call("POST", "/opportunities?perform_as="+UserLena, map[string]any{
		"name": "Two Postings", "postings": []string{PostingBackend, PostingDesigner}}), 400, "BadRequestError", "")
	assertError(t, e.call("POST", "/opportunities?perform_as="+UserLena, map[string]any{
		"name": "Future", "createdAt": e.clk.Now().UnixMilli() + 1000}), 400, "BadRequestError", "")
	assertError(t, e.call("POST", "/opportunities?perform_as="+UserLena, map[string]any{
		"name": "Bad origin", "origin": "walk-in"}), 400, "BadRequestError", "")
	assertError(t, e.call("POST", "/opportunities?perform_as="+UserLena, `{"name":`), 400, "BadRequestError", "")
}

func TestCreateOpportunityDedupesByEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	existing := e.sb.Opportunities()[5]
	stored, _ := e.sb.Contact(existing.Contact)
	contactsBefore := e.countContacts()
	r := e.want(e.call("POST", "/opportunities?perform_as="+UserMarcus, map[string]any{
		"name": "Somebody Else", "headline": "Other Corp", "emails": []string{"new@x.example", strings.ToUpper(stored.Emails[0])},
		"postings": []string{PostingBackend},
	}), 201)
	o := decode[one[Opportunity]](t, r.body).Data
	if o.ID == existing.ID || o.Contact != existing.Contact {
		t.Fatalf("dedupe: new opp %s contact %s, want new opp on contact %s", o.ID, o.Contact, existing.Contact)
	}
	if o.Name != stored.Name || o.Headline != stored.Headline || !slices.Equal(o.Emails, stored.Emails) {
		t.Errorf("stored contact data should win: %+v vs %+v", o, stored)
	}
	after, _ := e.sb.Contact(existing.Contact)
	if after.Name != stored.Name || e.countContacts() != contactsBefore {
		t.Errorf("contact changed or contact created: %+v", after)
	}
	byContact := e.listOpps("contact_id=" + existing.Contact)
	if !slices.ContainsFunc(byContact, func(x Opportunity) bool { return x.ID == o.ID }) ||
		!slices.ContainsFunc(byContact, func(x Opportunity) bool { return x.ID == existing.ID }) {
		t.Errorf("both opportunities should list under the contact")
	}
}

func (e *env) countContacts() int {
	seen := map[string]bool{}
	for _, o := range e.sb.Opportunities() {
		seen[o.Contact] = true
	}
	return len(seen)
}

func TestOpportunityUpdates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	var o Opportunity
	for _, x := range e.sb.Opportunities() {
		if x.Archived == nil && x.Stage == "applicant-new" {
			o = x
			break
		}
	}
	if o.ID == "" {
		t.Fatal("no open applicant-new opportunity in seed")
	}
	e.clk.Advance(time.Minute)
	r := e.want(e.call("PUT", "/opportunities/"+o.ID+"/stage?perform_as="+UserLena, map[string]any{"stage": StagePhone}), 200)
	got := decode[one[Opportunity]](t, r.body).Data
	sc := got.StageChanges[len(got.StageChanges)-1]
	now := e.clk.Now().UnixMilli()
	if got.Stage != StagePhone || len(got.StageChanges) != len(o.StageChanges)+1 || sc.ToStageID != StagePhone ||
		sc.ToStageIndex != 5 || sc.UpdatedAt != now || sc.UserID == nil || *sc.UserID != UserLena ||
		got.UpdatedAt != now || got.LastAdvancedAt != now {
		t.Errorf("stage change: %+v", got)
	}
	assertError(t, e.call("PUT", "/opportunities/"+o.ID+"/stage", map[string]any{"stage": "nope"}), 400, "BadRequestError", "")
	assertError(t, e.call("PUT", "/opportunities/nope/stage", map[string]any{"stage": StagePhone}), 404, "ResourceNotFound", "")

	e.clk.Advance(time.Minute)
	got = decode[one[Opportunity]](t, e.want(e.call("POST", "/opportunities/"+o.ID+"/addTags", map[string]any{"tags": []string{"Finalist", "Go"}}), 200).body).Data
	if !slices.Contains(got.Tags, "Finalist") || got.UpdatedAt != e.clk.Now().UnixMilli() {
		t.Errorf("addTags: %+v", got.Tags)
	}
	got = decode[one[Opportunity]](t, e.want(e.call("POST", "/opportunities/"+o.ID+"/removeTags", map[string]any{"tags": []string{"Finalist"}}), 200).body).Data
	if slices.Contains(got.Tags, "Finalist") {
		t.Errorf("removeTags: %+v", got.Tags)
	}
	got = decode[one[Opportunity]](t, e.want(e.call("POST", "/opportunities/"+o.ID+"/addLinks", map[string]any{"links": []string{"https://x.example"}}), 200).body).Data
	if !slices.Contains(got.Links, "https://x.example") {
		t.Errorf("addLinks: %v", got.Links)
	}
	got = decode[one[Opportunity]](t, e.want(e.call("POST", "/opportunities/"+o.ID+"/removeLinks", map[string]any{"links": []string{"https://x.example"}}), 200).body).Data
	if slices.Contains(got.Links, "https://x.example") {
		t.Errorf("removeLinks: %v", got.Links)
	}
	got = decode[one[Opportunity]](t, e.want(e.call("POST", "/opportunities/"+o.ID+"/addSources", map[string]any{"sources": []string{"Podcast"}}), 200).body).Data
	if !slices.Contains(got.Sources, "Podcast") {
		t.Errorf("addSources: %v", got.Sources)
	}
	srcs := decode[page1[Count]](t, e.want(e.call("GET", "/sources", nil), 200).body).Data
	if !slices.Contains(srcs, Count{"Podcast", 1}) {
		t.Errorf("sources counts: %v", srcs)
	}
	got = decode[one[Opportunity]](t, e.want(e.call("POST", "/opportunities/"+o.ID+"/removeSources", map[string]any{"sources": []string{"Podcast"}}), 200).body).Data
	if slices.Contains(got.Sources, "Podcast") {
		t.Errorf("removeSources: %v", got.Sources)
	}

	e.clk.Advance(time.Minute)
	got = decode[one[Opportunity]](t, e.want(e.call("PUT", "/opportunities/"+o.ID+"/archived", map[string]any{"reason": ReasonWithdrew}), 200).body).Data
	if got.Archived == nil || got.Archived.Reason != ReasonWithdrew || got.Archived.ArchivedAt != e.clk.Now().UnixMilli() {
		t.Errorf("archive: %+v", got.Archived)
	}
	got = decode[one[Opportunity]](t, e.want(e.call("PUT", "/opportunities/"+o.ID+"/archived", map[string]any{"reason": nil}), 200).body).Data
	if got.Archived != nil {
		t.Errorf("unarchive: %+v", got.Archived)
	}
	assertError(t, e.call("PUT", "/opportunities/"+o.ID+"/archived", map[string]any{}), 400, "BadRequestError", "")
	assertError(t, e.call("PUT", "/opportunities/"+o.ID+"/archived", map[string]any{"reason": "nope"}), 400, "BadRequestError", "")

	// The accessor returns a copy.
	cp := e.mustOpp(o.ID)
	cp.Tags[0] = "mutated"
	if e.mustOpp(o.ID).Tags[0] == "mutated" {
		t.Error("accessor leaks internal state")
	}
}

func TestContactUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	o := e.sb.Opportunities()[0]
	before, _ := e.sb.Contact(o.Contact)
	e.clk.Advance(time.Hour)
	r := e.want(e.call("PUT", "/contacts/"+o.Contact, map[string]any{"headline": "New Headline", "location": "Oslo, Norway"}), 200)
	assertShape(t, loadFixture(t, "contact.json"), r.body)
	c := decode[one[Contact]](t, r.body).Data
	if c.Name != before.Name || c.Headline != "New Headline" || c.Location.Name != "Oslo, Norway" || !slices.Equal(c.Emails, before.Emails) {
		t.Errorf("merge: %+v", c)
	}
	c = decode[one[Contact]](t, e.want(e.call("PUT", "/contacts/"+o.Contact, map[string]any{"location": map[string]string{"name": "Bergen, Norway"}}), 200).body).Data
	if c.Location.Name != "Bergen, Norway" || c.Headline != "New Headline" {
		t.Errorf("location object: %+v", c)
	}
	got := e.mustOpp(o.ID)
	if got.Location != "Bergen, Norway" || got.Headline != "New Headline" || got.UpdatedAt != e.clk.Now().UnixMilli() {
		t.Errorf("opportunity does not reflect contact: %+v", got)
	}
	assertError(t, e.call("GET", "/contacts/nope", nil), 404, "ResourceNotFound", "")
}

func TestPostingsWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	r := e.want(e.call("POST", "/postings?perform_as="+UserLena, map[string]any{
		"text": "Mechanical Engineer", "categories": map[string]any{"team": "Hardware", "location": "Munich", "commitment": "Full-time"},
		"content": map[string]any{"descriptionHtml": "<p>Build <b>robots</b></p>"},
	}), 201)
	p := decode[one[Posting]](t, r.body).Data
	if p.State != "draft" || !slices.Equal(p.DistributionChannels, []string{"public", "internal"}) || *p.Owner != UserLena ||
		p.Content.Description != "Build robots" || *p.Categories.Team != "Hardware" {
		t.Errorf("create: %+v", p)
	}
	assertError(t, e.call("POST", "/postings?perform_as="+UserLena, map[string]any{"state": "draft"}), 400, "BadRequestError", "Missing required field: text")
	assertError(t, e.call("POST", "/postings?perform_as="+UserLena, map[string]any{"text": "x", "state": "closing"}), 400, "BadRequestError", "")
	e.clk.Advance(time.Minute)
	r = e.want(e.call("POST", "/postings/"+p.ID+"?perform_as="+UserLena, map[string]any{
		"state": "published", "workplaceType": "onsite",
		"salaryRange": map[string]any{"min": 60000, "max": 80000, "currency": "EUR", "interval": "per-year-salary"}}), 200)
	u := decode[one[Posting]](t, r.body).Data
	if u.State != "published" || u.Text != "Mechanical Engineer" || u.SalaryRange == nil || u.UpdatedAt != e.clk.Now().UnixMilli() {
		t.Errorf("partial update: %+v", u)
	}
	assertError(t, e.call("POST", "/postings/"+p.ID+"?perform_as="+UserLena, map[string]any{"salaryRange": map[string]any{"min": 1}}), 400, "BadRequestError", "")
	assertError(t, e.call("POST", "/postings/"+p.ID+"?perform_as="+UserLena, map[string]any{"workplaceType": "unspecified"}), 400, "BadRequestError", "")
	assertError(t, e.call("GET", "/postings/nope", nil), 404, "ResourceNotFound", "")
}

func TestUsersWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	r := e.want(e.call("POST", "/users", map[string]any{"name": "Kai Berg", "email": "kai.berg@northwind-robotics.example"}), 201)
	assertShape(t, loadFixture(t, "user.json"), r.body)
	u := decode[one[User]](t, r.body).Data
	if u.AccessRole != "interviewer" || u.Username != "kai.berg" {
		t.Errorf("create: %+v", u)
	}
	assertError(t, e.call("POST", "/users", map[string]any{"name": "Dup", "email": "kai.berg@northwind-robotics.example"}), 400, "BadRequestError", "")
	assertError(t, e.call("POST", "/users", map[string]any{"email": "a@b.example"}), 400, "BadRequestError", "")
	assertError(t, e.call("PUT", "/users/"+u.ID, map[string]any{"name": "Kai Berg", "email": "kai.berg@northwind-robotics.example"}), 400, "BadRequestError", "")
	r = e.want(e.call("PUT", "/users/"+u.ID, map[string]any{"name": "Kai Berg-Lund", "email": "kai@northwind-robotics.example", "accessRole": "team member"}), 200)
	if u = decode[one[User]](t, r.body).Data; u.Name != "Kai Berg-Lund" || u.AccessRole != "team member" {
		t.Errorf("replace: %+v", u)
	}
	u = decode[one[User]](t, e.want(e.call("POST", "/users/"+u.ID+"/deactivate", nil), 200).body).Data
	if u.DeactivatedAt == nil {
		t.Error("deactivate")
	}
	u = decode[one[User]](t, e.want(e.call("POST", "/users/"+u.ID+"/reactivate", nil), 200).body).Data
	if u.DeactivatedAt != nil {
		t.Error("reactivate")
	}
}

func TestCatalogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	stages := decode[page1[Stage]](t, e.want(e.call("GET", "/stages", nil), 200).body).Data
	ids := []string{}
	for _, s := range stages {
		ids = append(ids, s.ID)
	}
	for _, want := range []string{"lead-new", "lead-reached-out", "applicant-new", StagePhone, StageOnsite, StageOffer} {
		if !slices.Contains(ids, want) {
			t.Errorf("stage %s missing", want)
		}
	}
	hired := decode[page1[ArchiveReason]](t, e.want(e.call("GET", "/archive_reasons?type=hired", nil), 200).body).Data
	non := decode[page1[ArchiveReason]](t, e.want(e.call("GET", "/archive_reasons?type=non-hired", nil), 200).body).Data
	if len(hired) == 0 || len(non) == 0 || hired[0].Type != "hired" {
		t.Errorf("archive reasons: %v %v", hired, non)
	}
	e.want(e.call("GET", "/archive_reasons/"+ReasonUnderqualified, nil), 200)
	tags := decode[page1[Count]](t, e.want(e.call("GET", "/tags", nil), 200).body).Data
	want := map[string]int{}
	for _, o := range e.sb.Opportunities() {
		for _, t := range o.Tags {
			want[t]++
		}
	}
	for _, c := range tags {
		if want[c.Text] != c.Count {
			t.Errorf("tag %s count %d, want %d", c.Text, c.Count, want[c.Text])
		}
	}
}

// ---------------------------------------------------------------- auth, errors, rate limit

func TestAuthAndErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{DisableRateLimit: true, APIKeys: []string{"key-one", "key-two"}})
	unauth := "The request requires authentication."
	for _, auth := range []string{"", basic("wrong"), "Basic !!!", "Basic " + base64.StdEncoding.EncodeToString([]byte("key-one:pw")), "Bearer nope"} {
		assertError(t, e.callAuth("GET", "/opportunities", nil, auth), 401, "UnauthorizedError", unauth)
	}
	e.want(e.callAuth("GET", "/stages", nil, basic("key-two")), 200)
	if e.sb.APIKey() != "key-one" {
		t.Errorf("APIKey %q", e.sb.APIKey())
	}
	tok := e.sb.IssueToken(time.Hour)
	e.want(e.callAuth("GET", "/stages", nil, "Bearer "+tok), 200)
	e.clk.Advance(time.Hour)
	assertError(t, e.callAuth("GET", "/stages", nil, "Bearer "+tok), 401, "UnauthorizedError", unauth)
	tok2 := e.sb.IssueToken(time.Hour)
	e.sb.RevokeToken(tok2)
	assertError(t, e.callAuth("GET", "/stages", nil, "Bearer "+tok2), 401, "UnauthorizedError", unauth)

	assertError(t, e.call("GET", "/x", nil), 404, "ResourceNotFound", "/v1/x does not exist")
	assertError(t, e.call("DELETE", "/opportunities", nil), 404, "ResourceNotFound", "/v1/opportunities does not exist")
	assertError(t, e.call("GET", "/opportunities/nope", nil), 404, "ResourceNotFound", "")
	assertError(t, e.call("GET", "/users/nope", nil), 404, "ResourceNotFound", "")

	gen := New(Options{})
	defer gen.Close()
	if len(gen.APIKey()) < 32 {
		t.Errorf("generated key %q", gen.APIKey())
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{RateLimit: 0.5, Burst: 3, RetryAfter: true})
	for i := 0; i < 3; i++ {
		e.want(e.call("GET", "/stages", nil), 200)
	}
	r := e.call("GET", "/stages", nil)
	assertError(t, r, 429, "TooManyRequestsError", "You have exceeded your request rate of 0.5 r/s.")
	if r.header.Get("Retry-After") == "" {
		t.Error("Retry-After missing with Options.RetryAfter")
	}
	// Buckets are per credential.
	tok := e.sb.IssueToken(time.Hour)
	e.want(e.callAuth("GET", "/stages", nil, "Bearer "+tok), 200)

	d := newEnv(t, Options{})
	ok := 0
	for i := 0; ; i++ {
		r := d.call("GET", "/stages", nil)
		if r.status == 200 {
			ok++
			continue
		}
		assertError(t, r, 429, "TooManyRequestsError", "You have exceeded your request rate of 10 r/s.")
		if r.header.Get("Retry-After") != "" {
			t.Error("Retry-After sent by default")
		}
		break
	}
	if ok < 20 {
		t.Errorf("default bucket allowed only %d requests before 429, want a burst of 20", ok)
	}
}

// ---------------------------------------------------------------- webhooks

func TestSignMatchesFixtures(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"webhook_candidate_stage_change.json", "webhook_application_created.json", "webhook_contact_updated.json"} {
		var b struct {
			TriggeredAt int64  `json:"triggeredAt"`
			Token       string `json:"token"`
			Signature   string `json:"signature"`
		}
		if err := json.Unmarshal(loadFixture(t, f), &b); err != nil {
			t.Fatal(err)
		}
		if got := Sign("sandbox-signature-token", b.Token, b.TriggeredAt); got != b.Signature {
			t.Errorf("%s: Sign = %s, want %s", f, got, b.Signature)
		}
	}
}

type receiver struct {
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
	fail    int // answer 500 to this many first requests
	srv     *httptest.Server
}

func newReceiver(t *testing.T, fail int) *receiver {
	rc := &receiver{fail: fail}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, b)
		rc.headers = append(rc.headers, r.Header.Clone())
		failing := rc.fail > 0
		rc.fail--
		rc.mu.Unlock()
		if failing {
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(200)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (e *env) hook(event, target string) Webhook {
	e.t.Helper()
	r := e.want(e.call("POST", "/webhooks", map[string]any{"url": target, "event": event}), 201)
	w := decode[one[Webhook]](e.t, r.body).Data
	if len(w.Configuration.SignatureToken) < 16 {
		e.t.Fatalf("no signature token: %s", r.body)
	}
	return w
}

func TestWebhookDeliveredSignedAndRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{DisableRateLimit: true, WebhookBackoff: 10 * time.Millisecond})
	rc := newReceiver(t, 1)
	w := e.hook("candidateStageChange", rc.srv.URL+"/hook")
	o := e.sb.Opportunities()[0]
	to := otherStage(o)
	e.want(e.call("PUT", "/opportunities/"+o.ID+"/stage", map[string]any{"stage": to}), 200)
	if !e.sb.WaitIdle(5 * time.Second) {
		t.Fatal("deliveries did not finish")
	}
	ds := e.sb.Deliveries()
	if len(ds) != 2 || ds[0].StatusCode != 500 || ds[0].Attempt != 1 || !ds[1].OK() || ds[1].Attempt != 2 || ds[1].WebhookID != w.ID {
		t.Fatalf("deliveries: %+v", ds)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bodies) != 2 || !bytes.Equal(rc.bodies[0], rc.bodies[1]) {
		t.Fatalf("received %d bodies (a retry resends the same body)", len(rc.bodies))
	}
	h := rc.headers[1]
	if h.Get("User-Agent") != "Lever-Webhooks" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers: %v", h)
	}
	assertShape(t, loadFixture(t, "webhook_candidate_stage_change.json"), rc.bodies[1])
	var b WebhookBody
	if err := json.Unmarshal(rc.bodies[1], &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Token) != 48 || b.Event != "candidateStageChange" || b.TriggeredAt != e.clk.Now().UnixMilli() {
		t.Errorf("body: %+v", b)
	}
	if Sign(w.Configuration.SignatureToken, b.Token, b.TriggeredAt) != b.Signature {
		t.Errorf("signature does not verify")
	}
	if b.Data["opportunityId"] != o.ID || b.Data["candidateId"] != o.ID || b.Data["contactId"] != o.Contact ||
		b.Data["fromStageId"] != o.Stage || b.Data["toStageId"] != to {
		t.Errorf("data: %v", b.Data)
	}
	// GET /webhooks does not return the signature token again.
	r := e.want(e.call("GET", "/webhooks", nil), 200)
	if bytes.Contains(r.body, []byte(w.Configuration.SignatureToken)) {
		t.Error("signature token returned by GET /webhooks")
	}
}

func TestWebhookEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{DisableRateLimit: true, WebhookBackoff: time.Millisecond})
	rc := newReceiver(t, 0)
	tokens := map[string]string{}
	for _, ev := range []string{"candidateArchiveChange", "candidateHired", "applicationCreated", "contactUpdated", "contactCreated"} {
		tokens[ev] = e.hook(ev, rc.srv.URL).Configuration.SignatureToken
	}
	// A webhook limited to referred candidates must not fire for others.
	e.want(e.call("POST", "/webhooks", map[string]any{"url": rc.srv.URL + "/referred", "event": "candidateHired",
		"configuration": map[string]any{"conditions": map[string]any{"origins": []string{"referred"}}}}), 201)
	var o Opportunity
	for _, x := range e.sb.Opportunities() {
		if x.Archived == nil && x.Origin != "referred" {
			o = x
			break
		}
	}
	e.want(e.call("PUT", "/opportunities/"+o.ID+"/archived", map[string]any{"reason": ReasonHired}), 200)
	created := decode[one[Opportunity]](t, e.want(e.call("POST", "/opportunities?perform_as="+UserLena, map[string]any{
		"name": "Webhook Person", "emails": []string{"wh@person.example"}, "postings": []string{PostingBackend}, "origin": "applied"}), 201).body).Data
	e.want(e.call("PUT", "/contacts/"+created.Contact, map[string]any{"headline": "Changed"}), 200)
	if !e.sb.WaitIdle(5 * time.Second) {
		t.Fatal("not idle")
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	got := map[string]WebhookBody{}
	for _, raw := range rc.bodies {
		var b WebhookBody
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
		if Sign(tokens[b.Event], b.Token, b.TriggeredAt) != b.Signature {
			t.Errorf("%s: bad signature", b.Event)
		}
		got[b.Event] = b
	}
	if len(rc.bodies) != 5 {
		t.Errorf("received %d deliveries, want 5 (origin condition must filter the sixth)", len(rc.bodies))
	}
	if d := got["candidateArchiveChange"].Data; d["fromArchived"] != nil || d["toArchived"] == nil || d["opportunityId"] != o.ID {
		t.Errorf("archive change data: %v", d)
	}
	if d := got["candidateHired"].Data; d["opportunityId"] != o.ID {
		t.Errorf("hired data: %v", d)
	}
	if d := got["applicationCreated"].Data; d["applicationId"] != created.Applications[0] || d["opportunityId"] != created.ID {
		t.Errorf("applicationCreated data: %v", d)
	}
	ac, _ := json.Marshal(got["applicationCreated"])
	assertShape(t, loadFixture(t, "webhook_application_created.json"), ac)
	cu, _ := json.Marshal(got["contactUpdated"])
	assertShape(t, loadFixture(t, "webhook_contact_updated.json"), cu)
	if got["contactCreated"].Data["contactId"] != created.Contact {
		t.Errorf("contactCreated: %v", got["contactCreated"])
	}
}

func TestWebhookManagement(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	w := e.hook("contactUpdated", "https://hooks.example/lever")
	assertError(t, e.call("POST", "/webhooks", map[string]any{"url": "https://x.example", "event": "postingCreated"}), 400, "BadRequestError", "")
	assertError(t, e.call("POST", "/webhooks", map[string]any{"url": "not a url", "event": "contactUpdated"}), 400, "BadRequestError", "")
	r := e.want(e.call("PUT", "/webhooks", map[string]any{"data": []map[string]any{{"id": w.ID, "url": "https://hooks.example/v2"}}}), 200)
	l := decode[page1[Webhook]](t, r.body)
	if len(l.Data) != 1 || l.Data[0].URL != "https://hooks.example/v2" || l.Data[0].Configuration.SignatureToken != "" {
		t.Errorf("PUT: %s", r.body)
	}
	e.want(e.call("DELETE", "/webhooks/"+w.ID, nil), 204)
	if r := e.call("DELETE", "/webhooks/"+w.ID, nil); r.status != 404 {
		t.Errorf("second delete: %d", r.status)
	}
	if n := len(decode[page1[Webhook]](t, e.want(e.call("GET", "/webhooks", nil), 200).body).Data); n != 0 {
		t.Errorf("%d webhooks after delete", n)
	}
}

func TestWebhookDeliveryDoesNotBlockAndCloseStops(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(503)
	}))
	defer slow.Close()
	defer close(release)
	e := newEnv(t, Options{DisableRateLimit: true, WebhookBackoff: time.Hour})
	e.hook("candidateStageChange", slow.URL)
	o := e.sb.Opportunities()[1]
	start := time.Now()
	e.want(e.call("PUT", "/opportunities/"+o.ID+"/stage", map[string]any{"stage": otherStage(o)}), 200)
	if time.Since(start) > 2*time.Second {
		t.Fatal("API call blocked on delivery")
	}
	if e.sb.WaitIdle(50 * time.Millisecond) {
		t.Fatal("delivery should still be in flight")
	}
	done := make(chan struct{})
	go func() { e.sb.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop the delivery goroutine")
	}
}

func TestSeedDeterministic(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := New(Options{Seed: 7, Now: clk.Now})
	b := New(Options{Seed: 7, Now: clk.Now})
	c := New(Options{Seed: 8, Now: clk.Now})
	defer a.Close()
	defer b.Close()
	defer c.Close()
	ja, jb, jc := mustJSON(t, a.Opportunities()), mustJSON(t, b.Opportunities()), mustJSON(t, c.Opportunities())
	if !bytes.Equal(ja, jb) {
		t.Error("same seed gave different data")
	}
	if bytes.Equal(ja, jc) {
		t.Error("different seeds gave the same data")
	}
	opps := a.Opportunities()
	archived, withPosting, hired := 0, 0, 0
	stages, origins := map[string]bool{}, map[string]bool{}
	for _, o := range opps {
		stages[o.Stage] = true
		origins[o.Origin] = true
		if o.Archived != nil {
			archived++
			if o.Archived.Reason == ReasonHired {
				hired++
			}
		}
		if len(o.Applications) > 0 {
			withPosting++
		}
		if o.CreatedAt > clk.Now().UnixMilli() || o.UpdatedAt > clk.Now().UnixMilli() || o.UpdatedAt < o.CreatedAt {
			t.Errorf("bad timestamps on %s", o.ID)
		}
	}
	if len(opps) < 60 || archived < 5 || hired == 0 || withPosting < 20 || len(stages) < 6 || len(origins) < 4 {
		t.Errorf("seed: %d opps, %d archived (%d hired), %d with posting, %d stages, %d origins",
			len(opps), archived, hired, withPosting, len(stages), len(origins))
	}
}

// otherStage returns a stage the opportunity is not in.
func otherStage(o Opportunity) string {
	if o.Stage == StageOffer {
		return StageRef
	}
	return StageOffer
}

func TestIncludeAndExpand(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noLimit())
	var o Opportunity
	for _, x := range e.sb.Opportunities() {
		if len(x.Applications) == 1 && len(x.Followers) > 0 {
			o = x
			break
		}
	}
	r := e.want(e.call("GET", "/opportunities/"+o.ID+"?expand=stage&expand=owner,contact,applications,followers&include=tags", nil), 200)
	got := decode[struct {
		Data map[string]json.RawMessage `json:"data"`
	}](t, r.body)
	keys := []string{}
	for k := range got.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"applications", "contact", "followers", "id", "owner", "stage", "tags"}) {
		t.Errorf("keys %v", keys)
	}
	st := decode[Stage](t, got.Data["stage"])
	c := decode[Contact](t, got.Data["contact"])
	apps := decode[[]Application](t, got.Data["applications"])
	fol := decode[[]User](t, got.Data["followers"])
	if st.ID != o.Stage || st.Text == "" || c.ID != o.Contact || len(apps) != 1 || apps[0].ID != o.Applications[0] || len(fol) != len(o.Followers) {
		t.Errorf("expanded: %s", r.body)
	}
	l := decode[page1[map[string]any]](t, e.want(e.call("GET", "/opportunities?limit=3&include=stage", nil), 200).body)
	if len(l.Data) != 3 || len(l.Data[0]) != 2 {
		t.Errorf("include on list: %v", l.Data)
	}
	p := decode[one[map[string]any]](t, e.want(e.call("GET", "/postings/"+PostingBackend+"?expand=hiringManager", nil), 200).body)
	if hm, ok := p.Data["hiringManager"].(map[string]any); !ok || hm["id"] != UserMarcus {
		t.Errorf("posting expand: %v", p.Data["hiringManager"])
	}
}

func TestConfidentialNeedsGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{DisableRateLimit: true, LimitedKeys: []string{"limited"}})
	lim := basic("limited")
	e.want(e.callAuth("GET", "/opportunities", nil, lim), 200)
	assertError(t, e.callAuth("GET", "/opportunities?confidentiality=all", nil, lim), 403, "ForbiddenError", "")
	assertError(t, e.callAuth("GET", "/postings?confidentiality=confidential", nil, lim), 403, "ForbiddenError", "")
	for _, o := range e.sb.Opportunities() {
		if o.Confidentiality == "confidential" {
			assertError(t, e.callAuth("GET", "/opportunities/"+o.ID, nil, lim), 403, "ForbiddenError", "")
			e.want(e.call("GET", "/opportunities/"+o.ID, nil), 200)
			return
		}
	}
	t.Fatal("no confidential opportunity in seed")
}

func TestRedirectIsAFailedDelivery(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	redir := httptest.NewServer(http.RedirectHandler(rc.srv.URL, http.StatusFound))
	defer redir.Close()
	e := newEnv(t, Options{DisableRateLimit: true, WebhookRetries: 2, WebhookBackoff: time.Millisecond})
	e.hook("contactUpdated", redir.URL)
	o := e.sb.Opportunities()[0]
	e.want(e.call("PUT", "/contacts/"+o.Contact, map[string]any{"name": "Renamed Person"}), 200)
	if !e.sb.WaitIdle(5 * time.Second) {
		t.Fatal("not idle")
	}
	ds := e.sb.Deliveries()
	if len(ds) != 3 || ds[2].StatusCode != http.StatusFound || ds[2].OK() {
		t.Errorf("deliveries: %+v", ds)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bodies) != 0 {
		t.Error("redirect was followed")
	}
}

func TestNoSeed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{DisableRateLimit: true, NoSeed: true})
	if n := len(e.listOpps("")); n != 0 {
		t.Errorf("%d opportunities", n)
	}
	if len(e.sb.Users()) != 10 || len(e.sb.Stages()) == 0 || len(e.sb.ArchiveReasons()) == 0 {
		t.Error("catalogs and users should still be seeded")
	}
}
