package client

import (
	"context"
	"net/url"
)

// Contact is the person behind one or more opportunities.
type Contact struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Headline     string   `json:"headline"`
	IsAnonymized bool     `json:"isAnonymized"`
	Location     Location `json:"location"` // {"name": ...} on the wire; a string is accepted too
	Emails       []string `json:"emails"`
	Phones       []Phone  `json:"phones"`
}

// ContactInput is the body of PUT /contacts/:id. Whether Lever replaces the
// whole record is undocumented: GET, merge, then PUT every field
// (ContactInputFrom helps).
type ContactInput struct {
	Name     string   `json:"name,omitempty"`
	Headline string   `json:"headline,omitempty"`
	Location string   `json:"location,omitempty"`
	Emails   []string `json:"emails,omitempty"`
	Phones   []Phone  `json:"phones,omitempty"`
}

// ContactInputFrom copies a fetched contact into an update body.
func ContactInputFrom(c Contact) ContactInput {
	return ContactInput{Name: c.Name, Headline: c.Headline, Location: c.Location.Name, Emails: c.Emails, Phones: c.Phones}
}

// GetContact gets one contact.
func (c *Client) GetContact(ctx context.Context, id string) (Contact, error) {
	var out Contact
	err := c.Do(ctx, "GET", "/contacts/"+url.PathEscape(id), nil, nil, &out)
	return out, err
}

// UpdateContact sends PUT /contacts/:id (repeatable, so retried like a GET).
func (c *Client) UpdateContact(ctx context.Context, id string, in ContactInput) (Contact, error) {
	var out Contact
	err := c.Do(ctx, "PUT", "/contacts/"+url.PathEscape(id), nil, in, &out)
	return out, err
}
