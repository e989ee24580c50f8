package sandbox

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

var accessRoles = []string{"super admin", "admin", "team member", "limited team member", "interviewer"}

func userKey(u User) cursor { return cursor{u.CreatedAt, u.ID} }

func (s *Sandbox) listUsers(q url.Values) (int, any, error) {
	incl, err := parseBool(q, "includeDeactivated")
	if err != nil {
		return 0, nil, err
	}
	emails, roles, ext := values(q, "email"), values(q, "accessRole"), values(q, "external_directory_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []User
	for _, u := range s.users {
		if u.DeactivatedAt != nil && (incl == nil || !*incl) ||
			len(emails) > 0 && !slices.ContainsFunc(emails, func(e string) bool { return strings.EqualFold(e, u.Email) }) ||
			len(roles) > 0 && !slices.Contains(roles, u.AccessRole) ||
			len(ext) > 0 && (u.ExternalDirectoryID == nil || !slices.Contains(ext, *u.ExternalDirectoryID)) {
			continue
		}
		items = append(items, u.clone())
	}
	env, err := page(q, sortUsers, items, userKey)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, env, nil
}

func (s *Sandbox) getUser(id string) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return 0, nil, notFound("User", id)
	}
	return http.StatusOK, objectEnvelope{u.clone()}, nil
}

type userBody struct {
	Name                *string `json:"name"`
	Email               *string `json:"email"`
	AccessRole          *string `json:"accessRole"`
	ExternalDirectoryID *string `json:"externalDirectoryId"`
	JobTitle            *string `json:"jobTitle"`
	ManagerID           *string `json:"managerId"`
}

// validate checks b for a create (role optional) or full replace (role
// required); self is the id of the user being replaced.
func (s *Sandbox) validateUser(b *userBody, roleRequired bool, self string) error {
	if b.Name == nil || strings.TrimSpace(*b.Name) == "" {
		return badRequest("Missing required field: name")
	}
	if b.Email == nil || !strings.Contains(*b.Email, "@") {
		return badRequest("Missing or invalid required field: email")
	}
	for _, u := range s.users {
		if u.ID != self && strings.EqualFold(u.Email, *b.Email) {
			return badRequest("A user with email %s already exists", *b.Email)
		}
	}
	if b.AccessRole == nil {
		if roleRequired {
			return badRequest("Missing required field: accessRole")
		}
		b.AccessRole = ptr("interviewer")
	}
	if !slices.Contains(accessRoles, *b.AccessRole) {
		return badRequest("Invalid accessRole %q: must be one of %s", *b.AccessRole, strings.Join(accessRoles, ", "))
	}
	if b.ManagerID != nil && s.users[*b.ManagerID] == nil {
		return badRequest("managerId %s is not a user", *b.ManagerID)
	}
	return nil
}

func usernameOf(email string) string {
	name, _, _ := strings.Cut(email, "@")
	return strings.ToLower(name)
}

func (s *Sandbox) createUser(r *http.Request) (int, any, error) {
	var b userBody
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := readBody(r, &b); err != nil {
		return 0, nil, err
	}
	if err := s.validateUser(&b, false, ""); err != nil {
		return 0, nil, err
	}
	u := &User{ID: s.newID(), Name: *b.Name, Username: usernameOf(*b.Email), Email: *b.Email,
		CreatedAt: s.nowMs(), ExternalDirectoryID: b.ExternalDirectoryID, AccessRole: *b.AccessRole,
		JobTitle: b.JobTitle, ManagerID: b.ManagerID}
	s.users[u.ID] = u
	return http.StatusCreated, objectEnvelope{u.clone()}, nil
}

func (s *Sandbox) putUser(r *http.Request, id string) (int, any, error) {
	var b userBody
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return 0, nil, notFound("User", id)
	}
	if err := readBody(r, &b); err != nil {
		return 0, nil, err
	}
	if err := s.validateUser(&b, true, id); err != nil {
		return 0, nil, err
	}
	// Full replace: fields not sent are cleared.
	u.Name, u.Email, u.Username, u.AccessRole = *b.Name, *b.Email, usernameOf(*b.Email), *b.AccessRole
	u.ExternalDirectoryID, u.JobTitle, u.ManagerID = b.ExternalDirectoryID, b.JobTitle, b.ManagerID
	return http.StatusOK, objectEnvelope{u.clone()}, nil
}

func (s *Sandbox) setUserActive(id string, active bool) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return 0, nil, notFound("User", id)
	}
	if active {
		u.DeactivatedAt = nil
	} else if u.DeactivatedAt == nil {
		u.DeactivatedAt = ptr(s.nowMs())
	}
	return http.StatusOK, objectEnvelope{u.clone()}, nil
}
