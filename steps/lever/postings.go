package lever

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/lever/client"
)

var (
	postingStates   = []string{"published", "internal", "closed", "draft", "pending", "rejected"}
	postingExpand   = []string{"user", "owner", "hiringManager", "followers"}
	workplaceTypes  = []string{"unspecified", "onsite", "remote", "hybrid"}
	postingChannels = []string{"public", "internal"}
)

func postingIDInput() *steps.Schema { return str("The posting id.") }

// postingFields are the writable fields of create_posting and
// update_posting.
type postingFields struct {
	PerformAs             string               `json:"perform_as"`
	Text                  string               `json:"text"`
	State                 string               `json:"state"`
	DistributionChannels  []string             `json:"distribution_channels"`
	OwnerID               string               `json:"owner_id"`
	HiringManagerID       string               `json:"hiring_manager_id"`
	Team                  string               `json:"team"`
	Department            string               `json:"department"`
	Location              string               `json:"location"`
	Commitment            string               `json:"commitment"`
	Tags                  []string             `json:"tags"`
	DescriptionHTML       string               `json:"description_html"`
	Lists                 []client.PostingList `json:"lists"`
	ClosingHTML           string               `json:"closing_html"`
	WorkplaceType         string               `json:"workplace_type"`
	RequisitionCodes      []string             `json:"requisition_codes"`
	SalaryDescriptionHTML string               `json:"salary_description_html"`
	SalaryRange           *client.SalaryRange  `json:"salary_range"`
}

func (p postingFields) body() client.PostingInput {
	in := client.PostingInput{
		Text: p.Text, State: p.State, DistributionChannels: p.DistributionChannels, Owner: p.OwnerID,
		HiringManager: p.HiringManagerID, Tags: p.Tags, WorkplaceType: p.WorkplaceType,
		RequisitionCodes: p.RequisitionCodes, SalaryDescriptionHTML: p.SalaryDescriptionHTML, SalaryRange: p.SalaryRange,
	}
	if p.Team != "" || p.Department != "" || p.Location != "" || p.Commitment != "" {
		in.Categories = &client.PostingCategories{Team: p.Team, Department: p.Department, Location: p.Location, Commitment: p.Commitment}
	}
	if p.DescriptionHTML != "" || len(p.Lists) > 0 || p.ClosingHTML != "" {
		in.Content = &client.PostingContent{DescriptionHTML: p.DescriptionHTML, Lists: p.Lists, ClosingHTML: p.ClosingHTML}
	}
	return in
}

func postingFieldProps(create bool) map[string]*steps.Schema {
	change := "The "
	if !create {
		change = "The new "
	}
	return map[string]*steps.Schema{
		"perform_as":            performAs(true),
		"text":                  str(change + "job title."),
		"state":                 enum(change+"state (a new posting defaults to draft).", postingStates...),
		"distribution_channels": list(change+"channels it is listed on (default both).", enum("A channel.", postingChannels...)),
		"owner_id":              str(change + "owning user (default perform_as)."),
		"hiring_manager_id":     str(change + "hiring manager's user id."),
		"team":                  str(change + "team."),
		"department":            str(change + "department."),
		"location":              str(change + "location."),
		"commitment":            str(change + "commitment, such as \"Full-time\"."),
		"tags":                  strList(change+"tags.", "A tag."),
		"description_html":      str(change + "description (Lever's small HTML whitelist)."),
		"lists": list(change+"titled lists.", object("A list.", map[string]*steps.Schema{
			"text":    str("The title, such as \"What you will do\"."),
			"content": str("The items as HTML <li> elements."),
		}, "text")),
		"closing_html":            str(change + "closing text (HTML)."),
		"workplace_type":          enum(change+"workplace type.", workplaceTypes...),
		"requisition_codes":       strList(change+"requisition codes.", "A code."),
		"salary_description_html": str(change + "salary text (HTML)."),
		"salary_range": object(change+"salary range (all four fields).", map[string]*steps.Schema{
			"min":      &steps.Schema{Type: steps.TypeNumber, Description: "The lower bound."},
			"max":      &steps.Schema{Type: steps.TypeNumber, Description: "The upper bound."},
			"currency": str("The currency, such as \"EUR\"."),
			"interval": str("Such as \"per-year-salary\"."),
		}, "min", "max", "currency", "interval"),
	}
}

func checkPostingText(text string) *steps.Problem {
	if text == "" {
		return &steps.Problem{Path: "text", Message: "must not be empty; a posting needs a job title"}
	}
	return nil
}

func (f *family) createPostingSpec() steps.Spec {
	spec := steps.Spec{
		Type:  "lever.create_posting",
		Title: "Create Posting",
		Description: "Creates a job posting (a draft unless state says otherwise). Lever has no idempotency keys, so a retried attempt " +
			"first looks for a posting an earlier attempt may have created (same text, team and location, created since the step began) and returns it.",
		Input:  object("The posting.", postingFieldProps(true), "perform_as", "text"),
		Output: postingSchema("The new posting."),
		Check: combineChecks(checkLiteralIDs("perform_as", "owner_id", "hiring_manager_id"), func(input map[string]any) []steps.Problem {
			if s, ok := input["text"].(string); ok && !steps.HasReference(s) {
				if p := checkPostingText(s); p != nil {
					return []steps.Problem{*p}
				}
			}
			return nil
		}),
		Examples: []steps.Example{
			example("Create a draft posting",
				`{"perform_as": "`+exampleUser+`", "text": "Compiler Engineer", "team": "Platform", "location": "Berlin", "commitment": "Full-time"}`,
				exampleCreatedPosting),
			errorExample("A posting needs a title", `{"perform_as": "`+exampleUser+`", "text": ""}`, "input.text: must not be empty"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in postingFields) (map[string]any, error) {
		if err := requireID("perform_as", in.PerformAs); err != nil {
			return nil, err
		}
		if p := checkPostingText(in.Text); p != nil {
			return nil, p.Err()
		}
		c, err := f.client(ctx, req)
		if err != nil {
			return nil, err
		}
		since := writeSince(req)
		find := func(ctx context.Context) (map[string]any, error) {
			// Lever's posting list filters by update time only; a new
			// posting's updatedAt is its createdAt.
			lq := url.Values{"updated_at_start": {strconv.FormatInt(since, 10)}}
			return findInList(ctx, c, "/postings", lq, func(m map[string]any) bool {
				cat, _ := m["categories"].(map[string]any)
				return msOf(m["createdAt"]) >= since && sameText(m["text"], in.Text) &&
					(in.Team == "" || sameText(cat["team"], in.Team)) &&
					(in.Location == "" || sameText(cat["location"], in.Location))
			})
		}
		return creator{path: "/postings", query: performAsQuery(in.PerformAs), body: in.body(), find: find}.run(ctx, c, req)
	})
}

type updatePostingInput struct {
	PostingID string `json:"posting_id"`
	postingFields
}

func (f *family) updatePostingSpec() steps.Spec {
	props := postingFieldProps(false)
	props["posting_id"] = postingIDInput()
	spec := steps.Spec{
		Type:  "lever.update_posting",
		Title: "Update Posting",
		Description: "Changes the given fields of a posting; the others keep their values (a field cannot be cleared this way). " +
			"Returns the updated posting.",
		Input:  object("The posting and the fields to change.", props, "posting_id", "perform_as"),
		Output: postingSchema("The posting after the change."),
		Check:  checkLiteralIDs("posting_id", "perform_as", "owner_id", "hiring_manager_id"),
		Examples: []steps.Example{
			example("Publish a posting",
				`{"posting_id": "{{posting}}", "perform_as": "`+exampleUser+`", "state": "published"}`,
				examplePostingWith(map[string]any{"state": "published"})),
			errorExample("Lever requires perform_as", `{"posting_id": "{{posting}}", "state": "published"}`,
				"input.perform_as: required field is missing"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in updatePostingInput) (map[string]any, error) {
		if err := firstError(requireID("posting_id", in.PostingID), requireID("perform_as", in.PerformAs)); err != nil {
			return nil, err
		}
		c, err := f.client(ctx, req)
		if err != nil {
			return nil, err
		}
		return doObject(ctx, c, http.MethodPost, "/postings/"+url.PathEscape(in.PostingID), performAsQuery(in.PerformAs),
			in.body(), client.Idempotent())
	})
}

type getPostingInput struct {
	PostingID    string   `json:"posting_id"`
	Distribution string   `json:"distribution"`
	Include      []string `json:"include"`
	Expand       []string `json:"expand"`
}

func (f *family) getPostingSpec() steps.Spec {
	spec := steps.Spec{
		Type:        "lever.get_posting",
		Title:       "Get Posting",
		Description: "Reads one job posting: title, state, team, location, content, salary, ...",
		Input: object("Which posting.", map[string]*steps.Schema{
			"posting_id":   postingIDInput(),
			"distribution": enum("Which custom questions to return: internal or external.", "internal", "external"),
			"include":      strList("Return only these fields (Lever's include).", "A field name."),
			"expand":       expandInput("user, owner, hiringManager, followers", postingExpand),
		}, "posting_id"),
		Output: postingSchema("The posting, as Lever sends it."),
		Check:  checkLiteralIDs("posting_id"),
		Examples: []steps.Example{
			example("Read a posting ({{posting}} is the example sandbox's)", `{"posting_id": "{{posting}}"}`, examplePosting),
			errorExample("An unknown posting fails at once", `{"posting_id": "nope"}`, "Lever answered 404 ResourceNotFound"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in getPostingInput) (map[string]any, error) {
		c, err := f.clientForID(ctx, req, "posting_id", in.PostingID)
		if err != nil {
			return nil, err
		}
		q := query{}
		q.text("distribution", in.Distribution)
		q.list("include", in.Include)
		q.list("expand", in.Expand)
		return getObject(ctx, c, "/postings/"+url.PathEscape(in.PostingID), url.Values(q))
	})
}

type getPostingsInput struct {
	State               textList  `json:"state"`
	DistributionChannel textList  `json:"distribution_channel"`
	Confidentiality     string    `json:"confidentiality"`
	Team                textList  `json:"team"`
	Department          textList  `json:"department"`
	Location            textList  `json:"location"`
	Commitment          textList  `json:"commitment"`
	Level               textList  `json:"level"`
	Tag                 textList  `json:"tag"`
	UpdatedAtStart      timeBound `json:"updated_at_start"`
	UpdatedAtEnd        timeBound `json:"updated_at_end"`
	Include             []string  `json:"include"`
	Expand              []string  `json:"expand"`
	paging
}

func (f *family) getPostingsSpec() steps.Spec {
	spec := steps.Spec{
		Type:  "lever.get_postings",
		Title: "Get Postings",
		Description: "Lists job postings matching Lever's filters (case-sensitive; several values match any). " +
			"Lever lets updated_at_start/updated_at_end be combined only with confidentiality. One page by default; all_pages follows the pages up to max_items.",
		Input: object("The filters and paging.", listInputProps(map[string]*steps.Schema{
			"state":                textOrList("Postings in this state: published, internal, closed, draft, pending, rejected."),
			"distribution_channel": textOrList("Postings listed on this channel: public or internal (a published list shows only public ones unless set)."),
			"confidentiality":      enum("non-confidential (Lever's default), confidential or all.", "non-confidential", "confidential", "all"),
			"team":                 textOrList("Postings of this team."),
			"department":           textOrList("Postings of this department."),
			"location":             textOrList("Postings at this location."),
			"commitment":           textOrList("Postings with this commitment, such as Full-time."),
			"level":                textOrList("Postings of this level (deprecated by Lever)."),
			"tag":                  textOrList("Postings with this tag."),
			"updated_at_start":     timeInput("Changed at or after this time."),
			"updated_at_end":       timeInput("Changed at or before this time."),
			"include":              strList("Extra fields to return: content, followers.", "A field name."),
			"expand":               expandInput("user, owner, hiringManager, followers", postingExpand),
		})),
		Output: listOutputSchema("postings", postingSchema("A posting, as Lever sends it.")),
		Check:  checkPaging,
		Examples: []steps.Example{
			example("Draft postings of the Platform team",
				`{"state": "draft", "team": "Platform"}`,
				`{"items": [`+examplePosting+`], "count": 1, "has_next": false, "next": ""}`),
			errorExample("max_items is at most 10000", `{"all_pages": true, "max_items": 50000}`, "input.max_items: must be from 1 to 10000"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in getPostingsInput) (listOutput, error) {
		q := query{}
		q.list("state", in.State)
		q.list("distributionChannel", in.DistributionChannel)
		q.text("confidentiality", in.Confidentiality)
		q.list("team", in.Team)
		q.list("department", in.Department)
		q.list("location", in.Location)
		q.list("commitment", in.Commitment)
		q.list("level", in.Level)
		q.list("tag", in.Tag)
		q.time("updated_at_start", in.UpdatedAtStart)
		q.time("updated_at_end", in.UpdatedAtEnd)
		q.list("include", in.Include)
		q.list("expand", in.Expand)
		c, err := f.client(ctx, req)
		if err != nil {
			return listOutput{}, err
		}
		return fetchList(ctx, c, "/postings", url.Values(q), in.paging, nil)
	})
}
