package connections

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/steps/lever/client"
)

// WebhookEvents are the events Lever pushes through webhooks, the default
// of RegisterWebhooks: every Lever event of the webhook trigger types (a
// test checks they agree with triggers' LeverEvents).
var WebhookEvents = []string{
	client.EventApplicationCreated, client.EventCandidateHired, client.EventCandidateStageChange,
	client.EventCandidateArchiveChange, client.EventCandidateDeleted, client.EventInterviewCreated,
	client.EventInterviewUpdated, client.EventInterviewDeleted, client.EventContactCreated,
	client.EventContactUpdated,
}

// Webhook timings. webhookClaimTTL is how long a registration claim holds
// other processes off (a registration is a list and at most a few dozen
// calls); webhookCacheTTL is how long WebhookSecrets trusts its cache for
// changes made by other processes (this process's own changes invalidate
// it at once).
const (
	webhookClaimTTL = 2 * time.Minute
	webhookCacheTTL = 10 * time.Second
)

// WebhookSet is the public view of a connection's webhooks: where Lever
// delivers and, per event, the webhook Lever delivers it through. It never
// holds a signature token.
type WebhookSet struct {
	// URL is the receiver every webhook delivers to.
	URL string `json:"url"`
	// Events are the registered webhooks, ordered by event.
	Events []RegisteredWebhook `json:"events"`
}

// RegisteredWebhook is one Lever webhook of a connection.
type RegisteredWebhook struct {
	Event     string    `json:"event"`
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *WebhookSet) clone() *WebhookSet {
	if s == nil {
		return nil
	}
	return &WebhookSet{URL: s.URL, Events: slices.Clone(s.Events)}
}

// webhookSecret is what the sealed secrets hold of one webhook.
type webhookSecret struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

// cachedWebhooks is WebhookSecrets' cache entry of one connection.
type cachedWebhooks struct {
	tokens  map[string]string
	expires time.Time
}

// webhookCache caches the signature tokens per connection. gen counts
// invalidations, so a fill that read the store before an invalidation is
// not kept.
type webhookCache struct {
	entries map[connKey]*cachedWebhooks
	gen     map[connKey]uint64
}

// RegisterWebhooks makes the connection's Lever account deliver events
// (nil or empty: WebhookEvents) to receiverURL, the server's POST
// /hooks/lever/<name>.
//
// It is idempotent. It lists the account's webhooks and keeps those that
// already deliver a wanted event to receiverURL and whose signature token
// the connection holds; it deletes the connection's stale ones (ones at
// receiverURL whose token it does not hold, duplicates, events no longer
// wanted, and its own webhooks at another URL), creates the missing ones
// and seals every signature token in the connection's secrets, in one
// revision-checked write that keeps any token refresh made meanwhile. One
// registration runs at a time per connection (a lock in this process, a
// claim in the store across processes).
//
// Lever requires an HTTPS receiver with a CA-signed certificate, so
// production and sandbox connections refuse anything else; the local
// sandbox accepts http. The credentials need webhooks:read:admin and
// webhooks:write:admin.
func (m *Manager) RegisterWebhooks(ctx context.Context, userID, name, receiverURL string, events []string) (*WebhookSet, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := checkUserID(userID); err != nil {
		return nil, err
	}
	if err := checkURL(receiverURL); err != nil {
		return nil, invalidf("receiver_url", "%v", err)
	}
	wanted, err := webhookEvents(events)
	if err != nil {
		return nil, err
	}
	k := connKey{userID, name}
	unlock, err := m.lockWebhooks(ctx, k)
	if err != nil {
		return nil, err
	}
	defer unlock()

	c, sec, err := m.claimWebhooks(ctx, k)
	if err != nil {
		return nil, err
	}
	if u, _ := url.Parse(receiverURL); u.Scheme != "https" && (c.Environment == EnvProduction || c.Environment == EnvSandbox) {
		m.releaseWebhooks(ctx, c)
		return nil, invalidf("receiver_url", "Lever delivers webhooks only to https URLs with a CA-signed certificate, not %q", receiverURL)
	}
	cl, err := m.Client(ctx, userID, name)
	if err != nil {
		m.releaseWebhooks(ctx, c)
		return nil, fmt.Errorf("registering the webhooks of connection %q: %w", name, err)
	}
	listed, err := listWebhooks(ctx, cl)
	if err != nil {
		m.releaseWebhooks(ctx, c)
		return nil, fmt.Errorf("registering the webhooks of connection %q: %w", name, err)
	}

	// Plan: keep, delete, create.
	next := map[string]webhookSecret{}
	set := &WebhookSet{URL: receiverURL}
	var stale []string
	for _, w := range listed {
		h, held := sec.Webhooks[w.Event]
		ours := held && h.ID == w.ID && h.Token != ""
		_, taken := next[w.Event]
		switch {
		case ours && w.URL == receiverURL && slices.Contains(wanted, w.Event) && !taken:
			next[w.Event] = h
			set.Events = append(set.Events, RegisteredWebhook{Event: w.Event, ID: w.ID, CreatedAt: w.CreatedAt.Time()})
		case ours || w.URL == receiverURL || slices.Contains(sec.StaleWebhooks, w.ID):
			stale = append(stale, w.ID)
		}
	}
	var created []string
	for _, event := range wanted {
		if _, ok := next[event]; ok {
			continue
		}
		w, err := cl.CreateWebhook(ctx, client.WebhookInput{URL: receiverURL, Event: event})
		if err == nil && w.Configuration.SignatureToken == "" {
			created = append(created, w.ID)
			err = errors.New("Lever returned no signature token")
		}
		if err != nil {
			m.dropWebhooks(ctx, cl, name, created)
			m.releaseWebhooks(ctx, c)
			return nil, fmt.Errorf("registering the webhooks of connection %q: creating the %s webhook: %w", name, event, err)
		}
		created = append(created, w.ID)
		next[event] = webhookSecret{ID: w.ID, Token: w.Configuration.SignatureToken}
		set.Events = append(set.Events, RegisteredWebhook{Event: event, ID: w.ID, CreatedAt: w.CreatedAt.Time()})
	}
	slices.SortFunc(set.Events, func(a, b RegisteredWebhook) int { return cmp.Compare(a.Event, b.Event) })
	failed, delErr := m.deleteWebhooks(ctx, cl, stale)

	if err := m.saveWebhooks(ctx, c, next, set, failed); err != nil {
		m.dropWebhooks(ctx, cl, name, created)
		m.releaseWebhooks(ctx, c)
		return nil, err
	}
	m.log.Info("Lever webhooks registered", "connection", name, "user_id", userID,
		"events", len(set.Events), "created", len(created), "deleted", len(stale)-len(failed))
	if delErr != nil {
		return set.clone(), fmt.Errorf("registering the webhooks of connection %q: the new webhooks are saved, but deleting %d stale ones failed (the next registration tries again): %w", name, len(failed), delErr)
	}
	return set.clone(), nil
}

// UnregisterWebhooks deletes the connection's webhooks from Lever (and any
// left at their receiver URL without a token held) and forgets their
// signature tokens. A connection without webhooks is left alone.
func (m *Manager) UnregisterWebhooks(ctx context.Context, userID, name string) error {
	k := connKey{userID, name}
	if c, err := m.load(ctx, userID, name); err != nil {
		return err
	} else if !m.hasWebhooks(c) {
		return nil // nothing to do: no claim, no write
	}
	unlock, err := m.lockWebhooks(ctx, k)
	if err != nil {
		return err
	}
	defer unlock()
	c, sec, err := m.claimWebhooks(ctx, k)
	if err != nil {
		return err
	}
	pd := readPublic(c)
	if len(sec.Webhooks) == 0 && len(sec.StaleWebhooks) == 0 && pd.Webhooks == nil {
		m.releaseWebhooks(ctx, c) // unregistered meanwhile
		return nil
	}
	cl, err := m.Client(ctx, userID, name)
	if err != nil {
		m.releaseWebhooks(ctx, c)
		return fmt.Errorf("unregistering the webhooks of connection %q: %w", name, err)
	}
	listed, err := listWebhooks(ctx, cl)
	if err != nil {
		m.releaseWebhooks(ctx, c)
		return fmt.Errorf("unregistering the webhooks of connection %q: %w", name, err)
	}
	held := map[string]bool{}
	for _, h := range sec.Webhooks {
		held[h.ID] = true
	}
	var ids []string
	for _, w := range listed {
		if held[w.ID] || slices.Contains(sec.StaleWebhooks, w.ID) || (pd.Webhooks != nil && w.URL == pd.Webhooks.URL) {
			ids = append(ids, w.ID)
		}
	}
	failed, delErr := m.deleteWebhooks(ctx, cl, ids)
	if err := m.saveWebhooks(ctx, c, nil, nil, failed); err != nil {
		m.releaseWebhooks(ctx, c)
		return err
	}
	m.log.Info("Lever webhooks unregistered", "connection", name, "user_id", userID, "deleted", len(ids)-len(failed))
	if delErr != nil {
		return fmt.Errorf("unregistering the webhooks of connection %q: deleting %d of them failed (the next registration or unregistration tries again): %w", name, len(failed), delErr)
	}
	return nil
}

// WebhookSecrets returns the signature token of each registered event
// (event name → token) for the receiver to verify a delivery with: an
// empty map when none is registered, ErrNotFound for an unknown
// connection. The result is the caller's to change.
//
// Every delivery needs it, so it is cached in memory: this process's
// changes to the connection invalidate the cache at once, other
// processes' after at most 10 seconds (Lever retries a delivery that
// failed verification meanwhile).
func (m *Manager) WebhookSecrets(ctx context.Context, userID, name string) (map[string]string, error) {
	k := connKey{userID, name}
	now := m.now()
	m.mu.Lock()
	e := m.hooks.entries[k]
	gen := m.hooks.gen[k]
	m.mu.Unlock()
	if e != nil && now.Before(e.expires) {
		return maps.Clone(e.tokens), nil
	}
	c, err := m.load(ctx, userID, name)
	if err != nil {
		return nil, err
	}
	sec, err := m.openSecrets(c)
	if err != nil {
		return nil, err
	}
	tokens := make(map[string]string, len(sec.Webhooks))
	for event, h := range sec.Webhooks {
		tokens[event] = h.Token
	}
	m.mu.Lock()
	if m.hooks.gen[k] == gen {
		m.hooks.entries[k] = &cachedWebhooks{tokens: tokens, expires: now.Add(webhookCacheTTL)}
	}
	m.mu.Unlock()
	return maps.Clone(tokens), nil
}

// forgetWebhooks drops the cached signature tokens of a connection.
func (m *Manager) forgetWebhooks(k connKey) {
	m.mu.Lock()
	delete(m.hooks.entries, k)
	m.hooks.gen[k]++
	m.mu.Unlock()
}

// hasWebhooks tells whether c may have webhooks in Lever: registered or
// stale ones, or secrets that cannot be opened (the caller's next step
// reports that).
func (m *Manager) hasWebhooks(c *store.Connection) bool {
	sec, err := m.openSecrets(c)
	return err != nil || readPublic(c).Webhooks != nil || len(sec.Webhooks) > 0 || len(sec.StaleWebhooks) > 0
}

// webhookEvents checks and normalizes the requested events.
func webhookEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return slices.Sorted(slices.Values(WebhookEvents)), nil
	}
	out := make([]string, 0, len(events))
	for _, e := range events {
		if !slices.Contains(WebhookEvents, e) {
			return nil, invalidf("events", "%q is not a Lever webhook event; Lever pushes %v", e, WebhookEvents)
		}
		out = append(out, e)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// lockWebhooks serializes the webhook changes of one connection in this
// process; the store claim does it across processes.
func (m *Manager) lockWebhooks(ctx context.Context, k connKey) (unlock func(), err error) {
	m.mu.Lock()
	ch := m.hookLocks[k]
	if ch == nil {
		ch = make(chan struct{}, 1)
		m.hookLocks[k] = ch
	}
	m.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for another change of the webhooks of connection %q: %w", k.name, ctx.Err())
	}
}

// claimWebhooks records in the connection that this process is changing
// its webhooks (conditional on the revision read), after waiting for
// another process's live claim to end, and returns the connection at the
// claim's revision with its secrets.
func (m *Manager) claimWebhooks(ctx context.Context, k connKey) (*store.Connection, secrets, error) {
	for {
		c, err := m.load(ctx, k.userID, k.name)
		if err != nil {
			return nil, secrets{}, err
		}
		sec, err := m.openSecrets(c)
		if err != nil {
			return nil, secrets{}, err
		}
		pd := readPublic(c)
		now := m.now()
		if until := pd.WebhookClaimUntil; until != nil && now.Before(*until) && pd.WebhookClaimOwner != m.owner {
			if err := m.sleep(ctx, min(claimPoll, until.Sub(now))); err != nil {
				return nil, secrets{}, fmt.Errorf("waiting for another process to change the webhooks of connection %q: %w", k.name, err)
			}
			continue
		}
		until := now.Add(webhookClaimTTL)
		pd.WebhookClaimUntil, pd.WebhookClaimOwner = &until, m.owner
		writePublic(c, pd)
		switch err := m.store.UpdateConnection(ctx, c); {
		case errors.Is(err, store.ErrConflict):
			continue // changed meanwhile (refreshed, claimed): read it again
		case errors.Is(err, store.ErrNotFound):
			return nil, secrets{}, fmt.Errorf("%w: no connection named %q (it was deleted)", ErrNotFound, k.name)
		case err != nil:
			return nil, secrets{}, fmt.Errorf("claiming the webhooks of connection %q: %w", k.name, err)
		}
		return c, sec, nil
	}
}

// releaseWebhooks clears this process's claim after a change that saved
// nothing; a claim it cannot clear expires by itself.
func (m *Manager) releaseWebhooks(ctx context.Context, c *store.Connection) {
	for range 3 {
		pd := readPublic(c)
		if pd.WebhookClaimOwner != m.owner {
			return
		}
		pd.WebhookClaimUntil, pd.WebhookClaimOwner = nil, ""
		writePublic(c, pd)
		err := m.store.UpdateConnection(ctx, c)
		if !errors.Is(err, store.ErrConflict) {
			return
		}
		fresh, gerr := m.store.GetConnection(ctx, c.UserID, c.Name)
		if gerr != nil {
			return
		}
		c = fresh
	}
}

// saveWebhooks stores the webhooks (tokens sealed, the view public) and
// clears the claim. c is at the claim's revision; when the connection
// changed meanwhile (a token refresh), it is read again and the webhooks
// are written over the fresh secrets, so neither change is lost. It fails
// when the credentials were replaced or the claim was taken over.
func (m *Manager) saveWebhooks(ctx context.Context, c *store.Connection, hooks map[string]webhookSecret, set *WebhookSet, stale []string) error {
	k := connKey{c.UserID, c.Name}
	credID := readPublic(c).CredentialID
	for attempt := 0; ; attempt++ {
		sec, err := m.openSecrets(c)
		if err != nil {
			return err
		}
		sec.Webhooks, sec.StaleWebhooks = hooks, stale
		sealed, err := m.sealSecrets(c.UserID, c.Name, sec)
		if err != nil {
			return fmt.Errorf("saving the webhooks of connection %q: %w", c.Name, err)
		}
		pd := readPublic(c)
		pd.Webhooks = set.clone()
		pd.WebhookClaimUntil, pd.WebhookClaimOwner = nil, ""
		writePublic(c, pd)
		c.Secrets, c.UpdatedAt = sealed, m.now()
		err = m.store.UpdateConnection(ctx, c)
		if err == nil {
			m.forgetWebhooks(k)
			return nil
		}
		if !errors.Is(err, store.ErrConflict) || attempt >= 5 {
			return fmt.Errorf("saving the webhooks of connection %q: %w", c.Name, err)
		}
		fresh, err := m.load(ctx, c.UserID, c.Name)
		if err != nil {
			return fmt.Errorf("saving the webhooks of connection %q: %w", c.Name, err)
		}
		fpd := readPublic(fresh)
		if fpd.CredentialID != credID || fpd.WebhookClaimOwner != m.owner {
			return fmt.Errorf("saving the webhooks of connection %q: it was replaced or its webhooks changed elsewhere meanwhile; try again", c.Name)
		}
		c = fresh
	}
}

// listWebhooks returns every webhook of the account.
func listWebhooks(ctx context.Context, cl *client.Client) ([]client.Webhook, error) {
	var out []client.Webhook
	for w, err := range cl.ListWebhooks(ctx, client.ListOptions{}) {
		if err != nil {
			return nil, fmt.Errorf("listing Lever's webhooks: %w", err)
		}
		out = append(out, w)
	}
	return out, nil
}

// deleteWebhooks deletes ids from Lever (one already gone counts as
// deleted) and returns the ones it could not delete.
func (m *Manager) deleteWebhooks(ctx context.Context, cl *client.Client, ids []string) (failed []string, err error) {
	var errs []error
	for _, id := range ids {
		if derr := cl.DeleteWebhook(ctx, id); derr != nil && !errors.Is(derr, client.ErrNotFound) {
			failed = append(failed, id)
			errs = append(errs, fmt.Errorf("deleting webhook %s: %w", id, derr))
		}
	}
	return failed, errors.Join(errs...)
}

// dropWebhooks deletes webhooks this process created but could not save
// (best effort: leftovers at the receiver URL are deleted by the next
// registration).
func (m *Manager) dropWebhooks(ctx context.Context, cl *client.Client, name string, ids []string) {
	if _, err := m.deleteWebhooks(context.WithoutCancel(ctx), cl, ids); err != nil {
		m.log.Warn("could not delete Lever webhooks that were created but not saved; the next registration deletes them", "connection", name)
	}
}

// carryWebhooks keeps the webhooks of old in c, which replaces its
// credentials, when c reaches the same Lever account in the same
// environment; otherwise they stay in the old account, and a warning says
// so. c.Secrets is sealed again.
func (m *Manager) carryWebhooks(c, old *store.Connection) error {
	opd := readPublic(old)
	osec, err := m.openSecrets(old)
	if err != nil || (len(osec.Webhooks) == 0 && len(osec.StaleWebhooks) == 0 && opd.Webhooks == nil) {
		return nil // nothing to carry (or nothing readable)
	}
	pd := readPublic(c)
	if same, known := sameAccount(opd.Account, pd.Account); old.Environment != c.Environment || !known || !same {
		m.log.Warn("the replaced connection's Lever webhooks stay in the previous account; delete them there", "connection", c.Name, "user_id", c.UserID)
		return nil
	}
	sec, err := m.openSecrets(c)
	if err != nil {
		return err
	}
	sec.Webhooks, sec.StaleWebhooks = osec.Webhooks, osec.StaleWebhooks
	sealed, err := m.sealSecrets(c.UserID, c.Name, sec)
	if err != nil {
		return fmt.Errorf("saving connection %q: %w", c.Name, err)
	}
	c.Secrets = sealed
	pd.Webhooks = opd.Webhooks.clone()
	writePublic(c, pd)
	return nil
}
