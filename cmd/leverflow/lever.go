package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// sandboxSeed is the seed of the demo data the built-in sandbox serves to
// `run` and `test`, the same as `leverflow sandbox`'s default, so ids
// printed by one are found by the others.
const sandboxSeed = 1

// localLever is the built-in Lever sandbox served on 127.0.0.1 for one
// command, with Lever's rate limit on. It implements lever.Clients: every
// connection name reaches it with its API key (configured connections come
// with the server).
type localLever struct {
	sb     *sandbox.Sandbox
	srv    *http.Server
	root   string
	client *client.Client
}

func startLocalLever() (*localLever, error) {
	sb := sandbox.New(sandbox.Options{Seed: sandboxSeed})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sb.Close()
		return nil, fmt.Errorf("starting the built-in Lever sandbox: %w", err)
	}
	l := &localLever{sb: sb, srv: &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second},
		root: "http://" + ln.Addr().String() + "/v1"}
	// One client for every connection: its token bucket is the key's, as
	// Lever's is.
	l.client, err = client.New(client.Config{BaseURL: l.root, APIKey: sb.APIKey()})
	if err != nil {
		ln.Close()
		sb.Close()
		return nil, err
	}
	go func() { _ = l.srv.Serve(ln) }()
	return l, nil
}

// Client implements lever.Clients.
func (l *localLever) Client(context.Context, string, string) (*client.Client, error) {
	return l.client, nil
}

func (l *localLever) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.srv.Shutdown(ctx)
	l.sb.Close()
}

// sink is a local HTTP endpoint that accepts any request and records it,
// so a workflow that sends data out (a directory sync) can run on a
// machine with nowhere to send it.
type sink struct {
	srv *http.Server
	url string

	mu       sync.Mutex
	requests int
	bytes    int64
	items    int
}

func startSink(addr string) (*sink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--sink: listening on %s: %w (choose another address)", addr, err)
	}
	s := &sink{url: "http://" + ln.Addr().String()}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	var v any
	items := 0
	if json.Unmarshal(body, &v) == nil {
		switch v := v.(type) {
		case []any:
			items = len(v)
		case map[string]any:
			if list, ok := v["users"].([]any); ok {
				items = len(list)
			}
		}
	}
	s.mu.Lock()
	s.requests++
	s.bytes += int64(len(body))
	s.items += items
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"received": %d}`+"\n", len(body))
}

// summary says what the sink received, and how many requests.
func (s *sink) summary() (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, fmt.Sprintf("sink %s received %d request(s), %d bytes, %d list item(s)", s.url, s.requests, s.bytes, s.items)
}

func (s *sink) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = s.srv.Close()
	}
}
