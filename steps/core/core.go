package core

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/leverflow/leverflow/steps"
)

// DefaultMaxResponseBytes caps the body http.request reads when
// Options.MaxResponseBytes is not set: 10 MiB.
const DefaultMaxResponseBytes int64 = 10 << 20

// Options configures the core step types.
type Options struct {
	// HTTPClient sends http.request's requests. Nil means a client with
	// sane transport timeouts (dial, TLS handshake, idle connections); the
	// whole request is bounded by the step's own timeout input.
	HTTPClient *http.Client
	// MaxResponseBytes caps the response body http.request reads; a larger
	// body fails the step permanently. Zero or less means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
}

// Register adds the core step types to reg: condition, switch, transform,
// fanout, http.request, delay and respond.
func Register(reg *steps.Registry, opts Options) error {
	client := opts.HTTPClient
	if client == nil {
		client = defaultHTTPClient()
	}
	maxBytes := opts.MaxResponseBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxResponseBytes
	}
	for _, spec := range []steps.Spec{
		conditionSpec(),
		switchSpec(),
		transformSpec(),
		fanoutSpec(),
		httpRequestSpec(client, maxBytes),
		delaySpec(),
		respondSpec(),
	} {
		if err := reg.Add(spec); err != nil {
			return fmt.Errorf("registering core steps: %w", err)
		}
	}
	return nil
}

func defaultHTTPClient() *http.Client {
	return &http.Client{
		// No Client.Timeout: each request is bounded by its context, which
		// carries the step's timeout input.
		Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment,
			DialContext: (&net.Dialer{
				Timeout:   10 * time.Second,
				KeepAlive: 30 * time.Second,
			}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   10,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: 1 * time.Second,
		},
	}
}

// outputField reads one field of a step's output, which is the value Run
// returned or, after a restart, that value decoded from the store.
func outputField(output any, name string) (any, error) {
	m, ok := output.(map[string]any)
	if !ok {
		b, err := json.Marshal(output)
		if err != nil {
			return nil, fmt.Errorf("reading output.%s: %v", name, err)
		}
		if err := json.Unmarshal(b, &m); err != nil || m == nil {
			return nil, fmt.Errorf("reading output.%s: the output is %s, not an object", name, steps.Describe(output))
		}
	}
	v, ok := m[name]
	if !ok {
		return nil, fmt.Errorf("reading output.%s: the output has no %q field", name, name)
	}
	return v, nil
}

// example builds an Example from JSON text.
func example(name, input, output string) steps.Example {
	ex := steps.Example{Name: name, Input: json.RawMessage(input)}
	if output != "" {
		ex.Output = json.RawMessage(output)
	}
	return ex
}

// errorExample builds an Example that must fail with an error containing
// errSubstring.
func errorExample(name, input, errSubstring string) steps.Example {
	return steps.Example{Name: name, Input: json.RawMessage(input), Error: errSubstring}
}

// obj is an object schema with the given properties, required fields and
// description.
func obj(desc string, props map[string]*steps.Schema, required ...string) *steps.Schema {
	return &steps.Schema{Type: steps.TypeObject, Description: desc, Properties: props, Required: required}
}
