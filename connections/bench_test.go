package connections

import (
	"bytes"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// BenchmarkClientCached is Client for a connection whose client is cached:
// one SQLite read and a map lookup, paid once per Lever step.
func BenchmarkClientCached(b *testing.B) {
	f := setup(b)
	ctx := b.Context()
	if _, err := f.m.CreateAPIKey(ctx, APIKeyRequest{Name: "acme", Environment: EnvLocal}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.m.Client(ctx, "", "acme"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenSourceCached is the OAuth token source between refreshes,
// called before every Lever request.
func BenchmarkTokenSourceCached(b *testing.B) {
	f := setup(b)
	f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	ts := f.m.TokenSource("", "acme")
	ctx := b.Context()
	if _, err := ts(ctx); err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ts(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRefresh is one full refresh: store read, token endpoint round
// trip on loopback, seal, revision-checked write.
func BenchmarkRefresh(b *testing.B) {
	f := setup(b, func(o *setupOptions) {
		o.sandbox = func(so *sandbox.Options) { so.RefreshTokenTTL = 100 * 365 * 24 * time.Hour }
	})
	f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	ts := f.m.TokenSource("", "acme")
	ctx := b.Context()
	for b.Loop() {
		f.clock.Advance(56 * time.Minute) // inside RefreshBefore of the expiry
		if _, err := ts(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealOpen(b *testing.B) {
	s, _ := newSealer(testKey)
	plain := bytes.Repeat([]byte("x"), 1024)
	ad := connectionAD("user", "acme")
	for b.Loop() {
		blob, err := s.seal(plain, ad)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.open(blob, ad); err != nil {
			b.Fatal(err)
		}
	}
}
