package sandbox

import "sort"

// Opportunity returns a copy of an opportunity as the API would return it.
func (s *Sandbox) Opportunity(id string) (Opportunity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.opps[id]
	if !ok {
		return Opportunity{}, false
	}
	return s.render(o), true
}

// Opportunities returns copies of all opportunities (confidential ones
// included) in list order: newest first.
func (s *Sandbox) Opportunities() []Opportunity {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Opportunity, 0, len(s.opps))
	for _, o := range s.opps {
		out = append(out, s.render(o))
	}
	sort.Slice(out, func(i, j int) bool { return oppKey(out[i]).before(oppKey(out[j])) })
	return out
}

// Contact returns a copy of a contact.
func (s *Sandbox) Contact(id string) (Contact, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[id]
	if !ok {
		return Contact{}, false
	}
	return c.clone(), true
}

// Posting returns a copy of a posting.
func (s *Sandbox) Posting(id string) (Posting, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.postings[id]
	if !ok {
		return Posting{}, false
	}
	return p.clone(), true
}

// Postings returns copies of all postings, newest first.
func (s *Sandbox) Postings() []Posting {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Posting, 0, len(s.postings))
	for _, p := range s.postings {
		out = append(out, p.clone())
	}
	sort.Slice(out, func(i, j int) bool { return postingKey(out[i]).before(postingKey(out[j])) })
	return out
}

// User returns a copy of a user.
func (s *Sandbox) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, false
	}
	return u.clone(), true
}

// Users returns copies of all users (deactivated included), newest first.
func (s *Sandbox) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u.clone())
	}
	sort.Slice(out, func(i, j int) bool { return userKey(out[i]).before(userKey(out[j])) })
	return out
}

// Stages returns the pipeline stages in order.
func (s *Sandbox) Stages() []Stage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Stage{}, s.stages...)
}

// ArchiveReasons returns the archive reasons.
func (s *Sandbox) ArchiveReasons() []ArchiveReason {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ArchiveReason{}, s.reasons...)
}

// Tags returns the tag counts GET /tags would return.
func (s *Sandbox) Tags() []Count {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts("tags")
}

// Sources returns the source counts GET /sources would return.
func (s *Sandbox) Sources() []Count {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts("sources")
}
