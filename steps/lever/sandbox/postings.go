package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

const jobsURL = "https://jobs.sandbox.lever.co/northwind-robotics"

var (
	postingStates  = []string{"published", "internal", "closed", "draft", "pending", "rejected"}
	channels       = []string{"public", "internal"}
	workplaceTypes = []string{"unspecified", "onsite", "remote", "hybrid"}
	tagRE          = regexp.MustCompile(`<[^>]*>`)
)

func stripHTML(h string) string {
	return strings.TrimSpace(tagRE.ReplaceAllString(h, ""))
}

func postingKey(p Posting) cursor { return cursor{p.CreatedAt, p.ID} }

func strOr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Sandbox) listPostings(q url.Values) (int, any, error) {
	start, err := parseMillis(q, "updated_at_start")
	if err != nil {
		return 0, nil, err
	}
	end, err := parseMillis(q, "updated_at_end")
	if err != nil {
		return 0, nil, err
	}
	if start != nil || end != nil {
		for _, f := range []string{"state", "distributionChannel", "team", "department", "location", "commitment", "level", "tag", "group"} {
			if len(values(q, f)) > 0 {
				return 0, nil, badRequest("updated_at_start and updated_at_end can only be combined with confidentiality")
			}
		}
	}
	states := values(q, "state")
	for _, st := range states {
		if !slices.Contains(postingStates, st) {
			return 0, nil, badRequest("Invalid value for state: %s", st)
		}
	}
	dist := values(q, "distributionChannel")
	for _, d := range dist {
		if !slices.Contains(channels, d) {
			return 0, nil, badRequest("Invalid value for distributionChannel: %s", d)
		}
	}
	conf := q.Get("confidentiality")
	switch conf {
	case "":
		conf = "non-confidential"
	case "non-confidential", "confidential", "all":
	default:
		return 0, nil, badRequest("Invalid value for confidentiality: must be one of non-confidential, confidential, all")
	}
	teams, depts, locs, commits, levels, tags := values(q, "team"), values(q, "department"), values(q, "location"), values(q, "commitment"), values(q, "level"), values(q, "tag")
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []Posting
	for _, p := range s.postings {
		if conf != "all" && p.Confidentiality != conf ||
			len(states) > 0 && !slices.Contains(states, p.State) ||
			len(dist) > 0 && !anyIn(p.DistributionChannels, dist) ||
			len(teams) > 0 && !slices.Contains(teams, strOr(p.Categories.Team)) ||
			len(depts) > 0 && !slices.Contains(depts, strOr(p.Categories.Department)) ||
			len(locs) > 0 && !slices.Contains(locs, strOr(p.Categories.Location)) && !anyIn(p.Categories.AllLocations, locs) ||
			len(commits) > 0 && !slices.Contains(commits, strOr(p.Categories.Commitment)) ||
			len(levels) > 0 && !slices.Contains(levels, strOr(p.Categories.Level)) ||
			len(tags) > 0 && !anyIn(p.Tags, tags) ||
			!inRange(p.UpdatedAt, start, end) {
			continue
		}
		// A published list shows only public postings unless the
		// distribution channel is asked for explicitly.
		if len(dist) == 0 && slices.Equal(states, []string{"published"}) && !slices.Contains(p.DistributionChannels, "public") {
			continue
		}
		items = append(items, p.clone())
	}
	env, err := page(q, sortPostings, items, postingKey)
	if err != nil {
		return 0, nil, err
	}
	projectList[Posting](s, &env, q, s.postingExpanders())
	return http.StatusOK, env, nil
}

func (s *Sandbox) getPosting(id string, q url.Values) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookupPosting(id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, objectEnvelope{s.project(p.clone(), listParam(q, "include"), listParam(q, "expand"), s.postingExpanders())}, nil
}

func (s *Sandbox) createPosting(r *http.Request) (int, any, error) {
	var b map[string]json.RawMessage
	s.mu.Lock()
	defer s.mu.Unlock()
	performAs, err := s.preamble(r, true, &b)
	if err != nil {
		return 0, nil, err
	}
	if raw, ok := b["confidentiality"]; ok {
		var c string
		if json.Unmarshal(raw, &c) == nil && c == "confidential" {
			return 0, nil, badRequest("Confidential postings cannot be created through the API")
		}
	}
	if _, ok := b["text"]; !ok {
		return 0, nil, badRequest("Missing required field: text")
	}
	now := s.nowMs()
	p := &Posting{
		ID: s.newID(), CreatedAt: now, UpdatedAt: now, User: *performAs, Owner: ptr(*performAs),
		Confidentiality: "non-confidential", State: "draft", DistributionChannels: []string{"public", "internal"},
		Categories: Categories{AllLocations: []string{}}, Content: Content{Lists: []ContentList{}},
		Tags: []string{}, RequisitionCodes: []string{}, WorkplaceType: "unspecified", Followers: []string{*performAs},
	}
	if err := s.applyPosting(p, b, true); err != nil {
		return 0, nil, err
	}
	p.URLs = URLs{List: jobsURL, Show: jobsURL + "/" + p.ID, Apply: jobsURL + "/" + p.ID + "/apply"}
	s.postings[p.ID] = p
	return http.StatusCreated, objectEnvelope{p.clone()}, nil
}

func (s *Sandbox) updatePosting(r *http.Request, id string) (int, any, error) {
	var b map[string]json.RawMessage
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookupPosting(id)
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.preamble(r, true, &b); err != nil {
		return 0, nil, err
	}
	next := p.clone()
	if err := s.applyPosting(&next, b, false); err != nil {
		return 0, nil, err
	}
	next.UpdatedAt = s.nowMs()
	*p = next
	return http.StatusOK, objectEnvelope{p.clone()}, nil
}

// applyPosting writes the writable fields present in b onto p (a partial
// update); call with mu held.
func (s *Sandbox) applyPosting(p *Posting, b map[string]json.RawMessage, create bool) error {
	for k, raw := range b {
		bad := func() error { return badRequest("Invalid value for %s", k) }
		switch k {
		case "text":
			if json.Unmarshal(raw, &p.Text) != nil || strings.TrimSpace(p.Text) == "" {
				return badRequest("text must be a non-empty string")
			}
		case "state":
			var st string
			if json.Unmarshal(raw, &st) != nil || !slices.Contains(postingStates, st) {
				return badRequest("Invalid value for state: must be one of %s", strings.Join(postingStates, ", "))
			}
			p.State = st
		case "distributionChannels":
			var d []string
			if json.Unmarshal(raw, &d) != nil {
				return bad()
			}
			for _, c := range d {
				if !slices.Contains(channels, c) {
					return badRequest("Invalid distribution channel %s", c)
				}
			}
			p.DistributionChannels = dedupe(d)
		case "owner", "hiringManager":
			var u *string
			if json.Unmarshal(raw, &u) != nil || u != nil && s.users[*u] == nil {
				return badRequest("%s must be an existing user id", k)
			}
			if k == "owner" {
				if u == nil {
					return badRequest("owner cannot be null")
				}
				p.Owner = u
			} else {
				p.HiringManager = u
			}
		case "categories":
			var c struct {
				Team, Department, Location, Commitment, Level *string
				AllLocations                                  []string `json:"allLocations"`
			}
			if json.Unmarshal(raw, &c) != nil {
				return bad()
			}
			p.Categories = Categories{Team: c.Team, Department: c.Department, Location: c.Location,
				Commitment: c.Commitment, Level: c.Level, AllLocations: cloneStrs(c.AllLocations)}
			if len(p.Categories.AllLocations) == 0 && c.Location != nil {
				p.Categories.AllLocations = []string{*c.Location}
			}
		case "tags":
			var t []string
			if json.Unmarshal(raw, &t) != nil {
				return bad()
			}
			p.Tags = dedupe(t)
		case "content":
			var c struct {
				DescriptionHTML *string        `json:"descriptionHtml"`
				Lists           *[]ContentList `json:"lists"`
				ClosingHTML     *string        `json:"closingHtml"`
			}
			if json.Unmarshal(raw, &c) != nil {
				return bad()
			}
			if c.DescriptionHTML != nil {
				p.Content.DescriptionHTML, p.Content.Description = *c.DescriptionHTML, stripHTML(*c.DescriptionHTML)
			}
			if c.Lists != nil {
				p.Content.Lists = append([]ContentList{}, (*c.Lists)...)
			}
			if c.ClosingHTML != nil {
				p.Content.ClosingHTML, p.Content.Closing = *c.ClosingHTML, stripHTML(*c.ClosingHTML)
			}
		case "workplaceType":
			var w string
			if json.Unmarshal(raw, &w) != nil || !slices.Contains(workplaceTypes, w) {
				return badRequest("Invalid value for workplaceType: must be one of %s", strings.Join(workplaceTypes, ", "))
			}
			if w == "unspecified" && p.WorkplaceType != "unspecified" && !create {
				return badRequest("workplaceType cannot be changed back to unspecified")
			}
			p.WorkplaceType = w
		case "requisitionCodes":
			var rc []string
			if json.Unmarshal(raw, &rc) != nil {
				return bad()
			}
			p.RequisitionCodes = dedupe(rc)
			p.ReqCode = nil
			if len(p.RequisitionCodes) > 0 {
				p.ReqCode = ptr(p.RequisitionCodes[0])
			}
		case "salaryDescriptionHtml":
			var h *string
			if json.Unmarshal(raw, &h) != nil {
				return bad()
			}
			p.SalaryDescriptionHTML, p.SalaryDescription = nil, nil
			if h != nil {
				p.SalaryDescriptionHTML, p.SalaryDescription = ptr(*h), ptr(stripHTML(*h))
			}
		case "salaryRange":
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) != nil {
				return bad()
			}
			if m == nil {
				p.SalaryRange = nil
				continue
			}
			for _, f := range []string{"min", "max", "currency", "interval"} {
				if _, ok := m[f]; !ok {
					return badRequest("salaryRange needs all of min, max, currency and interval")
				}
			}
			var sr SalaryRange
			if json.Unmarshal(raw, &sr) != nil || sr.Min > sr.Max {
				return badRequest("Invalid salaryRange")
			}
			p.SalaryRange = &sr
		}
	}
	return nil
}
