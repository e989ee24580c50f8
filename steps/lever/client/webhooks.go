package client

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"iter"
	"net/url"
	"strconv"
)

// Webhook events Lever can deliver. There are no posting, offer or
// "candidate created" events.
const (
	EventApplicationCreated     = "applicationCreated"
	EventCandidateHired         = "candidateHired"
	EventCandidateStageChange   = "candidateStageChange"
	EventCandidateArchiveChange = "candidateArchiveChange"
	EventCandidateDeleted       = "candidateDeleted"
	EventInterviewCreated       = "interviewCreated"
	EventInterviewUpdated       = "interviewUpdated"
	EventInterviewDeleted       = "interviewDeleted"
	EventContactCreated         = "contactCreated"
	EventContactUpdated         = "contactUpdated"
)

// Webhook is a webhook registration.
type Webhook struct {
	ID            string               `json:"id"`
	URL           string               `json:"url"`
	Event         string               `json:"event"`
	CreatedAt     Millis               `json:"createdAt"`
	UpdatedAt     Millis               `json:"updatedAt"`
	Configuration WebhookConfiguration `json:"configuration"`
}

// WebhookConfiguration holds the signature token (returned once, on
// create) and the delivery conditions.
type WebhookConfiguration struct {
	SignatureToken string             `json:"signatureToken,omitempty"`
	Conditions     *WebhookConditions `json:"conditions,omitempty"`
}

// WebhookConditions filter deliveries. Origins works only for
// applicationCreated, candidateArchiveChange, candidateHired and
// candidateStageChange.
type WebhookConditions struct {
	Origins []string `json:"origins,omitempty"`
}

// WebhookInput is the body of POST /webhooks.
type WebhookInput struct {
	URL           string                `json:"url"`
	Event         string                `json:"event"`
	Configuration *WebhookConfiguration `json:"configuration,omitempty"`
}

// WebhookUpdate is one entry of PUT /webhooks.
type WebhookUpdate struct {
	ID            string                `json:"id"`
	URL           string                `json:"url,omitempty"`
	Configuration *WebhookConfiguration `json:"configuration,omitempty"`
}

// ListWebhooks iterates over GET /webhooks.
func (c *Client) ListWebhooks(ctx context.Context, opts ListOptions) iter.Seq2[Webhook, error] {
	return List[Webhook](ctx, c, "/webhooks", nil, opts)
}

// CreateWebhook registers a webhook; keep Configuration.SignatureToken of
// the result, Lever shows it only once. Not retried on 5xx unless opts say
// so.
func (c *Client) CreateWebhook(ctx context.Context, in WebhookInput, opts ...CallOption) (Webhook, error) {
	var out Webhook
	err := c.Do(ctx, "POST", "/webhooks", nil, in, &out, opts...)
	return out, err
}

// UpdateWebhooks changes API-created webhooks (PUT /webhooks) and returns
// the updated list.
func (c *Client) UpdateWebhooks(ctx context.Context, updates ...WebhookUpdate) ([]Webhook, error) {
	body := struct {
		Data []WebhookUpdate `json:"data"`
	}{updates}
	var out []Webhook
	err := c.Do(ctx, "PUT", "/webhooks", nil, body, &out)
	return out, err
}

// DeleteWebhook deletes an API-created webhook (204).
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	return c.Do(ctx, "DELETE", "/webhooks/"+url.PathEscape(id), nil, nil, nil)
}

// WebhookDelivery is the body Lever POSTs to a webhook URL.
type WebhookDelivery struct {
	ID          string           `json:"id"` // documented, absent from Lever's examples
	Event       string           `json:"event"`
	TriggeredAt Millis           `json:"triggeredAt"`
	Token       string           `json:"token"`
	Signature   string           `json:"signature"`
	Data        WebhookEventData `json:"data"`
}

// WebhookEventData is the union of the ids Lever's events carry; each event
// sets some of them (the test delivery sets none).
type WebhookEventData struct {
	OpportunityID string    `json:"opportunityId"`
	CandidateID   string    `json:"candidateId"` // deprecated: OpportunityID
	ContactID     string    `json:"contactId"`
	ApplicationID string    `json:"applicationId"`
	FromStageID   string    `json:"fromStageId"`
	ToStageID     string    `json:"toStageId"`
	FromArchived  *Archived `json:"fromArchived"`
	ToArchived    *Archived `json:"toArchived"`
	DeletedBy     string    `json:"deletedBy"`
	InterviewID   string    `json:"interviewId"`
	PanelID       string    `json:"panelId"`
}

// ValidSignature reports whether d.Signature is
// hex(HMAC-SHA256(signatureToken, token + triggeredAt)), compared in
// constant time. Only token and triggeredAt are signed, not data.
func (d WebhookDelivery) ValidSignature(signatureToken string) bool {
	mac := hmac.New(sha256.New, []byte(signatureToken))
	mac.Write([]byte(d.Token + strconv.FormatInt(int64(d.TriggeredAt), 10)))
	want := mac.Sum(nil)
	got, err := hex.DecodeString(d.Signature)
	return err == nil && hmac.Equal(want, got)
}
