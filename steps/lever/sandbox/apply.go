package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ApplyField is one field of a posting's application form.
type ApplyField struct {
	Text     string `json:"text"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
}

// ApplyOption is one choice of a multiple-choice question.
type ApplyOption struct {
	Text string `json:"text"`
}

// ApplyQuestion is one question of a custom question form.
type ApplyQuestion struct {
	Type        string        `json:"type"`
	Text        string        `json:"text"`
	Description string        `json:"description"`
	Required    bool          `json:"required"`
	Options     []ApplyOption `json:"options,omitempty"`
}

// ApplyForm is a custom question form attached to a posting.
type ApplyForm struct {
	ID     string          `json:"id"`
	Text   string          `json:"text"`
	Fields []ApplyQuestion `json:"fields"`
}

// ApplyQuestions is the body of GET /postings/:id/apply. The sandbox's
// account is European, so eeoQuestions (US only) is null.
type ApplyQuestions struct {
	ID                  string       `json:"id"`
	Text                string       `json:"text"`
	PersonalInformation []ApplyField `json:"personalInformation"`
	URLs                []ApplyField `json:"urls"`
	CustomQuestions     []ApplyForm  `json:"customQuestions"`
	EEOQuestions        any          `json:"eeoQuestions"`
}

// ApplyFormID is the id of the custom question form every posting of the
// sandbox carries.
const ApplyFormID = "5b8e2f4a-1c7d-4e93-a6b0-3d9f1e7c2a58"

var personalFields = []ApplyField{
	{"Full name", "name", "text", true},
	{"Email", "email", "email", true},
	{"Phone", "phone", "text", false},
	{"Current location", "location", "text", false},
	{"Current company", "org", "text", false},
	{"Resume/CV", "resume", "file", false},
	{"Additional information", "comments", "textarea", false},
}

var urlFields = []ApplyField{
	{"LinkedIn URL", "LinkedIn", "url", false},
	{"GitHub URL", "GitHub", "url", false},
	{"Portfolio URL", "Portfolio", "url", false},
	{"Other website", "Other", "url", false},
}

func (s *Sandbox) getApplyQuestions(id string) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookupPosting(id)
	if err != nil {
		return 0, nil, err
	}
	where := "the EU"
	if p.Country != nil && *p.Country == "GB" {
		where = "the United Kingdom"
	}
	form := ApplyForm{ID: ApplyFormID, Text: "Application questions", Fields: []ApplyQuestion{
		{Type: "multiple-choice", Text: "Are you legally authorized to work in " + where + "?", Required: true,
			Options: []ApplyOption{{"Yes"}, {"No"}}},
		{Type: "textarea", Text: "Why do you want to join Northwind Robotics?"},
	}}
	return http.StatusOK, objectEnvelope{ApplyQuestions{
		ID: p.ID, Text: p.Text,
		PersonalInformation: slices.Clone(personalFields),
		URLs:                slices.Clone(urlFields),
		CustomQuestions:     []ApplyForm{form},
	}}, nil
}

type applyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type applyBody struct {
	PersonalInformation []applyValue      `json:"personalInformation"`
	URLs                []applyValue      `json:"urls"`
	CustomQuestions     []json.RawMessage `json:"customQuestions"`
	Origin              *string           `json:"origin"`
	Sources             []string          `json:"sources"`
}

// applyToPosting serves POST /postings/:id/apply. The contact is found by
// email (its stored data wins) or created. When that contact already has
// an active opportunity for the posting, its application is returned and
// nothing is written; an active opportunity without an application (a
// sourced lead) gets the application; otherwise a new opportunity starts
// in "New applicant". applicationCreated (and contactCreated for a new
// contact) fire for every new application.
func (s *Sandbox) applyToPosting(r *http.Request, id string) (int, any, error) {
	var b applyBody
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookupPosting(id)
	if err != nil {
		return 0, nil, err
	}
	if p.State != "published" && p.State != "internal" {
		return 0, nil, badRequest("Posting %s is %s: only published or internal postings accept applications", id, p.State)
	}
	if _, err := parseBool(r.URL.Query(), "send_confirmation_email"); err != nil {
		return 0, nil, err
	}
	if _, err := s.preamble(r, false, &b); err != nil {
		return 0, nil, err
	}
	info := map[string]string{}
	for _, v := range b.PersonalInformation {
		if !slices.ContainsFunc(personalFields, func(f ApplyField) bool { return f.Name == v.Name }) {
			return 0, nil, badRequest("Unknown personalInformation field %q: must be one of name, email, phone, location, org, resume, comments", v.Name)
		}
		info[v.Name] = strings.TrimSpace(v.Value)
	}
	if info["name"] == "" {
		return 0, nil, badRequest(`Missing required personalInformation field "name"`)
	}
	if !strings.Contains(info["email"], "@") {
		return 0, nil, badRequest(`Missing or invalid required personalInformation field "email"`)
	}
	var links []string
	for _, v := range b.URLs {
		if u, err := url.Parse(strings.TrimSpace(v.Value)); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return 0, nil, badRequest("urls: %q is not an absolute http(s) URL", v.Value)
		}
		links = append(links, strings.TrimSpace(v.Value))
	}
	origin := "applied"
	if b.Origin != nil && *b.Origin != "" {
		if !slices.Contains(origins, *b.Origin) {
			return 0, nil, badRequest("Invalid origin %q: must be one of %s", *b.Origin, strings.Join(origins, ", "))
		}
		origin = *b.Origin
	}

	now := s.nowMs()
	contact := s.findContactByEmail([]string{info["email"]})
	newContact := contact == nil
	var target *opp
	if !newContact {
		for _, o := range s.opps {
			if o.contact != contact.ID || o.archived != nil {
				continue
			}
			if o.posting == p.ID && o.application != "" {
				// Applying twice to the same posting is deduped.
				return http.StatusCreated, objectEnvelope{map[string]string{"applicationId": o.application}}, nil
			}
			if o.application == "" && (target == nil || cursor{o.createdAt, o.id}.before(cursor{target.createdAt, target.id})) {
				target = o
			}
		}
	}
	if newContact {
		contact = &Contact{ID: s.newID(), Name: info["name"], Emails: []string{info["email"]}, Phones: []Phone{}}
		if v := info["phone"]; v != "" {
			contact.Phones = []Phone{{Type: "mobile", Value: v}}
		}
		if v := info["location"]; v != "" {
			contact.Location = &ContactLocation{Name: v}
		}
		contact.Headline = info["org"]
		s.contacts[contact.ID] = contact
	}
	if target == nil {
		target = &opp{id: s.newID(), contact: contact.ID, confidentiality: p.Confidentiality, origin: origin,
			stage: "applicant-new", createdAt: now, lastAdvancedAt: now, owner: clonePtr(p.Owner),
			links: []string{}, tags: []string{}, sources: []string{}, followers: []string{},
			opportunityLocation: strOr(p.Categories.Location)}
		if p.Owner != nil {
			target.followers = []string{*p.Owner}
		}
		target.stageChanges = []StageChange{{ToStageID: target.stage, ToStageIndex: s.stageIndex(target.stage), UpdatedAt: now}}
		s.opps[target.id] = target
	}
	target.posting, target.application, target.appCreatedAt = p.ID, s.newID(), now
	if v := info["org"]; v != "" {
		target.appCompany = ptr(v)
	}
	if v := info["comments"]; v != "" {
		target.appComments = ptr(v)
	}
	for _, l := range dedupe(links) {
		if !slices.Contains(target.links, l) {
			target.links = append(target.links, l)
		}
	}
	for _, src := range dedupe(b.Sources) {
		s.sourceSet[src] = true
		if !slices.Contains(target.sources, src) {
			target.sources = append(target.sources, src)
		}
	}
	target.updatedAt, target.lastInteractionAt = now, now

	if newContact {
		s.emit("contactCreated", map[string]any{"contactId": contact.ID}, "")
	}
	s.emit("applicationCreated", with(s.oppEventIDs(target), "applicationId", target.application), target.origin)
	return http.StatusCreated, objectEnvelope{map[string]string{"applicationId": target.application}}, nil
}
