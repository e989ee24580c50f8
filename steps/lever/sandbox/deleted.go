package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
)

// ErrNotFound is returned (wrapped) by the sandbox's Go methods when the
// object they are asked about does not exist.
var ErrNotFound = errors.New("sandbox: not found")

// DeletedOpportunity is an entry of GET /opportunities/deleted: the
// opportunity as it was when it was deleted, plus who deleted it and when.
type DeletedOpportunity struct {
	Opportunity
	DeletedBy *string `json:"deletedBy"`
	DeletedAt int64   `json:"deletedAt"`
}

// DeletedBy is the user DeleteOpportunity records as the one who deleted:
// the account's super admin, since Lever's API has no delete endpoint and
// deletions are made in Lever's app.
const DeletedBy = UserPriya

// DeleteOpportunity deletes an opportunity the way a user of Lever's app
// would: it disappears from the API, is listed by GET
// /opportunities/deleted with deletedAt (Options.Now) and deletedBy, and
// the candidateDeleted webhook fires. Its contact is kept. An unknown id
// returns an error wrapping ErrNotFound.
func (s *Sandbox) DeleteOpportunity(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.opps[id]
	if !ok {
		return fmt.Errorf("deleting opportunity %s: %w", id, ErrNotFound)
	}
	d := &DeletedOpportunity{Opportunity: s.render(o), DeletedBy: ptr(DeletedBy), DeletedAt: s.nowMs()}
	delete(s.opps, id)
	s.deleted[id] = d
	s.emit("candidateDeleted", with(s.oppEventIDs(o), "deletedBy", DeletedBy), o.origin)
	return nil
}

// DeletedOpportunities returns copies of the deleted opportunities, most
// recently deleted first.
func (s *Sandbox) DeletedOpportunities() []DeletedOpportunity {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DeletedOpportunity, 0, len(s.deleted))
	for _, d := range s.deleted {
		out = append(out, d.clone())
	}
	sort.Slice(out, func(i, j int) bool { return deletedKey(out[i]).before(deletedKey(out[j])) })
	return out
}

func (d DeletedOpportunity) clone() DeletedOpportunity {
	d.DeletedBy = clonePtr(d.DeletedBy)
	o := d.Opportunity
	o.Emails, o.Links, o.Tags, o.Sources = cloneStrs(o.Emails), cloneStrs(o.Links), cloneStrs(o.Tags), cloneStrs(o.Sources)
	o.Applications, o.Followers = cloneStrs(o.Applications), cloneStrs(o.Followers)
	o.Phones = append([]Phone{}, o.Phones...)
	o.StageChanges = append([]StageChange{}, o.StageChanges...)
	for i := range o.StageChanges {
		o.StageChanges[i].UserID = clonePtr(o.StageChanges[i].UserID)
	}
	o.SnoozedUntil, o.Archived, o.Owner = clonePtr(o.SnoozedUntil), clonePtr(o.Archived), clonePtr(o.Owner)
	o.SourcedBy, o.DataProtection = clonePtr(o.SourcedBy), clonePtr(o.DataProtection)
	d.Opportunity = o
	return d
}

func deletedKey(d DeletedOpportunity) cursor { return cursor{d.DeletedAt, d.ID} }

// parseConfidentiality reads the confidentiality filter (default
// non-confidential).
func parseConfidentiality(q url.Values) (string, error) {
	switch c := q.Get("confidentiality"); c {
	case "":
		return "non-confidential", nil
	case "non-confidential", "confidential", "all":
		return c, nil
	}
	return "", badRequest("Invalid value for confidentiality: must be one of non-confidential, confidential, all")
}

// listDeletedOpportunities serves GET /opportunities/deleted: filters
// deleted_at_start/_end (inclusive, ms) and confidentiality, newest
// deletion first, keyset-paginated like every list.
func (s *Sandbox) listDeletedOpportunities(q url.Values) (int, any, error) {
	start, err := parseMillis(q, "deleted_at_start")
	if err != nil {
		return 0, nil, err
	}
	end, err := parseMillis(q, "deleted_at_end")
	if err != nil {
		return 0, nil, err
	}
	conf, err := parseConfidentiality(q)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []DeletedOpportunity{}
	for _, d := range s.deleted {
		if conf != "all" && d.Confidentiality != conf || !inRange(d.DeletedAt, start, end) {
			continue
		}
		items = append(items, d.clone())
	}
	env, err := page(q, sortDeleted, items, deletedKey)
	if err != nil {
		return 0, nil, err
	}
	projectList[DeletedOpportunity](s, &env, q, s.oppExpanders())
	return http.StatusOK, env, nil
}
