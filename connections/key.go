package connections

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeySize is the length of the secret key: AES-256.
const KeySize = 32

// keyFormats says what LoadKey accepts, for error messages.
const keyFormats = "32 random bytes written as base64 (44 characters, e.g. the output of `openssl rand -base64 32`) or as 64 hex characters"

// LoadKey returns the 32-byte key that seals connection secrets.
//
// When envValue (the value of LEVERFLOW_SECRET_KEY) is set it must hold the
// key as standard or URL-safe base64 (padded or not) or as 64 hex
// characters. Otherwise the key is read from keyFile; a missing file is
// created with mode 0600 holding a fresh random key in base64, and a file
// that group or others may read is refused. Errors never repeat the key.
func LoadKey(envValue, keyFile string) ([]byte, error) {
	if v := strings.TrimSpace(envValue); v != "" {
		key, err := parseKey(v)
		if err != nil {
			return nil, fmt.Errorf("LEVERFLOW_SECRET_KEY: %w", err)
		}
		return key, nil
	}
	if keyFile == "" {
		return nil, fmt.Errorf("%w: secret key: set LEVERFLOW_SECRET_KEY or give a key file path", ErrInvalid)
	}
	key, err := readKeyFile(keyFile)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKeyFile(keyFile)
		if errors.Is(err, fs.ErrExist) { // another process made it first
			key, err = readKeyFile(keyFile)
		}
	}
	if err != nil {
		return nil, err
	}
	return key, nil
}

func parseKey(v string) ([]byte, error) {
	if len(v) == 2*KeySize {
		if key, err := hex.DecodeString(v); err == nil {
			return key, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(v); err == nil {
			if len(key) == KeySize {
				return key, nil
			}
			return nil, fmt.Errorf("%w: the key decodes to %d bytes; want %s", ErrInvalid, len(key), keyFormats)
		}
	}
	return nil, fmt.Errorf("%w: the key (%d characters) is neither base64 nor hex; want %s", ErrInvalid, len(v), keyFormats)
}

func readKeyFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading secret key file: %w", err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: secret key file %s has mode %#o and is readable by group or others; run `chmod 600 %s`",
			ErrInvalid, path, info.Mode().Perm(), path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading secret key file: %w", err)
	}
	key, err := parseKey(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return key, nil
}

func createKeyFile(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating secret key file: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("creating secret key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating secret key file: %w", err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("writing secret key file: %w", err)
	}
	return key, nil
}

// sealVersion is the first byte of every sealed blob: AES-256-GCM with a
// random 12-byte nonce. A new format gets a new version.
const sealVersion byte = 1

// sealer encrypts secrets with AES-256-GCM. The additional data binds a
// blob to its owner (a connection's user id and name, or an OAuth state),
// so a blob copied to another row does not open.
type sealer struct{ aead cipher.AEAD }

var errOpen = errors.New("sealed secret does not open: it is corrupt, was sealed with another key, or belongs to another record")

func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: Key: want %d bytes (AES-256), got %d", ErrInvalid, KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("building cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("building cipher: %w", err)
	}
	return &sealer{aead: aead}, nil
}

// seal returns version || nonce || ciphertext+tag.
func (s *sealer) seal(plaintext, ad []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("sealing: %w", err)
	}
	return s.aead.Seal(out, out[1:1+ns], plaintext, s.fullAD(ad)), nil
}

func (s *sealer) open(blob, ad []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(blob) < 1+ns+s.aead.Overhead() || blob[0] != sealVersion {
		return nil, errOpen
	}
	pt, err := s.aead.Open(nil, blob[1:1+ns], blob[1+ns:], s.fullAD(ad))
	if err != nil {
		return nil, errOpen
	}
	return pt, nil
}

// fullAD prefixes the version so a blob cannot be replayed under another
// format.
func (s *sealer) fullAD(ad []byte) []byte {
	return append([]byte{sealVersion}, ad...)
}

// connectionAD is the additional data of a connection's secrets.
func connectionAD(userID, name string) []byte {
	return []byte("leverflow/connection\x00" + userID + "\x00" + name)
}

// stateAD is the additional data of an OAuth state's payload.
func stateAD(id string) []byte {
	return []byte("leverflow/oauth-state\x00" + id)
}
