package sandbox

import (
	"net/http"
	"net/url"
	"sort"
)

func (s *Sandbox) listStages(q url.Values) (int, any, error) {
	if _, err := parseLimit(q); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return http.StatusOK, listEnvelope{Data: append([]Stage{}, s.stages...)}, nil
}

func (s *Sandbox) getStage(id string) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.stageIndex(id); i >= 0 {
		return http.StatusOK, objectEnvelope{s.stages[i]}, nil
	}
	return 0, nil, notFound("Stage", id)
}

func (s *Sandbox) listArchiveReasons(q url.Values) (int, any, error) {
	if _, err := parseLimit(q); err != nil {
		return 0, nil, err
	}
	typ := q.Get("type")
	if typ != "" && typ != "hired" && typ != "non-hired" {
		return 0, nil, badRequest("Invalid value for type: must be hired or non-hired")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []ArchiveReason{}
	for _, r := range s.reasons {
		if typ == "" || r.Type == typ {
			out = append(out, r)
		}
	}
	return http.StatusOK, listEnvelope{Data: out}, nil
}

func (s *Sandbox) getArchiveReason(id string) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.reason(id); r != nil {
		return http.StatusOK, objectEnvelope{*r}, nil
	}
	return 0, nil, notFound("Archive reason", id)
}

// listCounts serves GET /tags and GET /sources with counts computed from
// the opportunities.
func (s *Sandbox) listCounts(q url.Values, kind string) (int, any, error) {
	if _, err := parseLimit(q); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.counts(kind)
	return http.StatusOK, listEnvelope{Data: out}, nil
}

func (s *Sandbox) counts(kind string) []Count {
	set := s.tagSet
	if kind == "sources" {
		set = s.sourceSet
	}
	n := map[string]int{}
	for t := range set {
		n[t] = 0
	}
	for _, o := range s.opps {
		l := o.tags
		if kind == "sources" {
			l = o.sources
		}
		for _, t := range l {
			n[t]++
		}
	}
	out := make([]Count, 0, len(n))
	for t, c := range n {
		out = append(out, Count{Text: t, Count: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Text < out[j].Text })
	return out
}
