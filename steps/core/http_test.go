package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/core"
)

// seen is what the test server received.
type seen struct {
	Method string
	Path   string
	Query  map[string][]string
	Header http.Header
	Body   string
}

// newServer starts a server on 127.0.0.1 that records each request on the
// returned channel and answers with respond.
func newServer(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, <-chan seen) {
	t.Helper()
	reqs := make(chan seen, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		reqs <- seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(body)}
		respond(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, reqs
}

func okJSON(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"ok": true}`)
}

func TestHTTPRequestMethods(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			srv, reqs := newServer(t, okJSON)
			out, err := run(t, reg, "http.request", map[string]any{"method": method, "url": srv.URL + "/items/7"})
			if err != nil {
				t.Fatal(err)
			}
			got := <-reqs
			if got.Method != method || got.Path != "/items/7" {
				t.Fatalf("server saw %s %s", got.Method, got.Path)
			}
			want := `{"ok": true}`
			if method == "HEAD" {
				want = `""`
			}
			o := decode(t, mustJSON(out)).(map[string]any)
			if o["status"] != 200.0 || !sameJSON(t, o["body"], want) {
				t.Fatalf("output %s", mustJSON(out))
			}
		})
	}
	t.Run("GET is the default", func(t *testing.T) {
		t.Parallel()
		srv, reqs := newServer(t, okJSON)
		if _, err := run(t, reg, "http.request", map[string]any{"url": srv.URL}); err != nil {
			t.Fatal(err)
		}
		if got := <-reqs; got.Method != "GET" {
			t.Fatalf("method %s", got.Method)
		}
	})
}

func TestHTTPRequestQuery(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	tests := []struct {
		name  string
		path  string
		query string
		want  map[string][]string
	}{
		{"lists repeat", "/", `{"tag": ["senior", "remote"]}`, map[string][]string{"tag": {"senior", "remote"}}},
		{"numbers and booleans as text", "/", `{"limit": 100, "ratio": 0.5, "archived": false}`,
			map[string][]string{"limit": {"100"}, "ratio": {"0.5"}, "archived": {"false"}}},
		{"null leaves it out", "/", `{"offset": null, "tag": ["a", null]}`, map[string][]string{"tag": {"a"}}},
		{"escaping", "/", `{"q": "a&b=c d/é", "k y": "v"}`, map[string][]string{"q": {"a&b=c d/é"}, "k y": {"v"}}},
		{"merged with the URL's query", "/?expand=owner&tag=x", `{"tag": "y"}`, map[string][]string{"expand": {"owner"}, "tag": {"x", "y"}}},
		{"URL query kept when none given", "/?expand=owner", `{}`, map[string][]string{"expand": {"owner"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, reqs := newServer(t, okJSON)
			in := map[string]any{"url": srv.URL + tt.path, "query": decode(t, tt.query)}
			if _, err := run(t, reg, "http.request", in); err != nil {
				t.Fatal(err)
			}
			if got := (<-reqs).Query; mustJSON(got) != mustJSON(tt.want) {
				t.Fatalf("query %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHTTPRequestBodies(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	tests := []struct {
		name     string
		input    string
		wantCT   string
		wantBody string
	}{
		{"object as JSON", `{"method": "POST", "body": {"name": "Ada", "tags": ["x"]}}`, "application/json", `{"name":"Ada","tags":["x"]}`},
		{"list as JSON", `{"method": "POST", "body": [1, 2]}`, "application/json", `[1,2]`},
		{"number as JSON", `{"method": "PUT", "body": 42}`, "application/json", `42`},
		{"text as text", `{"method": "POST", "body": "hello"}`, "text/plain; charset=utf-8", `hello`},
		{"Content-Type kept for text", `{"method": "POST", "body": "a=1&b=2", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}`, "application/x-www-form-urlencoded", `a=1&b=2`},
		{"Content-Type kept for JSON, any case", `{"method": "POST", "body": {"a": 1}, "headers": {"content-type": "application/vnd.api+json"}}`, "application/vnd.api+json", `{"a":1}`},
		{"no body", `{"method": "POST"}`, "", ``},
		{"null body", `{"method": "POST", "body": null}`, "", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, reqs := newServer(t, okJSON)
			in := input(t, tt.input)
			in["url"] = srv.URL
			if _, err := run(t, reg, "http.request", in); err != nil {
				t.Fatal(err)
			}
			got := <-reqs
			if ct := got.Header.Get("Content-Type"); ct != tt.wantCT || got.Body != tt.wantBody {
				t.Fatalf("server saw Content-Type %q body %q; want %q %q", ct, got.Body, tt.wantCT, tt.wantBody)
			}
		})
	}
}

func TestHTTPRequestResponses(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	tests := []struct {
		name    string
		ct      string
		body    string
		status  int
		want    string // output body as JSON
		headers map[string]string
	}{
		{"JSON parsed", "application/json; charset=utf-8", `{"data": [{"id": "u1"}], "hasNext": false}`, 200, `{"data": [{"id": "u1"}], "hasNext": false}`, nil},
		{"+json parsed", "application/problem+json", `{"title": "x"}`, 200, `{"title": "x"}`, nil},
		{"JSON scalar", "application/json", `7`, 201, `7`, nil},
		{"bad JSON kept as text", "application/json", `{"oops`, 200, `"{\"oops"`, nil},
		{"text", "text/html", `<p>hi</p>`, 200, `"<p>hi</p>"`, nil},
		{"JSON-looking text stays text", "text/plain", `{"a": 1}`, 200, `"{\"a\": 1}"`, nil},
		{"empty", "", ``, 204, `""`, nil},
		{"headers lower-cased and joined", "text/plain", `x`, 200, `"x"`, map[string]string{"x-page": "1, 2", "x-request-id": "abc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
				if tt.ct != "" {
					w.Header().Set("Content-Type", tt.ct)
				}
				if tt.headers != nil {
					w.Header().Add("X-Page", "1")
					w.Header().Add("X-Page", "2")
					w.Header().Set("X-Request-Id", "abc")
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			out, err := run(t, reg, "http.request", map[string]any{"url": srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			o := decode(t, mustJSON(out)).(map[string]any)
			if o["status"] != float64(tt.status) || !sameJSON(t, o["body"], tt.want) {
				t.Fatalf("output %s; want status %d body %s", mustJSON(out), tt.status, tt.want)
			}
			hdrs := o["headers"].(map[string]any)
			if _, ok := hdrs["date"]; !ok {
				t.Fatalf("headers %v lack date", hdrs)
			}
			for k, v := range tt.headers {
				if hdrs[k] != v {
					t.Fatalf("headers[%q] = %v, want %q (all: %v)", k, hdrs[k], v, hdrs)
				}
			}
		})
	}
}

func TestHTTPRequestHeaders(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	srv, reqs := newServer(t, okJSON)
	in := input(t, `{"headers": {"Authorization": "Bearer t0k", "X-Count": 3, "X-Flag": true, "X-None": null}}`)
	in["url"] = srv.URL
	if _, err := run(t, reg, "http.request", in); err != nil {
		t.Fatal(err)
	}
	h := (<-reqs).Header
	for k, want := range map[string]string{"Authorization": "Bearer t0k", "X-Count": "3", "X-Flag": "true", "X-None": "", "User-Agent": "Leverflow"} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	in = map[string]any{"url": srv.URL, "headers": map[string]any{"User-Agent": "mine/1"}}
	if _, err := run(t, reg, "http.request", in); err != nil {
		t.Fatal(err)
	}
	if got := (<-reqs).Header.Get("User-Agent"); got != "mine/1" {
		t.Errorf("User-Agent %q, want the one given", got)
	}
}

func TestHTTPRequestStatusErrors(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	date := testNow.Add(2 * time.Minute).Format(http.TimeFormat)
	tests := []struct {
		status     int
		retryAfter string
		permanent  bool
		wantAfter  time.Duration
	}{
		{400, "", true, 0},
		{401, "", true, 0},
		{403, "", true, 0},
		{404, "", true, 0},
		{409, "", true, 0},
		{422, "", true, 0},
		{408, "", false, 0},
		{425, "", false, 0},
		{429, "", false, 0},
		{429, "30", false, 30 * time.Second},
		{429, date, false, 2 * time.Minute},
		{429, "soon", false, 0},
		{429, "Mon, 02 Jan 2006 15:04:05 GMT", false, 0}, // in the past
		{500, "", false, 0},
		{500, "30", false, 0}, // only 429 and 503 carry Retry-After
		{502, "", false, 0},
		{503, "120", false, 2 * time.Minute},
		{503, date, false, 2 * time.Minute},
		{504, "", false, 0},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status)+"/"+tt.retryAfter, func(t *testing.T) {
			t.Parallel()
			srv, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				io.WriteString(w, `{"code": "nope"}`)
			})
			_, err := run(t, reg, "http.request", map[string]any{"method": "POST", "url": srv.URL + "/things"})
			checkErr(t, err, fmt.Sprintf("POST %s/things: %d %s", srv.URL, tt.status, http.StatusText(tt.status)), tt.permanent)
			if !strings.Contains(err.Error(), `: {"code": "nope"}`) {
				t.Fatalf("error %q lacks the body", err)
			}
			var se *core.HTTPStatusError
			if !errors.As(err, &se) || se.Status != tt.status {
				t.Fatalf("no HTTPStatusError with status %d in %v", tt.status, err)
			}
			var e *steps.Error
			if !errors.As(err, &e) || e.Code != "http_status" {
				t.Fatalf("no steps.Error with code http_status in %v", err)
			}
			got, ok := steps.RetryAfterOf(err)
			if got != tt.wantAfter || ok != (tt.wantAfter > 0) {
				t.Fatalf("RetryAfterOf = %v, %v; want %v", got, ok, tt.wantAfter)
			}
		})
	}
}

func TestHTTPRequestErrorBodyIsCut(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{MaxResponseBytes: 100})
	long := strings.Repeat("é", 600) // 1200 bytes: over the 512-byte cut and the 100-byte cap
	srv, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, long)
	})
	_, err := run(t, reg, "http.request", map[string]any{"url": srv.URL})
	checkErr(t, err, "400 Bad Request: "+strings.Repeat("é", 50)+"...", true)

	reg = setup(t, core.Options{})
	_, err = run(t, reg, "http.request", map[string]any{"url": srv.URL})
	checkErr(t, err, "400 Bad Request: "+strings.Repeat("é", 256)+"...", true)
	if strings.Contains(err.Error(), strings.Repeat("é", 257)) {
		t.Fatal("error holds more than 512 bytes of body")
	}
}

func TestHTTPRequestBodyCap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		max     int64
		size    int
		wantErr string
	}{
		{"at the cap", 64, 64, ""},
		{"over the cap", 64, 65, "the response body is larger than the 64 bytes limit; ask for less (a filter, a smaller page) or raise the limit (MaxResponseBytes)"},
		{"KiB", 2048, 5000, "larger than the 2 KiB limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := setup(t, core.Options{MaxResponseBytes: tt.max})
			srv, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
				io.WriteString(w, strings.Repeat("x", tt.size))
			})
			out, err := run(t, reg, "http.request", map[string]any{"url": srv.URL})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if b := decode(t, mustJSON(out)).(map[string]any)["body"].(string); len(b) != tt.size {
					t.Fatalf("body of %d bytes, want %d", len(b), tt.size)
				}
				return
			}
			checkErr(t, err, tt.wantErr, true)
			var e *steps.Error
			if !errors.As(err, &e) || e.Code != "response_too_large" {
				t.Fatalf("code: %v", err)
			}
		})
	}
	spec, _ := setup(t, core.Options{}).Lookup("http.request")
	if !strings.Contains(spec.Description, "10 MiB") {
		t.Errorf("description does not state the default cap: %s", spec.Description)
	}
}

// blockingServer answers only when the test ends; arrived gets each request
// once the server has it.
func blockingServer(t *testing.T) (srv *httptest.Server, arrived <-chan struct{}) {
	t.Helper()
	in := make(chan struct{}, 4)
	release := make(chan struct{})
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: frees handlers so Close returns
	return srv, in
}

func TestHTTPRequestTimeout(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	srv, _ := blockingServer(t)
	start := time.Now()
	_, err := run(t, reg, "http.request", map[string]any{"url": srv.URL + "/slow?key=secret", "timeout": "50ms"})
	checkErr(t, err, "GET "+srv.URL+"/slow: no response within the 50ms timeout", false)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("the 50ms timeout took %v", elapsed)
	}
	var e *steps.Error
	if !errors.As(err, &e) || e.Code != "timeout" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a retryable timeout, got %#v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error shows the query: %v", err)
	}
}

func TestHTTPRequestCancelled(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	spec, _ := reg.Lookup("http.request")
	srv, arrived := blockingServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-arrived
		cancel()
	}()
	_, err := spec.Run(ctx, &steps.Request{Now: testNow, Input: map[string]any{"url": srv.URL}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	var e *steps.Error
	if errors.As(err, &e) {
		t.Fatalf("a cancellation is not a step failure: %#v", e)
	}
}

func TestHTTPRequestNetworkError(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	_, err := run(t, reg, "http.request", map[string]any{"url": url + "/x?token=secret"})
	checkErr(t, err, "GET "+url+"/x: ", false)
	var e *steps.Error
	if !errors.As(err, &e) || e.Code != "network" {
		t.Fatalf("want a network error, got %#v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error shows the query: %v", err)
	}
}

func TestHTTPRequestTLSUntrusted(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, err := run(t, reg, "http.request", map[string]any{"url": srv.URL})
	checkErr(t, err, "the server's TLS certificate is not trusted", true)

	trusting := setup(t, core.Options{HTTPClient: srv.Client()})
	_, err = run(t, trusting, "http.request", map[string]any{"url": srv.URL})
	checkErr(t, err, "404 Not Found", true)
}

func TestHTTPRequestInputErrors(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"url missing", `{}`, `input.url: required field is missing (The absolute http or https URL to call`},
		{"url relative", `{"url": "/v1/items"}`, `input.url: must be an absolute http or https URL such as "https://api.example.com/v1/items", got string "/v1/items"; start it with https://`},
		{"url no scheme", `{"url": "api.example.com"}`, `; start it with https://`},
		{"url ftp", `{"url": "ftp://example.com/f"}`, `; "ftp" URLs are not supported`},
		{"url empty", `{"url": ""}`, `got string ""; when it is a reference, check that it resolves to a URL`},
		{"url not text", `{"url": 5}`, `input.url: must be a string, got number 5`},
		{"method", `{"url": "https://x", "method": "FETCH"}`, `input.method: must be one of "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", got string "FETCH"`},
		{"method lower-case", `{"url": "https://x", "method": "post"}`, `did you mean "POST"?`},
		{"timeout text", `{"url": "https://x", "timeout": "soon"}`, `input.timeout: must be a duration: a number with a unit such as "30s"`},
		{"timeout number", `{"url": "https://x", "timeout": 30}`, `input.timeout: must be a duration such as "30s" or "1h30m", got number 30`},
		{"timeout zero", `{"url": "https://x", "timeout": "0s"}`, `input.timeout: must be more than zero, such as "30s", got 0s`},
		{"query object", `{"url": "https://x", "query": {"filter": {"a": 1}}}`, `input.query.filter: must be text or a list of text, got object; to send an object, encode it with a reference such as <<toJSON(steps.opp.data)>>`},
		{"query list of objects", `{"url": "https://x", "query": {"id": ["a", {}]}}`, `input.query.id[1]: must be text, got object`},
		{"query not an object", `{"url": "https://x", "query": "a=1"}`, `input.query: must be an object such as {"key": "value"}, got string "a=1"`},
		{"header list", `{"url": "https://x", "headers": {"Accept": ["a", "b"]}}`, `input.headers.Accept: must be text, got array`},
		{"header name", `{"url": "https://x", "headers": {"Bad Name": "x"}}`, `input.headers["Bad Name"]: "Bad Name" is not a valid header name; use letters, digits and dashes, such as "X-Request-Id"`},
		{"header value", `{"url": "https://x", "headers": {"X-A": "a\r\nX-B: b"}}`, `input.headers.X-A: header values cannot hold line breaks or NUL characters`},
		{"unknown field", `{"url": "https://x", "header": {}}`, `input.header: unknown field; did you mean "headers"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := run(t, reg, "http.request", input(t, tt.input))
			checkErr(t, err, tt.want, true)
		})
	}
}

func TestHTTPRequestOutputIsJSON(t *testing.T) {
	t.Parallel()
	reg := setup(t, core.Options{})
	srv, _ := newServer(t, okJSON)
	out, err := run(t, reg, "http.request", map[string]any{"url": srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    map[string]any    `json:"body"`
	}
	if err := json.Unmarshal([]byte(mustJSON(out)), &o); err != nil {
		t.Fatal(err)
	}
	if o.Status != 200 || o.Headers["content-type"] != "application/json" || o.Body["ok"] != true {
		t.Fatalf("output %+v", o)
	}
}
