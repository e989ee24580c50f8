package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// pagedServer serves items in pages of size per, linking pages with opaque,
// already percent-encoded tokens in Lever's style.
func pagedServer(total, per int) http.HandlerFunc {
	token := func(i int) string { return fmt.Sprintf("%%5B1%%2C17476692020%02d%%2C%%22id-%d%%22%%5D", i, i) }
	return func(w http.ResponseWriter, r *http.Request) {
		start := 0
		if off := r.URL.Query().Get("offset"); off != "" {
			start = -1
			for i := 0; i < total; i++ {
				if token(i) == off {
					start = i
				}
			}
			if start < 0 {
				writeJSON(w, 400, `{"code":"BadRequestError","message":"Invalid offset token: Offset token is invalid for sort"}`)
				return
			}
		}
		end := min(start+per, total)
		var items []string
		for i := start; i < end; i++ {
			items = append(items, fmt.Sprintf(`{"id":"id-%d","text":"Stage %d"}`, i, i))
		}
		body := `{"data":[` + strings.Join(items, ",") + `],"hasNext":false}`
		if end < total {
			body = fmt.Sprintf(`{"data":[%s],"hasNext":true,"next":%q}`, strings.Join(items, ","), token(end))
		}
		writeJSON(w, 200, body)
	}
}

func collect[T any](t *testing.T, seq func(yield func(T, error) bool)) ([]T, error) {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func TestListFollowsPages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		total     int
		per       int
		opts      ListOptions
		wantItems int
		wantReqs  int
	}{
		{"all pages", 5, 2, ListOptions{Limit: 2}, 5, 3},
		{"cap mid page", 5, 2, ListOptions{Limit: 2, MaxItems: 3}, 3, 2},
		{"cap at page end", 5, 2, ListOptions{Limit: 2, MaxItems: 4}, 4, 2},
		{"single page", 2, 10, ListOptions{}, 2, 1},
		{"empty", 0, 10, ListOptions{}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv, _ := setup(t, pagedServer(tt.total, tt.per), nil)
			items, err := collect(t, c.ListStages(context.Background(), tt.opts))
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != tt.wantItems {
				t.Errorf("items = %d, want %d", len(items), tt.wantItems)
			}
			for i, s := range items {
				if s.ID != fmt.Sprintf("id-%d", i) {
					t.Errorf("item %d = %s", i, s.ID)
				}
			}
			reqs := srv.Requests()
			if len(reqs) != tt.wantReqs {
				t.Fatalf("requests = %d, want %d", len(reqs), tt.wantReqs)
			}
			if tt.opts.Limit > 0 && reqs[0].Query["limit"][0] != fmt.Sprint(tt.opts.Limit) {
				t.Errorf("limit = %v", reqs[0].Query["limit"])
			}
			if _, ok := reqs[0].Query["offset"]; ok {
				t.Errorf("first request sent an offset: %q", reqs[0].RawQuery)
			}
			for _, r := range reqs[1:] {
				// The token decodes back to exactly what Lever sent (the
				// wire form is double-encoded, which Lever accepts).
				if off := r.Query["offset"]; len(off) != 1 || !strings.HasPrefix(off[0], "%5B1%2C") {
					t.Errorf("offset = %v (raw %q)", off, r.RawQuery)
				}
				if !strings.Contains(r.RawQuery, "offset=%255B1%252C") {
					t.Errorf("raw query %q is not the token URL-encoded once more", r.RawQuery)
				}
			}
		})
	}
}

func TestListFixtureTokenEchoedUnchanged(t *testing.T) {
	t.Parallel()
	page1, page2 := fixture(t, "opportunities_page1.json"), fixture(t, "opportunities_page2.json")
	const token = "%5B1%2C1747669202000%2C%221d9a6f3c-8e4b-4c27-a5d0-3b7e2f9c6a18%22%5D"
	c, srv, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("offset") {
		case "":
			writeJSON(w, 200, page1)
		case token:
			writeJSON(w, 200, page2)
		default:
			writeJSON(w, 400, fixture(t, "error_400.json"))
		}
	}, nil)
	var names []string
	for o, err := range c.ListOpportunities(context.Background(), ListOpportunitiesParams{ListOptions: ListOptions{Limit: 2}}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, o.Name)
	}
	if want := []string{"Avery Chen", "Jordan Alvarez", "Sam Okafor"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names = %v", names)
	}
	if reqs := srv.Requests(); len(reqs) != 2 || reqs[1].Query["offset"][0] != token || reqs[1].Query["limit"][0] != "2" {
		t.Errorf("requests = %+v", reqs)
	}
	// Resuming from a saved token starts at page 2.
	p, err := c.OpportunitiesPage(context.Background(), ListOpportunitiesParams{ListOptions: ListOptions{Offset: token}})
	if err != nil || len(p.Data) != 1 || p.HasNext {
		t.Fatalf("page = %+v, err %v", p, err)
	}
}

func TestListEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		wantErr  string
		wantN    int
		wantReqs int
	}{
		{"missing hasNext is false", `{"data":[{"text":"Go","count":3}],"next":"ignored"}`, "", 1, 1},
		{"hasNext without next", `{"data":[{"text":"Go","count":3}],"hasNext":true}`, "next is missing", 1, 1},
		{"error page", ``, "500", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := status(200, tt.body)
			if tt.body == "" {
				h = status(500, "")
			}
			c, srv, _ := setup(t, h, func(c *Config) { c.MaxRetries = -1 })
			tags, err := collect(t, c.ListTags(context.Background(), ListOptions{}))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if len(tags) != tt.wantN || len(srv.Requests()) != tt.wantReqs {
				t.Errorf("tags %d requests %d", len(tags), len(srv.Requests()))
			}
		})
	}
}

func TestListStopsOnBreak(t *testing.T) {
	t.Parallel()
	c, srv, _ := setup(t, pagedServer(10, 2), nil)
	for s, err := range c.ListStages(context.Background(), ListOptions{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if s.ID == "id-2" {
			break
		}
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
}

func TestQueryEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  url.Values
		want url.Values
	}{
		{"opportunities", ListOpportunitiesParams{
			Tags: []string{"Go", "Backend"}, Emails: []string{"a@x.example", "b@x.example"}, Origins: []string{OriginApplied, OriginSourced},
			Sources: []string{"LinkedIn"}, Confidentiality: ConfidentialityAll, StageIDs: []string{"lead-new", "applicant-new"},
			PostingIDs: []string{"p1", "p2"}, ArchivedPostingIDs: []string{"p3"},
			CreatedAtStart: 1, CreatedAtEnd: 2, UpdatedAtStart: 3, UpdatedAtEnd: 4, AdvancedAtStart: 5, AdvancedAtEnd: 6,
			ArchivedAtStart: 7, ArchivedAtEnd: 8, Archived: Bool(false), ArchiveReasonIDs: []string{"r1", "r2"}, Snoozed: Bool(true),
			ContactIDs: []string{"c1"}, Locations: []string{"Berlin", "Remote - EU"}, Expand: []string{"stage", "owner"}, Include: []string{"id"},
			ListOptions: ListOptions{Limit: 50, Offset: "ignored-by-Values"},
		}.Values(), url.Values{
			"tag": {"Go", "Backend"}, "email": {"a@x.example", "b@x.example"}, "origin": {"applied", "sourced"}, "source": {"LinkedIn"},
			"confidentiality": {"all"}, "stage_id": {"lead-new", "applicant-new"}, "posting_id": {"p1", "p2"}, "archived_posting_id": {"p3"},
			"created_at_start": {"1"}, "created_at_end": {"2"}, "updated_at_start": {"3"}, "updated_at_end": {"4"},
			"advanced_at_start": {"5"}, "advanced_at_end": {"6"}, "archived_at_start": {"7"}, "archived_at_end": {"8"},
			"archived": {"false"}, "archive_reason_id": {"r1", "r2"}, "snoozed": {"true"}, "contact_id": {"c1"},
			"location": {"Berlin", "Remote - EU"}, "expand": {"stage", "owner"}, "include": {"id"},
		}},
		{"opportunities empty", ListOpportunitiesParams{Tags: []string{""}}.Values(), url.Values{}},
		{"deleted opportunities", ListDeletedOpportunitiesParams{DeletedAtStart: 10, DeletedAtEnd: 20}.Values(),
			url.Values{"deleted_at_start": {"10"}, "deleted_at_end": {"20"}}},
		{"postings", ListPostingsParams{
			States: []string{PostingPublished, PostingInternal}, DistributionChannels: []string{"public", "internal"}, Confidentiality: "all",
			Teams: []string{"Platform", "Data"}, Departments: []string{"Engineering"}, Locations: []string{"Berlin"}, Commitments: []string{"Full-time"},
			Levels: []string{"Senior"}, Tags: []string{"go", "high-priority"}, Group: "team", UpdatedAtStart: 100, UpdatedAtEnd: 200,
			Include: []string{"content", "followers"}, Expand: []string{"owner", "hiringManager"},
		}.Values(), url.Values{
			"state": {"published", "internal"}, "distributionChannel": {"public", "internal"}, "confidentiality": {"all"},
			"team": {"Platform", "Data"}, "department": {"Engineering"}, "location": {"Berlin"}, "commitment": {"Full-time"},
			"level": {"Senior"}, "tag": {"go", "high-priority"}, "group": {"team"}, "updated_at_start": {"100"}, "updated_at_end": {"200"},
			"include": {"content", "followers"}, "expand": {"owner", "hiringManager"},
		}},
		{"users", ListUsersParams{Emails: []string{"a@x.example"}, AccessRoles: []string{RoleAdmin, "custom-role-id"}, IncludeDeactivated: true, ExternalDirectoryIDs: []string{"NW-1", "NW-2"}}.Values(),
			url.Values{"email": {"a@x.example"}, "accessRole": {"admin", "custom-role-id"}, "includeDeactivated": {"true"}, "external_directory_id": {"NW-1", "NW-2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("values\n got %v\nwant %v", tt.got, tt.want)
			}
		})
	}
}

func TestRepeatedFiltersOnTheWire(t *testing.T) {
	t.Parallel()
	c, srv, _ := setup(t, status(200, `{"data":[],"hasNext":false}`), nil)
	_, err := collect(t, c.ListOpportunities(context.Background(), ListOpportunitiesParams{
		Tags: []string{"a b", "c&d"}, PostingIDs: []string{"p1", "p2"}, ListOptions: ListOptions{Limit: 100},
	}))
	if err != nil {
		t.Fatal(err)
	}
	raw := srv.Requests()[0].RawQuery
	for _, want := range []string{"tag=a+b&tag=c%26d", "posting_id=p1&posting_id=p2", "limit=100"} {
		if !strings.Contains(raw, want) {
			t.Errorf("raw query %q lacks %q", raw, want)
		}
	}
}
