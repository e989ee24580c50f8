package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

const hireURL = "https://hire.sandbox.lever.co/candidates"

var origins = []string{"agency", "applied", "internal", "referred", "sourced", "university"}

// render builds the JSON form of o; call with mu held.
func (s *Sandbox) render(o *opp) Opportunity {
	c := s.contacts[o.contact]
	out := Opportunity{
		ID:                  o.id,
		Contact:             o.contact,
		Confidentiality:     o.confidentiality,
		Links:               cloneStrs(o.links),
		CreatedAt:           o.createdAt,
		UpdatedAt:           o.updatedAt,
		LastInteractionAt:   o.lastInteractionAt,
		LastAdvancedAt:      o.lastAdvancedAt,
		SnoozedUntil:        clonePtr(o.snoozedUntil),
		Archived:            clonePtr(o.archived),
		Stage:               o.stage,
		StageChanges:        append([]StageChange{}, o.stageChanges...),
		Owner:               clonePtr(o.owner),
		Tags:                cloneStrs(o.tags),
		Sources:             cloneStrs(o.sources),
		Origin:              o.origin,
		SourcedBy:           clonePtr(o.sourcedBy),
		Applications:        []string{},
		Followers:           cloneStrs(o.followers),
		URLs:                URLs{List: hireURL, Show: hireURL + "/" + o.id},
		DataProtection:      clonePtr(o.dataProtection),
		OpportunityLocation: o.opportunityLocation,
	}
	for i := range out.StageChanges {
		out.StageChanges[i].UserID = clonePtr(out.StageChanges[i].UserID)
	}
	if o.application != "" {
		out.Applications = []string{o.application}
	}
	if c != nil {
		out.Name = c.Name
		out.Headline = c.Headline
		out.Emails = cloneStrs(c.Emails)
		out.Phones = append([]Phone{}, c.Phones...)
		if c.Location != nil {
			out.Location = c.Location.Name
		}
		out.IsAnonymized = c.IsAnonymized
	} else {
		out.Emails = []string{}
		out.Phones = []Phone{}
	}
	return out
}

func oppKey(o Opportunity) cursor { return cursor{o.CreatedAt, o.ID} }

func anyIn(have []string, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

func (s *Sandbox) listOpportunities(q url.Values) (int, any, error) {
	type rng struct{ start, end *int64 }
	ranges := map[string]*rng{}
	for _, f := range []string{"created_at", "updated_at", "advanced_at", "archived_at"} {
		st, err := parseMillis(q, f+"_start")
		if err != nil {
			return 0, nil, err
		}
		en, err := parseMillis(q, f+"_end")
		if err != nil {
			return 0, nil, err
		}
		ranges[f] = &rng{st, en}
	}
	archived, err := parseBool(q, "archived")
	if err != nil {
		return 0, nil, err
	}
	snoozed, err := parseBool(q, "snoozed")
	if err != nil {
		return 0, nil, err
	}
	conf := q.Get("confidentiality")
	switch conf {
	case "":
		conf = "non-confidential"
	case "non-confidential", "confidential", "all":
	default:
		return 0, nil, badRequest("Invalid value for confidentiality: must be one of non-confidential, confidential, all")
	}
	tags, emails, orig, sources := values(q, "tag"), values(q, "email"), values(q, "origin"), values(q, "source")
	stageIDs, postingIDs, archPostingIDs := values(q, "stage_id"), values(q, "posting_id"), values(q, "archived_posting_id")
	reasonIDs, contactIDs, locations := values(q, "archive_reason_id"), values(q, "contact_id"), values(q, "location")

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowMs()
	var items []Opportunity
	for _, o := range s.opps {
		if conf != "all" && o.confidentiality != conf {
			continue
		}
		if len(tags) > 0 && !anyIn(o.tags, tags) ||
			len(sources) > 0 && !anyIn(o.sources, sources) ||
			len(orig) > 0 && !slices.Contains(orig, o.origin) ||
			len(stageIDs) > 0 && !slices.Contains(stageIDs, o.stage) ||
			len(postingIDs) > 0 && (o.posting == "" || !slices.Contains(postingIDs, o.posting)) ||
			len(archPostingIDs) > 0 && (o.archived == nil || o.posting == "" || !slices.Contains(archPostingIDs, o.posting)) ||
			len(reasonIDs) > 0 && (o.archived == nil || !slices.Contains(reasonIDs, o.archived.Reason)) ||
			len(contactIDs) > 0 && !slices.Contains(contactIDs, o.contact) ||
			len(locations) > 0 && !slices.Contains(locations, o.opportunityLocation) {
			continue
		}
		if len(emails) > 0 {
			c := s.contacts[o.contact]
			if c == nil || !slices.ContainsFunc(emails, func(e string) bool { return hasEmail(c, e) }) {
				continue
			}
		}
		if archived != nil && *archived != (o.archived != nil) {
			continue
		}
		if snoozed != nil && *snoozed != (o.snoozedUntil != nil && *o.snoozedUntil > now) {
			continue
		}
		if !inRange(o.createdAt, ranges["created_at"].start, ranges["created_at"].end) ||
			!inRange(o.updatedAt, ranges["updated_at"].start, ranges["updated_at"].end) ||
			!inRange(o.lastAdvancedAt, ranges["advanced_at"].start, ranges["advanced_at"].end) {
			continue
		}
		if ar := ranges["archived_at"]; ar.start != nil || ar.end != nil {
			if o.archived == nil || !inRange(o.archived.ArchivedAt, ar.start, ar.end) {
				continue
			}
		}
		items = append(items, s.render(o))
	}
	env, err := page(q, sortOpportunities, items, oppKey)
	if err != nil {
		return 0, nil, err
	}
	projectList[Opportunity](s, &env, q, s.oppExpanders())
	return http.StatusOK, env, nil
}

func hasEmail(c *Contact, e string) bool {
	return slices.ContainsFunc(c.Emails, func(x string) bool { return strings.EqualFold(x, strings.TrimSpace(e)) })
}

func (s *Sandbox) getOpportunity(id string, q url.Values) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.lookupOpp(id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, objectEnvelope{s.project(s.render(o), listParam(q, "include"), listParam(q, "expand"), s.oppExpanders())}, nil
}

type createOpportunityBody struct {
	Name      *string  `json:"name"`
	Headline  *string  `json:"headline"`
	Stage     *string  `json:"stage"`
	Location  *string  `json:"location"`
	Phones    []Phone  `json:"phones"`
	Emails    []string `json:"emails"`
	Links     []string `json:"links"`
	Tags      []string `json:"tags"`
	Sources   []string `json:"sources"`
	Origin    *string  `json:"origin"`
	Owner     *string  `json:"owner"`
	Followers []string `json:"followers"`
	Postings  []string `json:"postings"`
	CreatedAt *int64   `json:"createdAt"`
	Archived  *struct {
		Reason     *string `json:"reason"`
		ArchivedAt *int64  `json:"archivedAt"`
	} `json:"archived"`
	Contact             *string `json:"contact"`
	OpportunityLocation *string `json:"opportunityLocation"`
}

func (s *Sandbox) stageIndex(id string) int {
	return slices.IndexFunc(s.stages, func(st Stage) bool { return st.ID == id })
}

func (s *Sandbox) reason(id string) *ArchiveReason {
	for i := range s.reasons {
		if s.reasons[i].ID == id {
			return &s.reasons[i]
		}
	}
	return nil
}

func (s *Sandbox) createOpportunity(r *http.Request) (int, any, error) {
	var b createOpportunityBody
	s.mu.Lock()
	defer s.mu.Unlock()
	performAs, err := s.preamble(r, true, &b)
	if err != nil {
		return 0, nil, err
	}
	now := s.nowMs()
	o := &opp{id: s.newID(), confidentiality: "non-confidential", origin: "sourced", stage: "lead-new", updatedAt: now}
	// Validate everything before touching any state.
	if b.Stage != nil && *b.Stage != "" {
		if s.stageIndex(*b.Stage) < 0 {
			return 0, nil, badRequest("Stage %s does not exist", *b.Stage)
		}
		o.stage = *b.Stage
	}
	if b.Origin != nil && *b.Origin != "" {
		if !slices.Contains(origins, *b.Origin) {
			return 0, nil, badRequest("Invalid origin %q: must be one of %s", *b.Origin, strings.Join(origins, ", "))
		}
		o.origin = *b.Origin
	}
	o.owner = performAs
	if b.Owner != nil && *b.Owner != "" {
		if s.users[*b.Owner] == nil {
			return 0, nil, badRequest("Owner %s does not exist", *b.Owner)
		}
		o.owner = ptr(*b.Owner)
	}
	for _, f := range b.Followers {
		if s.users[f] == nil {
			return 0, nil, badRequest("Follower %s does not exist", f)
		}
	}
	if len(b.Postings) > 1 {
		return 0, nil, badRequest("An opportunity can be created with at most one posting")
	}
	if len(b.Postings) == 1 {
		p := s.postings[b.Postings[0]]
		if p == nil {
			return 0, nil, badRequest("Posting %s does not exist", b.Postings[0])
		}
		o.posting = p.ID
		o.confidentiality = p.Confidentiality
	}
	o.createdAt = now
	if b.CreatedAt != nil {
		if *b.CreatedAt > now {
			return 0, nil, badRequest("createdAt cannot be in the future")
		}
		o.createdAt = *b.CreatedAt
	}
	if b.Archived != nil {
		if b.Archived.Reason == nil || s.reason(*b.Archived.Reason) == nil {
			return 0, nil, badRequest("archived.reason must be an existing archive reason id")
		}
		at := now
		if b.Archived.ArchivedAt != nil {
			at = *b.Archived.ArchivedAt
			if b.CreatedAt == nil || *b.CreatedAt >= at {
				return 0, nil, badRequest("archived.archivedAt requires a createdAt earlier than it")
			}
			if at > now {
				return 0, nil, badRequest("archived.archivedAt cannot be in the future")
			}
		}
		o.archived = &Archived{ArchivedAt: at, Reason: *b.Archived.Reason}
	}
	// Find or create the contact: an explicit contact id, else dedupe by email.
	var contact *Contact
	if b.Contact != nil && *b.Contact != "" {
		if contact = s.contacts[*b.Contact]; contact == nil {
			return 0, nil, badRequest("Contact %s does not exist", *b.Contact)
		}
	}
	if contact == nil {
		contact = s.findContactByEmail(b.Emails)
	}
	newContact := contact == nil
	if newContact {
		if b.Name == nil || strings.TrimSpace(*b.Name) == "" {
			return 0, nil, badRequest("name is required when no existing contact matches")
		}
		contact = &Contact{ID: s.newID(), Name: *b.Name, Emails: dedupe(b.Emails), Phones: append([]Phone{}, b.Phones...)}
		if b.Headline != nil {
			contact.Headline = *b.Headline
		}
		if b.Location != nil && *b.Location != "" {
			contact.Location = &ContactLocation{Name: *b.Location}
		}
		s.contacts[contact.ID] = contact
	}
	o.contact = contact.ID
	o.links = dedupe(b.Links)
	o.tags = dedupe(b.Tags)
	o.sources = dedupe(b.Sources)
	for _, t := range o.tags {
		s.tagSet[t] = true
	}
	for _, t := range o.sources {
		s.sourceSet[t] = true
	}
	o.followers = dedupe(b.Followers)
	if performAs != nil && !slices.Contains(o.followers, *performAs) {
		o.followers = append(o.followers, *performAs)
	}
	if o.origin == "sourced" {
		o.sourcedBy = clonePtr(performAs)
	}
	if b.OpportunityLocation != nil {
		o.opportunityLocation = *b.OpportunityLocation
	}
	o.lastInteractionAt, o.lastAdvancedAt = o.createdAt, o.createdAt
	o.stageChanges = []StageChange{{ToStageID: o.stage, ToStageIndex: s.stageIndex(o.stage), UpdatedAt: o.createdAt, UserID: clonePtr(performAs)}}
	if o.posting != "" {
		o.application = s.newID()
	}
	s.opps[o.id] = o

	ids := map[string]any{"opportunityId": o.id, "candidateId": o.id, "contactId": o.contact}
	if newContact {
		s.emit("contactCreated", map[string]any{"contactId": contact.ID}, "")
	}
	if o.application != "" {
		s.emit("applicationCreated", with(ids, "applicationId", o.application), o.origin)
	}
	return http.StatusCreated, objectEnvelope{s.render(o)}, nil
}

func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func (s *Sandbox) findContactByEmail(emails []string) *Contact {
	if len(emails) == 0 {
		return nil
	}
	var best *Contact
	for _, c := range s.contacts {
		for _, e := range emails {
			if hasEmail(c, e) && (best == nil || c.ID < best.ID) {
				best = c
			}
		}
	}
	return best
}

func dedupe(in []string) []string {
	out := []string{}
	for _, v := range in {
		v = strings.TrimSpace(v)
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (s *Sandbox) oppEventIDs(o *opp) map[string]any {
	return map[string]any{"opportunityId": o.id, "candidateId": o.id, "contactId": o.contact}
}

func (s *Sandbox) putStage(r *http.Request, id string) (int, any, error) {
	var b struct {
		Stage *string `json:"stage"`
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.lookupOpp(id)
	if err != nil {
		return 0, nil, err
	}
	performAs, err := s.preamble(r, false, &b)
	if err != nil {
		return 0, nil, err
	}
	if b.Stage == nil || *b.Stage == "" {
		return 0, nil, badRequest("Missing required field: stage")
	}
	idx := s.stageIndex(*b.Stage)
	if idx < 0 {
		return 0, nil, badRequest("Stage %s does not exist", *b.Stage)
	}
	now := s.nowMs()
	o.updatedAt, o.lastInteractionAt = now, now
	if o.stage != *b.Stage {
		from := o.stage
		o.stage = *b.Stage
		o.lastAdvancedAt = now
		o.stageChanges = append(o.stageChanges, StageChange{ToStageID: o.stage, ToStageIndex: idx, UpdatedAt: now, UserID: clonePtr(performAs)})
		s.emit("candidateStageChange", with(s.oppEventIDs(o), "fromStageId", from, "toStageId", o.stage), o.origin)
	}
	return http.StatusOK, objectEnvelope{s.render(o)}, nil
}

func (s *Sandbox) putArchived(r *http.Request, id string) (int, any, error) {
	var b map[string]json.RawMessage
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.lookupOpp(id)
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.preamble(r, false, &b); err != nil {
		return 0, nil, err
	}
	raw, ok := b["reason"]
	if !ok {
		return 0, nil, badRequest("Missing required field: reason (send null to unarchive)")
	}
	var reason *string
	if err := json.Unmarshal(raw, &reason); err != nil {
		return 0, nil, badRequest("reason must be an archive reason id or null")
	}
	var rs *ArchiveReason
	if reason != nil {
		if rs = s.reason(*reason); rs == nil {
			return 0, nil, badRequest("Archive reason %s does not exist", *reason)
		}
	}
	now := s.nowMs()
	from := clonePtr(o.archived)
	if reason == nil {
		o.archived = nil
	} else {
		o.archived = &Archived{ArchivedAt: now, Reason: *reason}
	}
	o.updatedAt, o.lastInteractionAt = now, now
	if from != nil || o.archived != nil {
		s.emit("candidateArchiveChange", with(s.oppEventIDs(o), "fromArchived", from, "toArchived", clonePtr(o.archived)), o.origin)
	}
	if rs != nil && rs.Type == "hired" {
		s.emit("candidateHired", s.oppEventIDs(o), o.origin)
	}
	return http.StatusOK, objectEnvelope{s.render(o)}, nil
}

// listOps maps the POST /opportunities/:id/<op> endpoints to their body key.
var listOps = map[string]string{
	"addTags": "tags", "removeTags": "tags",
	"addLinks": "links", "removeLinks": "links",
	"addSources": "sources", "removeSources": "sources",
}

func (s *Sandbox) editList(r *http.Request, id, op string) (int, any, error) {
	key := listOps[op]
	var b map[string]json.RawMessage
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.lookupOpp(id)
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.preamble(r, false, &b); err != nil {
		return 0, nil, err
	}
	var vals []string
	if raw, ok := b[key]; !ok || json.Unmarshal(raw, &vals) != nil {
		return 0, nil, badRequest("Missing required field: %s (an array of strings)", key)
	}
	var list *[]string
	switch key {
	case "tags":
		list = &o.tags
	case "links":
		list = &o.links
	default:
		list = &o.sources
	}
	for _, v := range dedupe(vals) {
		if strings.HasPrefix(op, "add") {
			if !slices.Contains(*list, v) {
				*list = append(*list, v)
			}
			if key == "tags" {
				s.tagSet[v] = true
			} else if key == "sources" {
				s.sourceSet[v] = true
			}
		} else {
			*list = slices.DeleteFunc(*list, func(x string) bool { return x == v })
		}
	}
	o.updatedAt = s.nowMs()
	return http.StatusOK, objectEnvelope{s.render(o)}, nil
}

// Application is the (deprecated) application object.
type Application struct {
	ID                   string    `json:"id"`
	OpportunityID        string    `json:"opportunityId"`
	CandidateID          string    `json:"candidateId"`
	CreatedAt            int64     `json:"createdAt"`
	Type                 string    `json:"type"`
	Posting              string    `json:"posting"`
	PostingOwner         *string   `json:"postingOwner"`
	PostingHiringManager *string   `json:"postingHiringManager"`
	User                 *string   `json:"user"`
	Name                 string    `json:"name"`
	Email                *string   `json:"email"`
	Phone                *Phone    `json:"phone"`
	Company              *string   `json:"company"`
	Links                []string  `json:"links"`
	Comments             *string   `json:"comments"`
	CustomQuestions      []any     `json:"customQuestions"`
	Archived             *Archived `json:"archived"`
	RequisitionForHire   any       `json:"requisitionForHire"`
}

func (s *Sandbox) application(o *opp) Application {
	c := s.contacts[o.contact]
	a := Application{ID: o.application, OpportunityID: o.id, CandidateID: o.id, CreatedAt: o.createdAt,
		Type: "posting", Posting: o.posting, User: clonePtr(o.owner), Links: cloneStrs(o.links),
		CustomQuestions: []any{}, Archived: clonePtr(o.archived)}
	if o.appCreatedAt != 0 {
		a.CreatedAt = o.appCreatedAt
	}
	a.Company, a.Comments = clonePtr(o.appCompany), clonePtr(o.appComments)
	if p := s.postings[o.posting]; p != nil {
		a.PostingOwner, a.PostingHiringManager = clonePtr(p.Owner), clonePtr(p.HiringManager)
	}
	if c != nil {
		a.Name = c.Name
		if len(c.Emails) > 0 {
			a.Email = ptr(c.Emails[0])
		}
		if len(c.Phones) > 0 {
			a.Phone = ptr(c.Phones[0])
		}
	}
	return a
}

func (s *Sandbox) listApplications(id string) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.lookupOpp(id)
	if err != nil {
		return 0, nil, err
	}
	apps := []Application{}
	if o.application != "" {
		apps = append(apps, s.application(o))
	}
	return http.StatusOK, listEnvelope{Data: apps}, nil
}

func (s *Sandbox) getApplication(id, appID string) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.lookupOpp(id)
	if err != nil {
		return 0, nil, err
	}
	if o.application == "" || o.application != appID {
		return 0, nil, notFound("Application", appID)
	}
	return http.StatusOK, objectEnvelope{s.application(o)}, nil
}

// ---------------------------------------------------------------- contacts

func (s *Sandbox) getContact(id string) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[id]
	if !ok {
		return 0, nil, notFound("Contact", id)
	}
	return http.StatusOK, objectEnvelope{c.clone()}, nil
}

func (s *Sandbox) putContact(r *http.Request, id string) (int, any, error) {
	var b map[string]json.RawMessage
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[id]
	if !ok {
		return 0, nil, notFound("Contact", id)
	}
	if err := readBody(r, &b); err != nil {
		return 0, nil, err
	}
	next := c.clone()
	for k, raw := range b {
		var err error
		switch k {
		case "name":
			err = json.Unmarshal(raw, &next.Name)
			if err == nil && strings.TrimSpace(next.Name) == "" {
				return 0, nil, badRequest("name cannot be empty")
			}
		case "headline":
			err = json.Unmarshal(raw, &next.Headline)
		case "location":
			var str *string
			if json.Unmarshal(raw, &str) == nil {
				next.Location = nil
				if str != nil && *str != "" {
					next.Location = &ContactLocation{Name: *str}
				}
			} else {
				var loc ContactLocation
				err = json.Unmarshal(raw, &loc)
				next.Location = &loc
			}
		case "emails":
			var e []string
			err = json.Unmarshal(raw, &e)
			next.Emails = dedupe(e)
		case "phones":
			var p []Phone
			err = json.Unmarshal(raw, &p)
			next.Phones = append([]Phone{}, p...)
		}
		if err != nil {
			return 0, nil, badRequest("Invalid value for %s", k)
		}
	}
	*c = next
	now := s.nowMs()
	for _, o := range s.opps {
		if o.contact == id {
			o.updatedAt = now
		}
	}
	s.emit("contactUpdated", map[string]any{"contactId": id}, "")
	return http.StatusOK, objectEnvelope{c.clone()}, nil
}
