package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Events are the webhook events Lever knows.
var Events = []string{
	"applicationCreated", "candidateHired", "candidateStageChange", "candidateArchiveChange",
	"candidateDeleted", "interviewCreated", "interviewUpdated", "interviewDeleted",
	"contactCreated", "contactUpdated",
}

// originEvents are the events whose webhooks honour conditions.origins.
var originEvents = []string{"applicationCreated", "candidateArchiveChange", "candidateHired", "candidateStageChange"}

// Sign returns Lever's webhook signature: the lowercase hex of
// HMAC-SHA256 keyed with the webhook's signature token over token followed
// by triggeredAt in decimal.
func Sign(signatureToken, token string, triggeredAt int64) string {
	m := hmac.New(sha256.New, []byte(signatureToken))
	m.Write([]byte(token + strconv.FormatInt(triggeredAt, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// WebhookBody is the JSON body of a webhook delivery.
type WebhookBody struct {
	ID          string         `json:"id"`
	Event       string         `json:"event"`
	TriggeredAt int64          `json:"triggeredAt"`
	Token       string         `json:"token"`
	Signature   string         `json:"signature"`
	Data        map[string]any `json:"data"`
}

// Delivery is one delivery attempt of a webhook event.
type Delivery struct {
	WebhookID  string
	EventID    string
	Event      string
	URL        string
	Attempt    int // 1 for the first try
	StatusCode int // 0 when the request failed
	Err        string
	At         time.Time // real time of the attempt
	Body       []byte    // the exact body sent
}

// OK reports whether the attempt was accepted (2xx).
func (d Delivery) OK() bool { return d.StatusCode >= 200 && d.StatusCode < 300 }

// Deliveries returns a copy of the attempt log, oldest first.
func (s *Sandbox) Deliveries() []Delivery {
	s.dMu.Lock()
	defer s.dMu.Unlock()
	out := make([]Delivery, len(s.deliveries))
	copy(out, s.deliveries)
	return out
}

// WaitIdle waits until no webhook delivery (or retry) is pending, or
// timeout passes; it reports whether the sandbox became idle.
func (s *Sandbox) WaitIdle(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		s.dMu.Lock()
		n := s.inflight
		s.dMu.Unlock()
		if n == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Webhooks returns copies of the registered webhooks (signature tokens
// included, for tests).
func (s *Sandbox) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Webhook{}
	for _, id := range s.whOrder {
		out = append(out, s.webhooks[id].clone())
	}
	return out
}

// emit starts asynchronous deliveries of event to every webhook registered
// for it; call with mu held. origin is the opportunity's origin ("" for
// contact events).
func (s *Sandbox) emit(event string, data map[string]any, origin string) {
	if s.ctx.Err() != nil {
		return
	}
	triggeredAt := s.nowMs()
	for _, id := range s.whOrder {
		w := s.webhooks[id]
		if w.Event != event {
			continue
		}
		if c := w.Configuration.Conditions; c != nil && len(c.Origins) > 0 && slices.Contains(originEvents, event) && !slices.Contains(c.Origins, origin) {
			continue
		}
		token := randomString(48)
		body, err := json.Marshal(WebhookBody{ID: randomUUID(), Event: event, TriggeredAt: triggeredAt, Token: token,
			Signature: Sign(w.Configuration.SignatureToken, token, triggeredAt), Data: data})
		if err != nil {
			continue
		}
		var eb WebhookBody
		_ = json.Unmarshal(body, &eb)
		s.dMu.Lock()
		s.inflight++
		s.dMu.Unlock()
		s.wg.Add(1)
		go s.deliver(w.ID, w.URL, eb.ID, event, body)
	}
}

func (s *Sandbox) deliver(webhookID, target, eventID, event string, body []byte) {
	defer s.wg.Done()
	defer func() {
		s.dMu.Lock()
		s.inflight--
		s.dMu.Unlock()
	}()
	delay := s.backoff
	for attempt := 1; attempt <= s.retries+1; attempt++ {
		if attempt > 1 {
			t := time.NewTimer(delay)
			select {
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			delay *= 2
		}
		d := Delivery{WebhookID: webhookID, EventID: eventID, Event: event, URL: target, Attempt: attempt, At: time.Now(), Body: body}
		d.StatusCode, d.Err = s.post(target, body)
		if s.ctx.Err() != nil && d.StatusCode == 0 {
			return
		}
		s.dMu.Lock()
		s.deliveries = append(s.deliveries, d)
		s.dMu.Unlock()
		if d.OK() {
			return
		}
	}
}

func (s *Sandbox) post(target string, body []byte) (int, string) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("User-Agent", "Lever-Webhooks")
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, ""
}

// ---------------------------------------------------------------- management API

func validURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != ""
}

func webhookKey(w Webhook) cursor { return cursor{w.CreatedAt, w.ID} }

// public hides the signature token, which is only returned on create.
func (w Webhook) public() Webhook {
	w = w.clone()
	w.Configuration.SignatureToken = ""
	return w
}

func (s *Sandbox) listWebhooks(q url.Values) (int, any, error) {
	events := values(q, "event")
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []Webhook
	for _, id := range s.whOrder {
		w := s.webhooks[id]
		if len(events) == 0 || slices.Contains(events, w.Event) {
			items = append(items, w.public())
		}
	}
	env, err := page(q, sortWebhooks, items, webhookKey)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, env, nil
}

type webhookConfigBody struct {
	Conditions *Conditions `json:"conditions"`
}

func validConditions(c *Conditions) error {
	if c == nil {
		return nil
	}
	for _, o := range c.Origins {
		if !slices.Contains(origins, o) {
			return badRequest("Invalid origin %s in configuration.conditions.origins", o)
		}
	}
	return nil
}

func (s *Sandbox) createWebhook(r *http.Request) (int, any, error) {
	var b struct {
		URL           string             `json:"url"`
		Event         string             `json:"event"`
		Configuration *webhookConfigBody `json:"configuration"`
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := readBody(r, &b); err != nil {
		return 0, nil, err
	}
	if !validURL(b.URL) {
		return 0, nil, badRequest("url must be an absolute https URL")
	}
	if !slices.Contains(Events, b.Event) {
		return 0, nil, badRequest("Invalid event %q", b.Event)
	}
	now := s.nowMs()
	w := &Webhook{ID: s.newID(), Event: b.Event, URL: b.URL, CreatedAt: now, UpdatedAt: now,
		Configuration: WebhookConfig{SignatureToken: randomString(32)}}
	if b.Configuration != nil && b.Configuration.Conditions != nil {
		if err := validConditions(b.Configuration.Conditions); err != nil {
			return 0, nil, err
		}
		w.Configuration.Conditions = &Conditions{Origins: slices.Clone(b.Configuration.Conditions.Origins)}
	}
	s.webhooks[w.ID] = w
	s.whOrder = append(s.whOrder, w.ID)
	return http.StatusCreated, objectEnvelope{w.clone()}, nil
}

func (s *Sandbox) putWebhooks(r *http.Request) (int, any, error) {
	var b struct {
		Data []struct {
			ID            string             `json:"id"`
			URL           *string            `json:"url"`
			Configuration *webhookConfigBody `json:"configuration"`
		} `json:"data"`
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := readBody(r, &b); err != nil {
		return 0, nil, err
	}
	if len(b.Data) == 0 {
		return 0, nil, badRequest("data must be a non-empty array of webhooks")
	}
	for _, u := range b.Data {
		if s.webhooks[u.ID] == nil {
			return 0, nil, notFound("Webhook", u.ID)
		}
		if u.URL != nil && !validURL(*u.URL) {
			return 0, nil, badRequest("url must be an absolute https URL")
		}
		if u.Configuration != nil {
			if err := validConditions(u.Configuration.Conditions); err != nil {
				return 0, nil, err
			}
		}
	}
	now := s.nowMs()
	out := []Webhook{}
	for _, u := range b.Data {
		w := s.webhooks[u.ID]
		if u.URL != nil {
			w.URL = *u.URL
		}
		if u.Configuration != nil {
			w.Configuration.Conditions = nil
			if u.Configuration.Conditions != nil {
				w.Configuration.Conditions = &Conditions{Origins: slices.Clone(u.Configuration.Conditions.Origins)}
			}
		}
		w.UpdatedAt = now
		out = append(out, w.public())
	}
	return http.StatusOK, listEnvelope{Data: out}, nil
}

func (s *Sandbox) deleteWebhook(id string) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhooks[id] == nil {
		return 0, nil, notFound("Webhook", id)
	}
	delete(s.webhooks, id)
	s.whOrder = slices.DeleteFunc(s.whOrder, func(x string) bool { return x == id })
	return http.StatusNoContent, nil, nil
}
