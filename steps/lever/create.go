package lever

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/lever/client"
)

// dedupeWindow is how far before the step's first attempt a lookup for an
// earlier attempt's write starts: clocks of Leverflow and Lever differ.
const dedupeWindow = time.Minute

// writeSince is the earliest creation time an earlier attempt's write can
// have, in Lever's milliseconds.
func writeSince(req *steps.Request) int64 {
	start := req.StartedAt
	if start.IsZero() {
		start = req.Now
	}
	if start.IsZero() {
		start = time.Now()
	}
	return start.Add(-dedupeWindow).UnixMilli()
}

// creator runs a create that Lever cannot make idempotent: on a later step
// attempt it first looks for what an earlier attempt wrote, and within one
// attempt the client's BeforeRetry runs the same lookup before it repeats
// the POST.
type creator struct {
	path  string
	query url.Values
	body  any
	// find looks for the object an earlier attempt created; nil when none.
	find func(ctx context.Context) (map[string]any, error)
}

func (cr creator) run(ctx context.Context, c *client.Client, req *steps.Request) (map[string]any, error) {
	if req.Attempt > 1 {
		found, err := cr.find(ctx)
		if err != nil {
			return nil, fmt.Errorf("looking for what attempt %d may have created: %w", req.Attempt-1, err)
		}
		if found != nil {
			return found, nil
		}
	}
	var found map[string]any
	before := client.BeforeRetry(func(ctx context.Context) (bool, error) {
		m, err := cr.find(ctx)
		if err != nil {
			return false, err
		}
		found = m
		return m != nil, nil
	})
	var raw json.RawMessage
	if err := c.Do(ctx, http.MethodPost, cr.path, cr.query, cr.body, &raw, before); err != nil {
		return nil, leverError(err)
	}
	if found != nil {
		return found, nil
	}
	return decodeObject(raw)
}

// findInList pages through GET path (at most 10 pages of 100) for an item
// match accepts.
func findInList(ctx context.Context, c *client.Client, path string, q url.Values, match func(map[string]any) bool) (map[string]any, error) {
	q.Set("limit", "100")
	for range 10 {
		page, err := client.FetchPage[json.RawMessage](ctx, c, path, q)
		if err != nil {
			return nil, leverError(err)
		}
		for _, raw := range page.Data {
			var m map[string]any
			if json.Unmarshal(raw, &m) == nil && m != nil && match(m) {
				return m, nil
			}
		}
		if !page.HasNext || page.Next == "" {
			return nil, nil
		}
		q.Set("offset", page.Next)
	}
	return nil, nil
}

func sameText(a any, b string) bool {
	s, ok := a.(string)
	return ok && strings.EqualFold(strings.TrimSpace(s), strings.TrimSpace(b))
}

func msOf(v any) int64 {
	switch v := v.(type) {
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

type createOpportunityInput struct {
	PerformAs             string         `json:"perform_as"`
	PerformAsPostingOwner bool           `json:"perform_as_posting_owner"`
	Name                  string         `json:"name"`
	Headline              string         `json:"headline"`
	StageID               string         `json:"stage_id"`
	Location              string         `json:"location"`
	Emails                []string       `json:"emails"`
	Phones                []client.Phone `json:"phones"`
	Links                 []string       `json:"links"`
	Tags                  []string       `json:"tags"`
	Sources               []string       `json:"sources"`
	Origin                string         `json:"origin"`
	OwnerID               string         `json:"owner_id"`
	FollowerIDs           []string       `json:"follower_ids"`
	PostingID             string         `json:"posting_id"`
	ContactID             string         `json:"contact_id"`
	OpportunityLocation   string         `json:"opportunity_location"`
}

// checkPerson: an opportunity is about someone.
func checkPerson(name string, emails []string, contactID string) *steps.Problem {
	if strings.TrimSpace(name) == "" && len(emails) == 0 && contactID == "" {
		return &steps.Problem{Message: "an opportunity needs a person: set name (and emails), or contact_id for an existing contact"}
	}
	return nil
}

func checkLiteralPerson(input map[string]any) []steps.Problem {
	for _, k := range []string{"name", "emails", "contact_id"} {
		if _, ok := input[k]; ok {
			return nil
		}
	}
	return []steps.Problem{*checkPerson("", nil, "")}
}

func (f *family) createOpportunitySpec() steps.Spec {
	origin := enum("How the candidate came.", origins...)
	spec := steps.Spec{
		Type:  "lever.create_opportunity",
		Title: "Create Opportunity",
		Description: "Creates an opportunity (a candidacy). Lever reuses the contact of a known email address. " +
			"Lever has no idempotency keys, so a retried attempt first looks for the opportunity an earlier attempt " +
			"may have created (same first email and posting, created since the step began, same name) and returns it instead of creating a second one.",
		Input: object("The candidate and the candidacy.", map[string]*steps.Schema{
			"perform_as":               performAs(true),
			"perform_as_posting_owner": boolean("Act as the posting's owner instead (Lever's perform_as_posting_owner)."),
			"name":                     str("The candidate's name."),
			"headline":                 str("The candidate's headline, such as their current employer."),
			"stage_id":                 str("The stage to start in (default Lever's \"New lead\")."),
			"location":                 str("Where the candidate is."),
			"emails":                   strList("Email addresses; the first is how a retry recognises the opportunity.", "An email address."),
			"phones":                   phonesSchema("Phone numbers."),
			"links":                    strList("Links such as a LinkedIn profile.", "A URL."),
			"tags":                     strList("Tags (created when new).", "A tag."),
			"sources":                  strList("Sources (created when new).", "A source."),
			"origin":                   origin,
			"owner_id":                 str("The owning user (default perform_as)."),
			"follower_ids":             strList("Users who follow it (the creator always does).", "A user id."),
			"posting_id":               str("The posting applied to (one)."),
			"contact_id":               str("An existing contact to add the candidacy to."),
			"opportunity_location":     str("The location of the candidacy."),
		}, "perform_as"),
		Output: opportunitySchema("The new opportunity."),
		Check:  combineChecks(checkLiteralIDs("perform_as", "owner_id", "posting_id", "contact_id", "stage_id"), checkLiteralPerson),
		Examples: []steps.Example{
			example("Create a sourced lead",
				`{"perform_as": "`+exampleUser+`", "name": "Grace Hopper", "headline": "Compilers", "emails": ["grace@example.com"], "tags": ["Senior"], "origin": "sourced"}`,
				exampleCreatedOpportunity),
			errorExample("Someone to create it for", `{"perform_as": "`+exampleUser+`", "headline": "Compilers"}`,
				"input: an opportunity needs a person"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in createOpportunityInput) (map[string]any, error) {
		if err := requireID("perform_as", in.PerformAs); err != nil {
			return nil, err
		}
		if p := checkPerson(in.Name, in.Emails, in.ContactID); p != nil {
			return nil, p.Err()
		}
		c, err := f.client(ctx, req)
		if err != nil {
			return nil, err
		}
		body := client.CreateOpportunityInput{
			Name: in.Name, Headline: in.Headline, Stage: in.StageID, Location: in.Location,
			Emails: in.Emails, Phones: in.Phones, Links: in.Links, Tags: in.Tags, Sources: in.Sources,
			Origin: in.Origin, Owner: in.OwnerID, Followers: in.FollowerIDs, Contact: in.ContactID,
			OpportunityLocation: in.OpportunityLocation,
		}
		if in.PostingID != "" {
			body.Postings = []string{in.PostingID}
		}
		q := url.Values{"perform_as": {in.PerformAs}}
		if in.PerformAsPostingOwner {
			q.Set("perform_as_posting_owner", "true")
		}
		since := writeSince(req)
		find := func(ctx context.Context) (map[string]any, error) {
			lq := url.Values{"created_at_start": {strconv.FormatInt(since, 10)}}
			if len(in.Emails) > 0 {
				lq.Set("email", in.Emails[0])
			}
			if in.PostingID != "" {
				lq.Set("posting_id", in.PostingID)
			}
			if in.ContactID != "" {
				lq.Set("contact_id", in.ContactID)
			}
			// An email or a contact already narrows the search to one
			// person; Lever then keeps the stored contact's name, which may
			// differ from the input's, so the name is compared only when
			// nothing else narrows.
			narrowed := len(in.Emails) > 0 || in.ContactID != ""
			match := func(m map[string]any) bool {
				return msOf(m["createdAt"]) >= since && (narrowed || in.Name == "" || sameText(m["name"], in.Name))
			}
			// An opportunity on a confidential posting is listed only with
			// confidentiality=all, which a key without confidential access
			// is refused (403): then look among the others.
			lq.Set("confidentiality", "all")
			m, err := findInList(ctx, c, "/opportunities", lq, match)
			if errors.Is(err, client.ErrForbidden) {
				lq.Del("confidentiality")
				lq.Del("offset")
				return findInList(ctx, c, "/opportunities", lq, match)
			}
			return m, err
		}
		return creator{path: "/opportunities", query: q, body: body, find: find}.run(ctx, c, req)
	})
}
