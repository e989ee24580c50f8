package core

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leverflow/leverflow/steps"
)

// httpErrorBodyBytes is how much of an error response's body goes into the
// error message.
const httpErrorBodyBytes = 512

// errHTTPTimeout is the cause of an http.request's context when its own
// timeout input expires.
var errHTTPTimeout = errors.New("http.request timeout")

var httpMethods = []any{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

type httpInput struct {
	Method  string         `json:"method"`
	URL     string         `json:"url"`
	Query   map[string]any `json:"query"`
	Headers map[string]any `json:"headers"`
	Body    any            `json:"body"`
	Timeout time.Duration  `json:"timeout"`
}

type httpOutput struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    any               `json:"body"`
}

// HTTPStatusError is the failure of an http.request whose response status
// is 400 or more. It is wrapped in a *steps.Error (Code "http_status") that
// says whether it is retryable: 408, 425, 429 and 5xx are; other 4xx are
// permanent.
type HTTPStatusError struct {
	Method string
	// URL is the request URL without its query, user or fragment, which may
	// hold secrets.
	URL    string
	Status int
	// Body is the start of the response body (up to 512 bytes).
	Body string
	// RetryAfter is the wait the server asked for (429, 503), or zero.
	RetryAfter time.Duration
}

func (e *HTTPStatusError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (the server asks to retry after %s)", e.RetryAfter)
	}
	return msg
}

// retryableStatus reports whether a failed status is worth another attempt.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return code >= 500
}

func httpRequestSpec(client *http.Client, maxBytes int64) steps.Spec {
	text := "Text; numbers and booleans are written as text, and null leaves it out."
	spec := steps.Spec{
		Type:     "http.request",
		Title:    "HTTP request",
		Category: "HTTP",
		Description: "Calls any HTTP API and returns its status, headers and body (parsed when it is JSON). " +
			"A status of 400 or more fails the step: 408, 425, 429 and 5xx (and network errors) are retried " +
			"under the step's retry policy, honouring Retry-After; other 4xx mean the request is wrong and are not. " +
			"Response bodies over " + formatBytes(maxBytes) + " fail the step.",
		Input: obj("The request to send.", map[string]*steps.Schema{
			"method": {
				Type:        steps.TypeString,
				Description: "The HTTP method.",
				Enum:        httpMethods,
				Default:     "GET",
			},
			"url": {
				Type:        steps.TypeString,
				Format:      "uri",
				Description: "The absolute http or https URL to call; query parameters may also go in `query`.",
				Example:     "https://api.example.com/v1/candidates",
			},
			"query": {
				Type:                 steps.TypeObject,
				AdditionalProperties: true,
				Description:          "Query parameters added to the URL: each a text value or a list of them (repeated parameters). " + text,
				Example:              map[string]any{"tag": []any{"senior", "remote"}, "limit": "10"},
			},
			"headers": {
				Type:                 steps.TypeObject,
				AdditionalProperties: true,
				Description:          "Request headers by name. " + text,
				Example:              map[string]any{"Authorization": "Bearer <<vars.token>>"},
			},
			"body": {
				Type: steps.TypeAny,
				Description: "The request body: an object or a list is sent as JSON (Content-Type application/json); " +
					"text is sent as it is (Content-Type text/plain), unless headers set Content-Type.",
			},
			"timeout": {
				Type:        steps.TypeString,
				Format:      "duration",
				Description: "How long to wait for the whole response, such as \"30s\" or \"2m\"; a timeout is retried like a network error.",
				Default:     "30s",
			},
		}, "url"),
		Output: obj("The response.", map[string]*steps.Schema{
			"status": {Type: steps.TypeInteger, Description: "The HTTP status code, such as 200."},
			"headers": {
				Type:                 steps.TypeObject,
				AdditionalProperties: true,
				Description:          "The response headers by lower-case name; repeated headers are joined with \", \".",
			},
			"body": {Type: steps.TypeAny, Description: "The response body: parsed JSON when the response's Content-Type is JSON, else text (\"\" when empty)."},
		}, "status", "headers", "body"),
		// The examples call {{server}}: the catalog's example test replaces it
		// with the URL of coretest.NewExampleServer, which echoes requests to
		// /echo, answers /text with text and /status/<code> with that status.
		Examples: []steps.Example{
			example("GET with query parameters ({{server}} is a test server that echoes the request)",
				`{"url": "{{server}}/echo", "query": {"tag": ["senior", "remote"], "limit": 10}}`,
				`{"status": 200, "headers": {"content-type": "application/json"},
				  "body": {"method": "GET", "path": "/echo", "query": {"limit": ["10"], "tag": ["senior", "remote"]},
				           "headers": {}, "content_type": "", "body": null}}`),
			example("POST a JSON body with a header (echoed by {{server}})",
				`{"method": "POST", "url": "{{server}}/echo", "headers": {"X-Request-Id": "req-42"},
				  "body": {"name": "Ada Lovelace", "tags": ["senior"]}}`,
				`{"status": 200, "headers": {"content-type": "application/json"},
				  "body": {"method": "POST", "path": "/echo", "query": {}, "headers": {"x-request-id": "req-42"},
				           "content_type": "application/json", "body": {"name": "Ada Lovelace", "tags": ["senior"]}}}`),
			example("PUT a text body (echoed by {{server}})",
				`{"method": "PUT", "url": "{{server}}/echo", "body": "hello"}`,
				`{"status": 200, "headers": {"content-type": "application/json"},
				  "body": {"method": "PUT", "path": "/echo", "query": {}, "headers": {},
				           "content_type": "text/plain; charset=utf-8", "body": "hello"}}`),
			example("A text response is returned as text ({{server}}/text)",
				`{"url": "{{server}}/text"}`,
				`{"status": 200, "headers": {"content-type": "text/plain; charset=utf-8"}, "body": "Hello from the example server"}`),
			errorExample("A 404 fails the step and is not retried ({{server}}/status/404)",
				`{"url": "{{server}}/status/404"}`,
				`/status/404: 404 Not Found: {"error":"status 404"}`),
			errorExample("A 503 fails the attempt; it is retried after the server's Retry-After ({{server}}/status/503)",
				`{"url": "{{server}}/status/503"}`,
				`503 Service Unavailable: {"error":"status 503"} (the server asks to retry after 30s)`),
			errorExample("The URL must be absolute",
				`{"url": "api.example.com/v1/candidates"}`,
				`input.url: must be an absolute http or https URL such as "https://api.example.com/v1/items", got string "api.example.com/v1/candidates"; start it with https://`),
			errorExample("Methods are upper-case",
				`{"method": "get", "url": "https://api.example.com"}`,
				`input.method: must be one of "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", got string "get"; did you mean "GET"?`),
		},
	}
	spec.Check = checkHTTP
	h := &httpStep{client: client, maxBytes: maxBytes}
	return steps.Typed(spec, h.run)
}

type httpStep struct {
	client   *http.Client
	maxBytes int64
}

func (h *httpStep) run(ctx context.Context, req *steps.Request, in httpInput) (httpOutput, error) {
	u, p := parseHTTPURL(in.URL)
	if p != nil {
		return httpOutput{}, p.Err()
	}
	if in.Timeout <= 0 {
		return httpOutput{}, steps.Permanentf("input.timeout: must be more than zero, such as \"30s\", got %s", in.Timeout)
	}
	if len(in.Query) > 0 {
		q := u.Query()
		for _, k := range sortedKeys(in.Query) {
			vals, err := textValues(joinKey("input.query", k), in.Query[k], true)
			if err != nil {
				return httpOutput{}, err
			}
			for _, v := range vals {
				q.Add(k, v)
			}
		}
		u.RawQuery = q.Encode()
	}
	header := http.Header{}
	for _, k := range sortedKeys(in.Headers) {
		path := joinKey("input.headers", k)
		if !validHeaderName(k) {
			return httpOutput{}, steps.Permanentf("%s: %q is not a valid header name; use letters, digits and dashes, such as \"X-Request-Id\"", path, k)
		}
		vals, err := textValues(path, in.Headers[k], false)
		if err != nil {
			return httpOutput{}, err
		}
		for _, v := range vals {
			if strings.ContainsAny(v, "\r\n\x00") {
				return httpOutput{}, steps.Permanentf("%s: header values cannot hold line breaks or NUL characters", path)
			}
			header.Add(k, v)
		}
	}
	var body io.Reader
	contentType := ""
	switch b := in.Body.(type) {
	case nil:
	case string:
		body, contentType = strings.NewReader(b), "text/plain; charset=utf-8"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return httpOutput{}, steps.Permanentf("input.body: cannot be encoded as JSON: %v", err)
		}
		body, contentType = bytes.NewReader(raw), "application/json"
	}

	target := redactURL(u)
	ctx, cancel := context.WithTimeoutCause(ctx, in.Timeout, errHTTPTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, in.Method, u.String(), body)
	if err != nil {
		return httpOutput{}, steps.Permanentf("%s %s: %v", in.Method, target, err)
	}
	hreq.Header = header
	if contentType != "" && header.Get("Content-Type") == "" {
		hreq.Header.Set("Content-Type", contentType)
	}
	if header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", "Leverflow")
	}
	if host := header.Get("Host"); host != "" {
		hreq.Host = host
	}

	resp, err := h.client.Do(hreq)
	if err != nil {
		return httpOutput{}, transportError(ctx, in, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, h.maxBytes+1))
	if err != nil {
		return httpOutput{}, transportError(ctx, in, target, fmt.Errorf("reading the response: %w", err))
	}
	tooBig := int64(len(data)) > h.maxBytes
	if resp.StatusCode >= 400 {
		if tooBig {
			data = data[:h.maxBytes]
		}
		return httpOutput{}, statusError(req, in.Method, target, resp, data, tooBig)
	}
	if tooBig {
		return httpOutput{}, &steps.Error{
			Err: fmt.Errorf("%s %s: the response body is larger than the %s limit; ask for less (a filter, a smaller page) or raise the limit (MaxResponseBytes)",
				in.Method, target, formatBytes(h.maxBytes)),
			Permanent: true,
			Code:      "response_too_large",
		}
	}
	out := httpOutput{Status: resp.StatusCode, Headers: make(map[string]string, len(resp.Header)), Body: ""}
	for k, vs := range resp.Header {
		out.Headers[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	if len(data) > 0 {
		out.Body = string(data)
		if isJSONMediaType(resp.Header.Get("Content-Type")) {
			var v any
			if err := json.Unmarshal(data, &v); err == nil {
				out.Body = v
			}
		}
	}
	return out, nil
}

// transportError classifies a failure to get a response: the caller's
// cancellation passes through, the step's own timeout and network errors are
// retryable, a certificate the client does not trust is permanent.
func transportError(ctx context.Context, in httpInput, target string, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // its message repeats the full URL, query included
	}
	cause := context.Cause(ctx)
	if cause != nil && cause != errHTTPTimeout {
		// The engine cancelled the attempt (run cancelled, step timeout,
		// shutdown): report that, not a network error.
		return fmt.Errorf("%s %s: %w", in.Method, target, cause)
	}
	if cause != nil {
		return &steps.Error{
			Err:  fmt.Errorf("%s %s: no response within the %s timeout; the server may be slow or unreachable (raise input.timeout to wait longer): %w", in.Method, target, in.Timeout, context.DeadlineExceeded),
			Code: "timeout",
		}
	}
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return &steps.Error{
			Err:       fmt.Errorf("%s %s: the server's TLS certificate is not trusted: %w", in.Method, target, err),
			Permanent: true,
			Code:      "tls",
		}
	}
	return &steps.Error{Err: fmt.Errorf("%s %s: %w", in.Method, target, err), Code: "network"}
}

func statusError(req *steps.Request, method, target string, resp *http.Response, data []byte, cut bool) error {
	e := &HTTPStatusError{Method: method, URL: target, Status: resp.StatusCode, Body: errorBody(data, cut)}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		now := req.Now
		if now.IsZero() {
			now = time.Now()
		}
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return &steps.Error{
		Err:        e,
		Permanent:  !retryableStatus(resp.StatusCode),
		RetryAfter: e.RetryAfter,
		Code:       "http_status",
	}
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP-date.
// It returns zero when the header is absent, malformed or in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 || secs > int64(365*24*time.Hour/time.Second) {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}

// errorBody is the start of an error response body for a message; cut says
// data is already only the start of the body.
func errorBody(data []byte, cut bool) string {
	if len(data) > httpErrorBodyBytes {
		data, cut = data[:httpErrorBodyBytes], true
	}
	if !cut {
		return strings.TrimSpace(string(data))
	}
	// Drop a character the cut split in two.
	for i := 0; i < utf8.UTFMax && len(data) > 0 && !utf8.Valid(data); i++ {
		data = data[:len(data)-1]
	}
	return strings.TrimSpace(string(data)) + "..."
}

// parseHTTPURL reads url: an absolute http or https URL. The save-time
// check (checkHTTP) and the handler share it.
func parseHTTPURL(raw string) (*url.URL, *steps.Problem) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return u, nil
	}
	msg := fmt.Sprintf("must be an absolute http or https URL such as \"https://api.example.com/v1/items\", got %s", steps.Describe(raw))
	switch {
	case raw == "":
		msg += "; when it is a reference, check that it resolves to a URL"
	case err == nil && u.Scheme == "":
		msg += "; start it with https://"
	case err == nil && u.Scheme != "http" && u.Scheme != "https":
		msg += fmt.Sprintf("; %q URLs are not supported", u.Scheme)
	}
	return nil, &steps.Problem{Path: "url", Message: msg}
}

// checkHTTP is http.request's save-time check (Spec.Check): a literal url
// is an absolute http or https URL. The method's enum and the JSON types
// are the schema's concern.
func checkHTTP(input map[string]any) []steps.Problem {
	if raw, ok := input["url"].(string); ok && !steps.HasReference(raw) {
		if _, p := parseHTTPURL(raw); p != nil {
			return []steps.Problem{*p}
		}
	}
	return nil
}

// redactURL drops the parts of a URL that may hold secrets (user, query,
// fragment) for messages.
func redactURL(u *url.URL) string {
	r := *u
	r.User, r.RawQuery, r.ForceQuery, r.Fragment, r.RawFragment = nil, "", false, "", ""
	return r.String()
}

// textValues reads a query parameter or header value: text, a number or a
// boolean (written as text), null (left out) or, when lists is set, a list
// of those.
func textValues(path string, v any, lists bool) ([]string, error) {
	if arr, ok := v.([]any); ok && lists {
		out := make([]string, 0, len(arr))
		for i, item := range arr {
			s, ok := textValue(item)
			if !ok {
				return nil, steps.Permanentf("%s[%d]: must be text, got %s", path, i, steps.Describe(item))
			}
			if item != nil {
				out = append(out, s)
			}
		}
		return out, nil
	}
	if v == nil {
		return nil, nil
	}
	s, ok := textValue(v)
	if !ok {
		want := "text"
		if lists {
			want = "text or a list of text"
		}
		return nil, steps.Permanentf("%s: must be %s, got %s; to send an object, encode it with a reference such as <<toJSON(steps.opp.data)>>", path, want, steps.Describe(v))
	}
	return []string{s}, nil
}

func textValue(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// joinKey appends an object key to an input path.
func joinKey(path, key string) string {
	for _, c := range key {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return path + "[" + strconv.Quote(key) + "]"
		}
	}
	return path + "." + key
}

// formatBytes writes a size for people: "10 MiB", "512 KiB", "100 bytes".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
