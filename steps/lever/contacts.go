package lever

import (
	"context"
	"net/http"
	"net/url"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/lever/client"
)

type getContactInput struct {
	ContactID string `json:"contact_id"`
}

func contactIDInput() *steps.Schema {
	return str("The contact id (the person behind opportunities), such as <<steps.opp.contact>>.")
}

func (f *family) getContactSpec() steps.Spec {
	spec := steps.Spec{
		Type:        "lever.get_contact",
		Title:       "Get Contact",
		Description: "Reads a contact: the person behind one or more opportunities, with name, headline, location, emails and phones.",
		Input: object("Which contact.", map[string]*steps.Schema{
			"contact_id": contactIDInput(),
		}, "contact_id"),
		Output: contactSchema("The contact, as Lever sends it."),
		Check:  checkLiteralIDs("contact_id"),
		Examples: []steps.Example{
			example("Read the contact of an opportunity ({{contact}} is the example sandbox's)",
				`{"contact_id": "{{contact}}"}`, exampleContact),
			errorExample("An unknown contact fails at once", `{"contact_id": "nobody"}`,
				"Lever answered 404 ResourceNotFound: Contact nobody was not found"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in getContactInput) (map[string]any, error) {
		c, err := f.clientForID(ctx, req, "contact_id", in.ContactID)
		if err != nil {
			return nil, err
		}
		return getObject(ctx, c, "/contacts/"+url.PathEscape(in.ContactID), nil)
	})
}

// updateContactInput: a nil field is not given and keeps its value.
type updateContactInput struct {
	ContactID string          `json:"contact_id"`
	Name      *string         `json:"name"`
	Headline  *string         `json:"headline"`
	Location  *string         `json:"location"`
	Emails    *[]string       `json:"emails"`
	Phones    *[]client.Phone `json:"phones"`
}

var contactFields = []string{"name", "headline", "location", "emails", "phones"}

func checkContactChange(input map[string]any) []steps.Problem {
	for _, k := range contactFields {
		if _, ok := input[k]; ok {
			return nil
		}
	}
	return []steps.Problem{{Message: "nothing to change: give at least one of name, headline, location, emails, phones"}}
}

func (f *family) updateContactSpec() steps.Spec {
	spec := steps.Spec{
		Type:  "lever.update_contact",
		Title: "Update Contact",
		Description: "Changes a contact's name, headline, location, emails or phones. It reads the contact first and " +
			"writes back the fields given over the current ones, so fields not given keep their values. " +
			"emails and phones replace the whole list.",
		Input: object("The contact and the fields to change.", map[string]*steps.Schema{
			"contact_id": contactIDInput(),
			"name":       str("The new name."),
			"headline":   str("The new headline."),
			"location":   str("The new location, such as \"Berlin, Germany\"."),
			"emails":     strList("The new email addresses (replacing the current list).", "An email address."),
			"phones":     phonesSchema("The new phone numbers (replacing the current list)."),
		}, "contact_id"),
		Output: contactSchema("The contact after the change."),
		Check:  combineChecks(checkLiteralIDs("contact_id"), checkContactChange),
		Examples: []steps.Example{
			example("Change the headline; everything else is kept",
				`{"contact_id": "{{contact}}", "headline": "Babbage & Co"}`, exampleContactWith(map[string]any{"headline": "Babbage & Co"})),
			errorExample("Something to change", `{"contact_id": "{{contact}}"}`, "input: nothing to change"),
		},
	}
	return steps.Typed(spec, func(ctx context.Context, req *steps.Request, in updateContactInput) (map[string]any, error) {
		if err := requireID("contact_id", in.ContactID); err != nil {
			return nil, err
		}
		if in.Name == nil && in.Headline == nil && in.Location == nil && in.Emails == nil && in.Phones == nil {
			return nil, checkContactChange(nil)[0].Err()
		}
		c, err := f.client(ctx, req)
		if err != nil {
			return nil, err
		}
		path := "/contacts/" + url.PathEscape(in.ContactID)
		cur, err := getObject(ctx, c, path, nil)
		if err != nil {
			return nil, err
		}
		body := mergeContact(cur, in)
		return doObject(ctx, c, http.MethodPut, path, nil, body)
	})
}

// mergeContact overlays the given fields on the current contact and
// returns the PUT body: every writable field, location as text.
func mergeContact(cur map[string]any, in updateContactInput) map[string]any {
	body := map[string]any{}
	for _, k := range []string{"name", "headline", "emails", "phones"} {
		if v, ok := cur[k]; ok && v != nil {
			body[k] = v
		}
	}
	switch loc := cur["location"].(type) {
	case string:
		body["location"] = loc
	case map[string]any:
		if name, ok := loc["name"].(string); ok {
			body["location"] = name
		}
	}
	if in.Name != nil {
		body["name"] = *in.Name
	}
	if in.Headline != nil {
		body["headline"] = *in.Headline
	}
	if in.Location != nil {
		body["location"] = *in.Location
	}
	if in.Emails != nil {
		body["emails"] = nonNil(*in.Emails)
	}
	if in.Phones != nil {
		phones := *in.Phones
		if phones == nil {
			phones = []client.Phone{}
		}
		body["phones"] = phones
	}
	return body
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
