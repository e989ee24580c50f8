package lever

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/leverflow/leverflow/steps"
)

// paidRoles are the access roles we count as taking a paid Lever seat.
var paidRoles = map[string]bool{"super admin": true, "admin": true, "team member": true, "limited team member": true}

var accessRoles = []string{"super admin", "admin", "team member", "limited team member", "interviewer"}

func userSchema(desc string) *steps.Schema {
	return object(desc, map[string]*steps.Schema{
		// Lever's fields.
		"id":                  str("The user id (what perform_as takes)."),
		"name":                str("The full name."),
		"username":            str("The username."),
		"email":               str("The email address."),
		"accessRole":          str("Lever's access role: super admin, admin, team member, limited team member, interviewer, or a custom role id."),
		"photo":               str("A photo URL; null when there is none."),
		"createdAt":           millis("When the user was created"),
		"deactivatedAt":       millis("When the user was deactivated; null while active"),
		"externalDirectoryId": str("The id in the company's directory (HRIS, SSO)."),
		"linkedContactIds":    strList("Contacts linked to the user (internal candidates).", "A contact id."),
		"jobTitle":            str("The job title."),
		"managerId":           str("The manager's user id."),
		// Directory fields added by Leverflow.
		"first_name": str("The name up to its first space (added by Leverflow)."),
		"last_name":  str("The rest of the name after the first space; empty for a one-word name (added by Leverflow)."),
		"role":       str("The access role, as accessRole (added by Leverflow)."),
		"status":     enum("\"active\", or \"deactivated\" when deactivatedAt is set (added by Leverflow).", "active", "deactivated"),
		"license_status": enum("\"paid\" for the roles that take a paid Lever seat (super admin, admin, team member, limited team member), "+
			"\"free\" for interviewers and custom roles. This is our reading of Lever's seat rules, not a field Lever sends: check it against your contract (added by Leverflow).",
			"paid", "free"),
		"created_at": str("createdAt as an RFC 3339 time in UTC (added by Leverflow)."),
	})
}

// directoryUser adds the directory fields to a Lever user, in place.
func directoryUser(u map[string]any) {
	name, _ := u["name"].(string)
	name = strings.TrimSpace(name)
	first, last, _ := strings.Cut(name, " ")
	u["first_name"], u["last_name"] = first, strings.TrimSpace(last)
	role, _ := u["accessRole"].(string)
	u["role"] = role
	u["status"] = "active"
	if msOf(u["deactivatedAt"]) != 0 {
		u["status"] = "deactivated"
	}
	u["license_status"] = "free"
	if paidRoles[role] {
		u["license_status"] = "paid"
	}
	u["created_at"] = ""
	if ms := msOf(u["createdAt"]); ms != 0 {
		u["created_at"] = time.UnixMilli(ms).UTC().Format(time.RFC3339)
	}
	if _, ok := u["photo"]; !ok {
		u["photo"] = nil
	}
}

type getUserInput struct {
	UserID string `json:"user_id"`
}

func (f *family) getUserSpec() steps.Spec {
	spec := steps.Spec{
		Type:  "lever.get_user",
		Title: "Get User",
		Description: "Reads one Lever user (a member of the hiring team) with Lever's fields plus directory fields: " +
			"first_name, last_name, role, status, license_status and created_at.",
		Input: object("Which user.", map[string]*steps.Schema{
			"user_id": str("The user id."),
		}, "user_id"),
		Output: userSchema("The user."),
		Check:  checkLiteralIDs("user_id"),
		Examples: []steps.Example{
			example("Read a recruiter", `{"user_id": "`+exampleRecruiter+`"}`, exampleRecruiterUser),
			errorExample("An unknown user fails at once", `{"user_id": "nobody"}`, "Lever answered 404 ResourceNotFound: User nobody was not found"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in getUserInput) (map[string]any, error) {
		c, err := f.clientForID(ctx, req, "user_id", in.UserID)
		if err != nil {
			return nil, err
		}
		u, err := getObject(ctx, c, "/users/"+url.PathEscape(in.UserID), nil)
		if err != nil {
			return nil, err
		}
		directoryUser(u)
		return u, nil
	})
}

type getUsersInput struct {
	IncludeDeactivated  bool     `json:"include_deactivated"`
	Email               textList `json:"email"`
	AccessRole          textList `json:"access_role"`
	ExternalDirectoryID textList `json:"external_directory_id"`
	paging
}

func (f *family) getUsersSpec() steps.Spec {
	spec := steps.Spec{
		Type:  "lever.get_users",
		Title: "Get Users",
		Description: "Lists Lever's users: the directory SaaS-management and HR tools sync from. Each user has Lever's fields plus " +
			"first_name, last_name, role, status (active or deactivated), license_status (paid or free) and created_at. " +
			"Only active users unless include_deactivated. One page by default; all_pages follows the pages up to max_items.",
		Input: object("The filters and paging.", listInputProps(map[string]*steps.Schema{
			"include_deactivated":   &steps.Schema{Type: steps.TypeBoolean, Default: false, Description: "Also list deactivated users."},
			"email":                 textOrList("Users with this email address."),
			"access_role":           textOrList("Users with this access role (super admin, admin, team member, limited team member, interviewer) or custom role id."),
			"external_directory_id": textOrList("Users with this directory id."),
		})),
		Output: listOutputSchema("users", userSchema("A user.")),
		Check:  checkPaging,
		Examples: []steps.Example{
			example("Find a user by email", `{"email": "`+exampleRecruiterEmail+`"}`,
				`{"items": [`+exampleRecruiterUser+`], "count": 1, "has_next": false, "next": ""}`),
			errorExample("limit is at least 1", `{"limit": 0}`, "input.limit: must be from 1 to 100"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in getUsersInput) (listOutput, error) {
		q := query{}
		q.list("email", in.Email)
		q.list("accessRole", in.AccessRole)
		q.list("external_directory_id", in.ExternalDirectoryID)
		if in.IncludeDeactivated {
			url.Values(q).Set("includeDeactivated", "true")
		}
		c, err := f.client(ctx, req)
		if err != nil {
			return listOutput{}, err
		}
		return fetchList(ctx, c, "/users", url.Values(q), in.paging, directoryUser)
	})
}
