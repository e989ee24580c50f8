package connections

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/steps/lever/client"
)

// APIKeyRequest creates (or replaces) a connection that uses a Lever API
// key.
type APIKeyRequest struct {
	// UserID is the connected user who owns it ("" = the workspace).
	UserID string
	// Name matches ^[a-z0-9][a-z0-9-]{0,62}$ and is unique per user.
	Name        string
	Environment string
	// APIKey may be empty for an environment with a built-in key (local).
	APIKey string
	// Replace allows overwriting an existing connection of that name.
	Replace bool
	// ConfirmAccountChange allows the replacement to reach another Lever
	// account.
	ConfirmAccountChange bool
}

// CreateAPIKey checks the key against Lever (one users list call, which
// also identifies the account) and stores the connection. A key Lever
// rejects is refused with an *AuthError; nothing is written on failure.
func (m *Manager) CreateAPIKey(ctx context.Context, req APIKeyRequest) (*Connection, error) {
	if err := checkName(req.Name); err != nil {
		return nil, err
	}
	if err := checkUserID(req.UserID); err != nil {
		return nil, err
	}
	env, err := m.environment(req.Environment)
	if err != nil {
		return nil, err
	}
	key := strings.TrimSpace(req.APIKey)
	if key == "" {
		key = env.APIKey
	}
	if err := checkAPIKey(key, req.Environment); err != nil {
		return nil, err
	}
	old, err := m.existing(ctx, req.UserID, req.Name)
	if err != nil {
		return nil, err
	}
	if old != nil && !req.Replace {
		return nil, nameTaken(req.Name)
	}

	cl, err := client.New(client.Config{
		BaseURL:    env.APIURL,
		APIKey:     key,
		HTTPClient: m.hc,
		Limiter:    m.limiter(apiKeyCredential(req.Environment, key)),
		MaxRetries: 2,
		RetryBase:  200 * time.Millisecond,
		RetryMax:   2 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", req.Name, err)
	}
	acct, warnings, err := identify(ctx, cl)
	if errors.Is(err, client.ErrUnauthorized) {
		var apiErr *client.APIError
		desc := "Lever rejected the API key (401)"
		if errors.As(err, &apiErr) && apiErr.Message != "" {
			desc += ": " + apiErr.Message
		}
		return nil, fmt.Errorf("connection %q: %w", req.Name, newAuthError("invalid_api_key", desc, env.WebApp))
	}
	if err != nil {
		return nil, fmt.Errorf("connection %q: checking the API key with Lever: %w", req.Name, err)
	}
	if err := checkAccountChange(old, acct, req.ConfirmAccountChange); err != nil {
		return nil, err
	}

	sealed, err := m.sealSecrets(req.UserID, req.Name, secrets{APIKey: key})
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", req.Name, err)
	}
	now := m.now()
	c := &store.Connection{
		UserID:      req.UserID,
		Name:        req.Name,
		Provider:    provider,
		Environment: req.Environment,
		Auth:        AuthAPIKey,
		Status:      StatusConnected,
		Secrets:     sealed,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	writePublic(c, publicData{Account: acct, CredentialID: randomToken(12), Warnings: warnings})
	if err := m.save(ctx, c, old); err != nil {
		return nil, err
	}
	m.log.Info("Lever connection saved", "connection", req.Name, "user_id", req.UserID, "auth", AuthAPIKey, "replaced", old != nil)
	v := m.view(c)
	return &v, nil
}

func checkAPIKey(key, env string) error {
	switch {
	case key == "":
		return invalidf("api_key", "required for the %s environment: create one in Lever under Settings > Integrations and API > API Credentials", env)
	case strings.ContainsFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return invalidf("api_key", "contains whitespace; paste the key alone, exactly as Lever shows it")
	case strings.Contains(key, ":"):
		return invalidf("api_key", "contains a colon; paste the key alone, not \"key:\" or a Basic auth header")
	case len(key) > 512:
		return invalidf("api_key", "is %d characters long; a Lever API key is much shorter, paste the key alone", len(key))
	}
	return nil
}

// apiKeyCredential names a key's rate-limit bucket without holding the key.
func apiKeyCredential(env, key string) string {
	return "key:" + hashHex(env+"\x00"+key)
}

// identify finds the Lever account a credential reaches. Lever v1 has no
// "me" endpoint, so the account is identified by its earliest-created
// Super Admin (deactivated ones included, so the identity survives a
// deactivation). A credential that may not read users (403) is accepted
// with a warning and an unidentified account.
func identify(ctx context.Context, cl *client.Client) (Account, []string, error) {
	var admins []client.User
	for u, err := range cl.ListUsers(ctx, client.ListUsersParams{
		AccessRoles:        []string{client.RoleSuperAdmin},
		IncludeDeactivated: true,
		ListOptions:        client.ListOptions{Limit: 100, MaxItems: 1000},
	}) {
		if err != nil {
			var apiErr *client.APIError
			if errors.As(err, &apiErr) && apiErr.Status == http.StatusForbidden {
				return Account{}, []string{"could not identify the Lever account: the credential may not read users (403); replacing this connection will ask for confirmation"}, nil
			}
			return Account{}, nil, err
		}
		admins = append(admins, u)
	}
	if len(admins) == 0 {
		return Account{}, []string{"could not identify the Lever account: it lists no Super Admin"}, nil
	}
	first := slices.MinFunc(admins, func(a, b client.User) int {
		return cmp.Or(cmp.Compare(a.CreatedAt, b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return Account{
		Name:         emailDomain(first.Email),
		UserID:       first.ID,
		UserEmail:    first.Email,
		SuperAdminID: first.ID,
	}, nil, nil
}

func emailDomain(email string) string {
	if _, d, ok := strings.Cut(email, "@"); ok {
		return d
	}
	return ""
}
