package connections

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// FuzzParseKey: any LEVERFLOW_SECRET_KEY value gives a 32-byte key or an
// ErrInvalid error, and never panics.
func FuzzParseKey(f *testing.F) {
	key := bytes.Repeat([]byte{0xfb}, KeySize)
	for _, seed := range []string{
		base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key),
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "", "short", "====",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		k, err := parseKey(v)
		if err == nil && len(k) != KeySize {
			t.Fatalf("parseKey(%q) = %d bytes without error", v, len(k))
		}
	})
}

// FuzzReadClaims: any access token string is read without panicking.
func FuzzReadClaims(f *testing.F) {
	f.Add("a." + base64URL([]byte(`{"https://oauth.lever.co/accountId":"x","exp":5}`)) + ".c")
	f.Add("..")
	f.Add("opaque")
	f.Fuzz(func(t *testing.T, tok string) {
		_ = readClaims(tok)
	})
}
