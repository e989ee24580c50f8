package lever

import (
	"context"
	"net/http"
	"net/url"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/lever/client"
)

var (
	opportunityExpand = []string{"applications", "stage", "owner", "followers", "sourcedBy", "contact"}
	origins           = []string{"agency", "applied", "internal", "referred", "sourced", "university"}
)

func opportunityIDInput() *steps.Schema {
	return str("The opportunity id (Lever's candidate id), such as <<trigger.opportunityId>>.")
}

func expandInput(what string, values []string) *steps.Schema {
	s := list("Fields to return as whole objects instead of ids: "+what+".", str("A field name."))
	s.Items.Enum = make([]any, len(values))
	for i, v := range values {
		s.Items.Enum[i] = v
	}
	return s
}

type getOpportunityInput struct {
	OpportunityID string   `json:"opportunity_id"`
	Expand        []string `json:"expand"`
}

func (f *family) getOpportunitySpec() steps.Spec {
	spec := steps.Spec{
		Type:        "lever.get_opportunity",
		Title:       "Get Opportunity",
		Description: "Reads one opportunity (a candidacy) with Lever's fields: name, headline, emails, stage, tags, contact, ...",
		Input: object("Which opportunity.", map[string]*steps.Schema{
			"opportunity_id": opportunityIDInput(),
			"expand":         expandInput("applications, stage, owner, followers, sourcedBy, contact", opportunityExpand),
		}, "opportunity_id"),
		Output: opportunitySchema("The opportunity, as Lever sends it."),
		Check:  checkLiteralIDs("opportunity_id"),
		Examples: []steps.Example{
			example("Read an opportunity ({{opportunity}} is an opportunity of the example sandbox)",
				`{"opportunity_id": "{{opportunity}}"}`, exampleOpportunity),
			errorExample("An unknown id fails at once",
				`{"opportunity_id": "00000000-0000-4000-8000-000000000000"}`,
				"Lever answered 404 ResourceNotFound: Opportunity 00000000-0000-4000-8000-000000000000 was not found"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in getOpportunityInput) (map[string]any, error) {
		c, err := f.clientForID(ctx, req, "opportunity_id", in.OpportunityID)
		if err != nil {
			return nil, err
		}
		q := url.Values{}
		for _, e := range in.Expand {
			q.Add("expand", e)
		}
		return getObject(ctx, c, "/opportunities/"+url.PathEscape(in.OpportunityID), q)
	})
}

type getOpportunitiesInput struct {
	Email             textList  `json:"email"`
	Tag               textList  `json:"tag"`
	StageID           textList  `json:"stage_id"`
	PostingID         textList  `json:"posting_id"`
	ArchivedPostingID textList  `json:"archived_posting_id"`
	ArchiveReasonID   textList  `json:"archive_reason_id"`
	ContactID         textList  `json:"contact_id"`
	Origin            textList  `json:"origin"`
	Source            textList  `json:"source"`
	Location          textList  `json:"location"`
	Confidentiality   string    `json:"confidentiality"`
	Archived          *bool     `json:"archived"`
	Snoozed           *bool     `json:"snoozed"`
	CreatedAtStart    timeBound `json:"created_at_start"`
	CreatedAtEnd      timeBound `json:"created_at_end"`
	UpdatedAtStart    timeBound `json:"updated_at_start"`
	UpdatedAtEnd      timeBound `json:"updated_at_end"`
	AdvancedAtStart   timeBound `json:"advanced_at_start"`
	AdvancedAtEnd     timeBound `json:"advanced_at_end"`
	ArchivedAtStart   timeBound `json:"archived_at_start"`
	ArchivedAtEnd     timeBound `json:"archived_at_end"`
	Expand            []string  `json:"expand"`
	Include           []string  `json:"include"`
	paging
}

func (f *family) getOpportunitiesSpec() steps.Spec {
	spec := steps.Spec{
		Type:  "lever.get_opportunities",
		Title: "Get Opportunities",
		Description: "Lists opportunities matching Lever's filters (several values of one filter match any of them). " +
			"One page by default; all_pages follows Lever's pages up to max_items.",
		Input: object("The filters and paging.", listInputProps(map[string]*steps.Schema{
			"email":               textOrList("Candidates with this email address."),
			"tag":                 textOrList("Opportunities with this tag."),
			"stage_id":            textOrList("Opportunities in this stage."),
			"posting_id":          textOrList("Opportunities applied to this posting."),
			"archived_posting_id": textOrList("Opportunities archived from this posting."),
			"archive_reason_id":   textOrList("Opportunities archived for this reason."),
			"contact_id":          textOrList("Opportunities of this contact."),
			"origin":              textOrList("Opportunities of this origin: agency, applied, internal, referred, sourced, university."),
			"source":              textOrList("Opportunities with this source."),
			"location":            textOrList("Opportunities with this opportunity location."),
			"confidentiality":     enum("Which opportunities: non-confidential (Lever's default), confidential or all; the last two need the confidential grant.", "non-confidential", "confidential", "all"),
			"archived":            boolean("true for archived opportunities only, false for active ones only."),
			"snoozed":             boolean("true for snoozed opportunities only, false for the others."),
			"created_at_start":    timeInput("Created at or after this time."),
			"created_at_end":      timeInput("Created at or before this time."),
			"updated_at_start":    timeInput("Changed at or after this time."),
			"updated_at_end":      timeInput("Changed at or before this time."),
			"advanced_at_start":   timeInput("Moved stage at or after this time."),
			"advanced_at_end":     timeInput("Moved stage at or before this time."),
			"archived_at_start":   timeInput("Archived at or after this time."),
			"archived_at_end":     timeInput("Archived at or before this time."),
			"expand":              expandInput("applications, stage, owner, followers, sourcedBy, contact", opportunityExpand),
			"include":             strList("Return only these fields of each opportunity (Lever's include).", "A field name."),
		})),
		Output: listOutputSchema("opportunities", opportunitySchema("An opportunity, as Lever sends it.")),
		Check:  checkPaging,
		Examples: []steps.Example{
			example("Find a candidate's opportunities by email",
				`{"email": "{{email}}"}`,
				`{"items": [`+exampleOpportunity+`], "count": 1, "has_next": false, "next": ""}`),
			errorExample("The page size is at most 100",
				`{"tag": "Senior", "limit": 500}`, "input.limit: must be from 1 to 100 (Lever's page size), got 500"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in getOpportunitiesInput) (listOutput, error) {
		q := query{}
		q.list("email", in.Email)
		q.list("tag", in.Tag)
		q.list("stage_id", in.StageID)
		q.list("posting_id", in.PostingID)
		q.list("archived_posting_id", in.ArchivedPostingID)
		q.list("archive_reason_id", in.ArchiveReasonID)
		q.list("contact_id", in.ContactID)
		q.list("origin", in.Origin)
		q.list("source", in.Source)
		q.list("location", in.Location)
		q.text("confidentiality", in.Confidentiality)
		q.boolean("archived", in.Archived)
		q.boolean("snoozed", in.Snoozed)
		q.time("created_at_start", in.CreatedAtStart)
		q.time("created_at_end", in.CreatedAtEnd)
		q.time("updated_at_start", in.UpdatedAtStart)
		q.time("updated_at_end", in.UpdatedAtEnd)
		q.time("advanced_at_start", in.AdvancedAtStart)
		q.time("advanced_at_end", in.AdvancedAtEnd)
		q.time("archived_at_start", in.ArchivedAtStart)
		q.time("archived_at_end", in.ArchivedAtEnd)
		q.list("expand", in.Expand)
		q.list("include", in.Include)
		c, err := f.client(ctx, req)
		if err != nil {
			return listOutput{}, err
		}
		return fetchList(ctx, c, "/opportunities", url.Values(q), in.paging, nil)
	})
}

type stageInput struct {
	OpportunityID string `json:"opportunity_id"`
	StageID       string `json:"stage_id"`
	PerformAs     string `json:"perform_as"`
}

func (f *family) updateOpportunityStageSpec() steps.Spec {
	spec := steps.Spec{
		Type:        "lever.update_opportunity_stage",
		Title:       "Update Opportunity Stage",
		Description: "Moves an opportunity to another pipeline stage and returns the updated opportunity.",
		Input: object("The move.", map[string]*steps.Schema{
			"opportunity_id": opportunityIDInput(),
			"stage_id":       str("The stage to move to, such as \"lead-new\" or a stage id from Lever's /stages."),
			"perform_as":     performAs(false),
		}, "opportunity_id", "stage_id"),
		Output: opportunitySchema("The opportunity after the move."),
		Check:  checkLiteralIDs("opportunity_id", "stage_id", "perform_as"),
		Examples: []steps.Example{
			example("Move to the phone screen",
				`{"opportunity_id": "{{opportunity}}", "stage_id": "`+exampleStagePhone+`", "perform_as": "`+exampleUser+`"}`,
				exampleOpportunityWith(map[string]any{"stage": exampleStagePhone, "stageChanges": []any{
					map[string]any{"toStageId": "lead-new", "toStageIndex": 0, "updatedAt": exampleNowMS, "userId": exampleUser},
					map[string]any{"toStageId": exampleStagePhone, "toStageIndex": 5, "updatedAt": exampleNowMS, "userId": exampleUser},
				}})),
			errorExample("An unknown stage fails at once",
				`{"opportunity_id": "{{opportunity}}", "stage_id": "no-such-stage"}`,
				"Lever answered 400 BadRequestError"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in stageInput) (map[string]any, error) {
		if err := firstError(requireID("opportunity_id", in.OpportunityID), requireID("stage_id", in.StageID)); err != nil {
			return nil, err
		}
		c, err := f.client(ctx, req)
		if err != nil {
			return nil, err
		}
		body := map[string]string{"stage": in.StageID}
		return doObject(ctx, c, http.MethodPut, "/opportunities/"+url.PathEscape(in.OpportunityID)+"/stage", performAsQuery(in.PerformAs), body)
	})
}

type archiveInput struct {
	OpportunityID   string `json:"opportunity_id"`
	ReasonID        string `json:"reason_id"`
	CleanInterviews *bool  `json:"clean_interviews"`
	RequisitionID   string `json:"requisition_id"`
	PerformAs       string `json:"perform_as"`
}

func (f *family) archiveOpportunitySpec() steps.Spec {
	spec := steps.Spec{
		Type:        "lever.archive_opportunity",
		Title:       "Archive Opportunity",
		Description: "Archives an opportunity with a reason (hired or not) and returns it.",
		Input: object("The opportunity and why it is archived.", map[string]*steps.Schema{
			"opportunity_id":   opportunityIDInput(),
			"reason_id":        str("The archive reason id (Lever's /archive_reasons)."),
			"clean_interviews": boolean("Also remove the candidate's upcoming interviews."),
			"requisition_id":   str("For a hire, the requisition it fills."),
			"perform_as":       performAs(false),
		}, "opportunity_id", "reason_id"),
		Output: opportunitySchema("The archived opportunity."),
		Check:  checkLiteralIDs("opportunity_id", "reason_id", "perform_as"),
		Examples: []steps.Example{
			example("Archive as withdrawn",
				`{"opportunity_id": "{{opportunity}}", "reason_id": "`+exampleReasonWithdrew+`"}`,
				exampleOpportunityWith(map[string]any{"archived": map[string]any{"archivedAt": exampleNowMS, "reason": exampleReasonWithdrew}})),
			errorExample("The reason is required",
				`{"opportunity_id": "{{opportunity}}"}`, "input.reason_id: required field is missing"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in archiveInput) (map[string]any, error) {
		if err := firstError(requireID("opportunity_id", in.OpportunityID), requireID("reason_id", in.ReasonID)); err != nil {
			return nil, err
		}
		c, err := f.client(ctx, req)
		if err != nil {
			return nil, err
		}
		body := map[string]any{"reason": in.ReasonID}
		if in.CleanInterviews != nil {
			body["cleanInterviews"] = *in.CleanInterviews
		}
		if in.RequisitionID != "" {
			body["requisitionId"] = in.RequisitionID
		}
		return doObject(ctx, c, http.MethodPut, "/opportunities/"+url.PathEscape(in.OpportunityID)+"/archived", performAsQuery(in.PerformAs), body)
	})
}

type unarchiveInput struct {
	OpportunityID string `json:"opportunity_id"`
	PerformAs     string `json:"perform_as"`
}

func (f *family) unarchiveOpportunitySpec() steps.Spec {
	spec := steps.Spec{
		Type:        "lever.unarchive_opportunity",
		Title:       "Unarchive Opportunity",
		Description: "Restores an archived opportunity to the active pipeline and returns it.",
		Input: object("The opportunity.", map[string]*steps.Schema{
			"opportunity_id": opportunityIDInput(),
			"perform_as":     performAs(false),
		}, "opportunity_id"),
		Output: opportunitySchema("The restored opportunity."),
		Check:  checkLiteralIDs("opportunity_id", "perform_as"),
		Examples: []steps.Example{
			example("Restore an opportunity (an active one stays as it is)",
				`{"opportunity_id": "{{opportunity}}"}`, exampleOpportunityWith(nil)),
			errorExample("The id must not be empty", `{"opportunity_id": ""}`, "input.opportunity_id: must not be empty"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in unarchiveInput) (map[string]any, error) {
		c, err := f.clientForID(ctx, req, "opportunity_id", in.OpportunityID)
		if err != nil {
			return nil, err
		}
		body := map[string]any{"reason": nil}
		return doObject(ctx, c, http.MethodPut, "/opportunities/"+url.PathEscape(in.OpportunityID)+"/archived", performAsQuery(in.PerformAs), body)
	})
}

type tagsInput struct {
	OpportunityID string   `json:"opportunity_id"`
	Tags          []string `json:"tags"`
	PerformAs     string   `json:"perform_as"`
}

func checkTags(tags []string) *steps.Problem {
	if len(tags) == 0 {
		return &steps.Problem{Path: "tags", Message: "must hold at least one tag, such as [\"senior\"]"}
	}
	for i, t := range tags {
		if t == "" {
			return &steps.Problem{Path: "tags[" + itoa(i) + "]", Message: "must not be empty text"}
		}
	}
	return nil
}

func checkLiteralTags(input map[string]any) []steps.Problem {
	arr, ok := input["tags"].([]any)
	if !ok || steps.HasReference(arr) {
		return nil
	}
	tags := make([]string, 0, len(arr))
	for _, v := range arr {
		s, ok := v.(string)
		if !ok {
			return nil // the schema reports it
		}
		tags = append(tags, s)
	}
	if p := checkTags(tags); p != nil {
		return []steps.Problem{*p}
	}
	return nil
}

func (f *family) opportunityTagsSpec(add bool) steps.Spec {
	typ, title, action, verb := "lever.add_opportunity_tags", "Add Opportunity Tags", "addTags", "Adds tags to an opportunity (new tags are created)"
	ex := example("Tag an applicant as senior",
		`{"opportunity_id": "{{opportunity}}", "tags": ["senior"]}`, exampleOpportunityWith(map[string]any{"tags": []any{"Backend", "senior"}}))
	if !add {
		typ, title, action, verb = "lever.remove_opportunity_tags", "Remove Opportunity Tags", "removeTags", "Removes tags from an opportunity (tags it does not have are ignored)"
		ex = example("Remove a tag the opportunity does not have",
			`{"opportunity_id": "{{opportunity}}", "tags": ["not-a-tag"]}`, exampleOpportunityWith(nil))
	}
	spec := steps.Spec{
		Type:        typ,
		Title:       title,
		Description: verb + " and returns the updated opportunity. Repeating it is harmless.",
		Input: object("The opportunity and the tags.", map[string]*steps.Schema{
			"opportunity_id": opportunityIDInput(),
			"tags":           strList("The tags, at least one.", "A tag, such as \"senior\"."),
			"perform_as":     performAs(false),
		}, "opportunity_id", "tags"),
		Output: opportunitySchema("The opportunity with its tags changed."),
		Check:  combineChecks(checkLiteralIDs("opportunity_id", "perform_as"), checkLiteralTags),
		Examples: []steps.Example{
			ex,
			errorExample("At least one tag", `{"opportunity_id": "{{opportunity}}", "tags": []}`, "input.tags: must hold at least one tag"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in tagsInput) (map[string]any, error) {
		if err := requireID("opportunity_id", in.OpportunityID); err != nil {
			return nil, err
		}
		if p := checkTags(in.Tags); p != nil {
			return nil, p.Err()
		}
		c, err := f.client(ctx, req)
		if err != nil {
			return nil, err
		}
		body := map[string][]string{"tags": in.Tags}
		return doObject(ctx, c, http.MethodPost, "/opportunities/"+url.PathEscape(in.OpportunityID)+"/"+action,
			performAsQuery(in.PerformAs), body, client.Idempotent())
	})
}

func firstError(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
