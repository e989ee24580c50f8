package client

import (
	"context"
	"errors"
	"iter"
	"net/url"
)

// Access roles (custom role ids are accepted too).
const (
	RoleSuperAdmin        = "super admin"
	RoleAdmin             = "admin"
	RoleTeamMember        = "team member"
	RoleLimitedTeamMember = "limited team member"
	RoleInterviewer       = "interviewer"
)

// User is a Lever user (a possible perform_as actor).
type User struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	Username            string   `json:"username"`
	Email               string   `json:"email"`
	AccessRole          string   `json:"accessRole"`
	Photo               string   `json:"photo"`
	CreatedAt           Millis   `json:"createdAt"`
	DeactivatedAt       Millis   `json:"deactivatedAt"` // zero while active
	ExternalDirectoryID string   `json:"externalDirectoryId"`
	LinkedContactIDs    []string `json:"linkedContactIds"`
	JobTitle            string   `json:"jobTitle"`
	ManagerID           string   `json:"managerId"`
}

// ListUsersParams are the filters of GET /users (active users only unless
// IncludeDeactivated).
type ListUsersParams struct {
	Emails               []string
	AccessRoles          []string
	IncludeDeactivated   bool
	ExternalDirectoryIDs []string
	ListOptions
}

// Values encodes the filters as Lever's query parameters.
func (p ListUsersParams) Values() url.Values {
	q := query{}
	q.strs("email", p.Emails)
	q.strs("accessRole", p.AccessRoles)
	q.flag("includeDeactivated", p.IncludeDeactivated)
	q.strs("external_directory_id", p.ExternalDirectoryIDs)
	return url.Values(q)
}

// ListUsers iterates over GET /users.
func (c *Client) ListUsers(ctx context.Context, p ListUsersParams) iter.Seq2[User, error] {
	return List[User](ctx, c, "/users", p.Values(), p.ListOptions)
}

// GetUser gets one user.
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	var out User
	err := c.Do(ctx, "GET", "/users/"+url.PathEscape(id), nil, nil, &out)
	return out, err
}

// UserInput is the body of POST /users and PUT /users/:id. For PUT it is a
// full replace: Name, Email and AccessRole are required and omitted
// optional fields are cleared.
type UserInput struct {
	Name                string `json:"name"`
	Email               string `json:"email"`
	AccessRole          string `json:"accessRole,omitempty"` // default interviewer on create
	ExternalDirectoryID string `json:"externalDirectoryId,omitempty"`
	JobTitle            string `json:"jobTitle,omitempty"`
	ManagerID           string `json:"managerId,omitempty"`
}

// CreateUser creates a user; no invitation is sent. Not retried on 5xx
// unless opts say so.
func (c *Client) CreateUser(ctx context.Context, in UserInput, opts ...CallOption) (User, error) {
	if in.Name == "" || in.Email == "" {
		return User{}, errors.New("lever: creating a user needs a name and an email")
	}
	var out User
	err := c.Do(ctx, "POST", "/users", nil, in, &out, opts...)
	return out, err
}

// UpdateUser replaces a user (PUT /users/:id).
func (c *Client) UpdateUser(ctx context.Context, id string, in UserInput) (User, error) {
	if in.Name == "" || in.Email == "" || in.AccessRole == "" {
		return User{}, errors.New("lever: updating a user replaces it and needs name, email and accessRole")
	}
	var out User
	err := c.Do(ctx, "PUT", "/users/"+url.PathEscape(id), nil, in, &out)
	return out, err
}

// DeactivateUser deactivates a user (repeatable, sent as Idempotent).
func (c *Client) DeactivateUser(ctx context.Context, id string) (User, error) {
	var out User
	err := c.Do(ctx, "POST", "/users/"+url.PathEscape(id)+"/deactivate", nil, nil, &out, Idempotent())
	return out, err
}

// ReactivateUser reactivates a user (repeatable, sent as Idempotent).
func (c *Client) ReactivateUser(ctx context.Context, id string) (User, error) {
	var out User
	err := c.Do(ctx, "POST", "/users/"+url.PathEscape(id)+"/reactivate", nil, nil, &out, Idempotent())
	return out, err
}
