package connections

import (
	"errors"
	"fmt"
	"strings"

	"github.com/leverflow/leverflow/steps"
)

// Sentinel errors callers branch on (the API maps them to statuses). Every
// error a Manager returns wraps at most one of them, with a message that
// says what was wrong and how to fix it.
var (
	// ErrInvalid: bad input; the message names the field and the reason.
	ErrInvalid = errors.New("invalid connection request")
	// ErrNameTaken: the user already has a connection with that name;
	// replacing it needs Replace: true.
	ErrNameTaken = errors.New("connection name already in use")
	// ErrDifferentAccount: replacing the connection would point it at
	// another Lever account; that needs ConfirmAccountChange: true.
	ErrDifferentAccount = errors.New("credentials reach a different Lever account")
	// ErrNotFound: no such connection.
	ErrNotFound = errors.New("connection not found")
	// ErrBadState: the OAuth callback's state is missing, unknown, expired
	// or already used, or the callback came from another browser or user
	// than the one that started the authorization (the CSRF check failed).
	ErrBadState = errors.New("invalid OAuth state")
	// ErrNeedsReauth: the connection's authorization is gone (refresh
	// token expired or revoked, API key rejected) and a person must
	// reconnect it.
	ErrNeedsReauth = errors.New("connection needs to be reconnected")
)

// AuthError is a failed Lever authorization: an error on the OAuth
// callback, a refused code exchange, or an API key Lever rejects. Fix lists
// the steps that resolve the known cases.
type AuthError struct {
	// Code is Lever's OAuth error code ("access_denied", "invalid_grant")
	// or "invalid_api_key".
	Code string `json:"code"`
	// Description is Lever's error_description (or our explanation).
	Description string `json:"description"`
	// Fix is what to do about it, one step per item.
	Fix []string `json:"fix,omitempty"`
}

func (e *AuthError) Error() string {
	msg := "Lever refused the authorization"
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// reauthError carries the user-facing needs_reauth message verbatim and
// matches ErrNeedsReauth. It unwraps to a permanent step error, so a Lever
// step that meets it (from Client, or from the token source in the middle
// of a call) fails at once: retrying cannot reconnect the account.
type reauthError struct{ msg string }

// permanentReauth is what every reauthError unwraps to.
var permanentReauth = steps.Permanent(ErrNeedsReauth)

func (e *reauthError) Error() string        { return e.msg }
func (e *reauthError) Is(target error) bool { return target == ErrNeedsReauth }
func (e *reauthError) Unwrap() error        { return permanentReauth }

// invalidf builds an ErrInvalid error: "<field>: <reason>".
func invalidf(field, format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, a...))
}

// Lever's Settings path for authorized OAuth apps.
const authorizedAppsPath = "Settings > Integrations and API > Authorized Apps"

// newAuthError maps an OAuth error code and description to an *AuthError
// with the steps that fix the known cases. Unknown errors keep Lever's
// description.
func newAuthError(code, description, webApp string) *AuthError {
	e := &AuthError{Code: code, Description: description}
	lower := strings.ToLower(description)
	switch {
	case strings.Contains(lower, "not logged into lever recently"):
		e.Fix = []string{
			"Log in to Lever directly (" + webApp + ") as the user who authorizes the app.",
			"In Lever, open " + authorizedAppsPath + " and revoke this app.",
			"Authorize the connection again.",
		}
	case code == "access_denied":
		if e.Description == "" {
			e.Description = "the authorization was refused on Lever's consent screen"
		}
		e.Fix = []string{
			"The Lever user pressed Deny on the consent screen, or may not authorize apps for the account.",
			"Ask a Lever Super Admin to authorize the connection: only Super Admins can authorize an app for the whole account.",
		}
	case code == "invalid_client" || code == "unauthorized_client":
		e.Fix = []string{
			"Check the Client ID and Client Secret against the app's settings in Lever.",
			"Make sure the app's registered redirect URI is exactly this server's callback URL.",
		}
	case code == "invalid_grant":
		e.Fix = []string{"The authorization code expired or was already used: start connecting again."}
	case code == "invalid_scope":
		e.Fix = []string{"Remove the scopes the Lever app is not allowed to request, then connect again."}
	case code == "invalid_api_key":
		e.Fix = []string{
			"Copy the key again from Lever's Settings > Integrations and API > API Credentials; it is shown whole only when created.",
			"Check the key is active and belongs to the chosen environment (a sandbox key does not work on production).",
		}
	default:
		e.Fix = []string{"Start connecting again; if it keeps failing, check the app's settings in Lever."}
	}
	return e
}
