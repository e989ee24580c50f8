package connections

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadKeyFromEnv(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{0xfb}, KeySize) // 0xfb makes + and / in base64
	tests := []struct {
		name  string
		value string
	}{
		{"base64 std", base64.StdEncoding.EncodeToString(key)},
		{"base64 url", base64.URLEncoding.EncodeToString(key)},
		{"base64 raw url", base64.RawURLEncoding.EncodeToString(key)},
		{"hex", hex.EncodeToString(key)},
		{"hex with spaces around", "  " + hex.EncodeToString(key) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The key file must not be touched when the env value is set.
			file := filepath.Join(t.TempDir(), "key")
			got, err := LoadKey(tt.value, file)
			if err != nil {
				t.Fatalf("LoadKey: %v", err)
			}
			if !bytes.Equal(got, key) {
				t.Fatalf("LoadKey = %x, want %x", got, key)
			}
			if _, err := os.Stat(file); !os.IsNotExist(err) {
				t.Errorf("key file was created although the env value was set (stat: %v)", err)
			}
		})
	}
}

func TestLoadKeyBadEnv(t *testing.T) {
	t.Parallel()
	short := base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))
	tests := []struct {
		name, value, want string
	}{
		{"too short", short, "decodes to 16 bytes"},
		{"not an encoding", "correct horse battery staple!", "neither base64 nor hex"},
		{"hex of wrong length", strings.Repeat("ab", 16), "decodes to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadKey(tt.value, "")
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("LoadKey error = %v, want ErrInvalid", err)
			}
			msg := err.Error()
			for _, want := range []string{"LEVERFLOW_SECRET_KEY", tt.want, "base64", "64 hex characters"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			if strings.Contains(msg, tt.value) {
				t.Errorf("error %q repeats the secret value", msg)
			}
		})
	}
}

func TestLoadKeyFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "data", "secret.key")
	first, err := LoadKey("", file)
	if err != nil {
		t.Fatalf("LoadKey creating the file: %v", err)
	}
	if len(first) != KeySize {
		t.Fatalf("key length = %d, want %d", len(first), KeySize)
	}
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %#o, want 0600", perm)
	}
	raw, _ := os.ReadFile(file)
	if strings.TrimSpace(string(raw)) != base64.StdEncoding.EncodeToString(first) {
		t.Errorf("key file does not hold the key in base64")
	}
	again, err := LoadKey("", file)
	if err != nil {
		t.Fatalf("LoadKey reading the file: %v", err)
	}
	if !bytes.Equal(first, again) {
		t.Error("second LoadKey returned a different key")
	}
}

func TestLoadKeyFileRefused(t *testing.T) {
	t.Parallel()
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, KeySize))
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    []string
	}{
		{"group readable", good, 0o640, []string{"readable by group or others", "chmod 600"}},
		{"world readable", good, 0o604, []string{"0604", "chmod 600"}},
		{"garbage", "not a key at all", 0o600, []string{"secret key file", "base64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "key")
			if err := os.WriteFile(file, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(file, tt.mode); err != nil { // umask-proof
				t.Fatal(err)
			}
			_, err := LoadKey("", file)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("LoadKey error = %v, want ErrInvalid", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestLoadKeyNeedsASource(t *testing.T) {
	t.Parallel()
	if _, err := LoadKey("", ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("LoadKey with no env and no file = %v, want ErrInvalid", err)
	}
}

func TestSealRoundTripAndTamper(t *testing.T) {
	t.Parallel()
	s, err := newSealer(bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newSealer(bytes.Repeat([]byte{2}, KeySize))
	plain := []byte(`{"api_key":"k-123"}`)
	ad := connectionAD("u1", "acme")
	blob, err := s.seal(plain, ad)
	if err != nil {
		t.Fatal(err)
	}
	if blob[0] != sealVersion {
		t.Errorf("version byte = %d, want %d", blob[0], sealVersion)
	}
	if bytes.Contains(blob, []byte("k-123")) {
		t.Error("sealed blob holds the plaintext")
	}
	again, _ := s.seal(plain, ad)
	if bytes.Equal(blob, again) {
		t.Error("two seals of one plaintext are equal: the nonce is not random")
	}
	got, err := s.open(blob, ad)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open = %q, %v; want the plaintext", got, err)
	}

	flipped := bytes.Clone(blob)
	flipped[len(flipped)-1] ^= 1
	badVersion := bytes.Clone(blob)
	badVersion[0] = 9
	tests := []struct {
		name string
		s    *sealer
		blob []byte
		ad   []byte
	}{
		{"tampered ciphertext", s, flipped, ad},
		{"unknown version", s, badVersion, ad},
		{"truncated", s, blob[:10], ad},
		{"other connection name", s, blob, connectionAD("u1", "acme-2")},
		{"other user", s, blob, connectionAD("u2", "acme")},
		{"name and user shifted", s, blob, connectionAD("u1\x00acme", "")},
		{"oauth state", s, blob, stateAD("acme")},
		{"other key", other, blob, ad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := tt.s.open(tt.blob, tt.ad); !errors.Is(err, errOpen) {
				t.Fatalf("open = %v, want errOpen", err)
			}
		})
	}
}

func TestNewSealerKeyLength(t *testing.T) {
	t.Parallel()
	if _, err := newSealer(make([]byte, 16)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("newSealer(16 bytes) = %v, want ErrInvalid", err)
	}
}
