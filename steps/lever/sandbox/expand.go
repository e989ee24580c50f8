package sandbox

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// listParam returns a repeatable parameter's values, also splitting
// comma-separated lists (include=a,b).
func listParam(q url.Values, name string) []string {
	var out []string
	for _, v := range values(q, name) {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// project applies expand (ids replaced by objects) and include (only the
// named fields, plus id and every expanded field) to one object; call with
// mu held. With neither parameter the object is returned unchanged.
func (s *Sandbox) project(v any, include, expand []string, expanders map[string]func(json.RawMessage) any) any {
	if len(include) == 0 && len(expand) == 0 {
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var m map[string]any
	var raw map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil || json.Unmarshal(b, &raw) != nil {
		return v
	}
	var expanded []string
	for _, f := range expand {
		if fn, ok := expanders[f]; ok {
			if r, ok := raw[f]; ok {
				m[f] = fn(r)
				expanded = append(expanded, f)
			}
		}
	}
	if len(include) > 0 {
		for k := range m {
			if k != "id" && !slices.Contains(include, k) && !slices.Contains(expanded, k) {
				delete(m, k)
			}
		}
	}
	return m
}

// expandIDs turns a JSON id or id array into objects with get (nil when the
// id is unknown or null).
func expandIDs[T any](get func(string) (T, bool)) func(json.RawMessage) any {
	one := func(id string) any {
		if v, ok := get(id); ok {
			return v
		}
		return nil
	}
	return func(r json.RawMessage) any {
		var id *string
		if json.Unmarshal(r, &id) == nil {
			if id == nil {
				return nil
			}
			return one(*id)
		}
		var ids []string
		_ = json.Unmarshal(r, &ids)
		out := []any{}
		for _, id := range ids {
			if v := one(id); v != nil {
				out = append(out, v)
			}
		}
		return out
	}
}

// The lookups below are called with mu held.

func (s *Sandbox) userByID(id string) (User, bool) {
	u, ok := s.users[id]
	if !ok {
		return User{}, false
	}
	return u.clone(), true
}

func (s *Sandbox) oppExpanders() map[string]func(json.RawMessage) any {
	users := expandIDs(s.userByID)
	return map[string]func(json.RawMessage) any{
		"owner": users, "followers": users, "sourcedBy": users,
		"stage": expandIDs(func(id string) (Stage, bool) {
			if i := s.stageIndex(id); i >= 0 {
				return s.stages[i], true
			}
			return Stage{}, false
		}),
		"contact": expandIDs(func(id string) (Contact, bool) {
			c, ok := s.contacts[id]
			if !ok {
				return Contact{}, false
			}
			return c.clone(), true
		}),
		"applications": expandIDs(func(id string) (Application, bool) {
			for _, o := range s.opps {
				if o.application == id {
					return s.application(o), true
				}
			}
			return Application{}, false
		}),
	}
}

func (s *Sandbox) postingExpanders() map[string]func(json.RawMessage) any {
	users := expandIDs(s.userByID)
	return map[string]func(json.RawMessage) any{"user": users, "owner": users, "hiringManager": users, "followers": users}
}

// projectList applies include/expand to every item of a page.
func projectList[T any](s *Sandbox, env *listEnvelope, q url.Values, expanders map[string]func(json.RawMessage) any) {
	include, expand := listParam(q, "include"), listParam(q, "expand")
	if len(include) == 0 && len(expand) == 0 {
		return
	}
	items, _ := env.Data.([]T)
	out := make([]any, 0, len(items))
	for _, it := range items {
		out = append(out, s.project(it, include, expand, expanders))
	}
	env.Data = out
}
