package coretest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// Placeholder stands for the example server's URL in the inputs of
// http.request examples ("{{server}}/echo").
const Placeholder = "{{server}}"

// NewExampleServer starts the server the http.request examples call, on
// 127.0.0.1, closed when the test ends. Its answers are deterministic (no
// Date or Content-Length header, so every response's headers are just
// content-type):
//
//   - /echo and below: 200 with a JSON object describing the request:
//     method, path, query (name -> list of values), headers (the X-
//     headers, by lower-case name), content_type and body (parsed JSON when
//     the request is JSON, else text, null when empty);
//   - /text: 200, text/plain "Hello from the example server";
//   - /status/<code>: that status with {"error": "status <code>"}, and
//     Retry-After: 30 for 429 and 503.
func NewExampleServer(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(serveExample))
	t.Cleanup(srv.Close)
	return srv
}

// Expand replaces Placeholder in an example's input with the server's URL
// and decodes it.
func Expand(input json.RawMessage, serverURL string) (map[string]any, error) {
	var m map[string]any
	err := json.Unmarshal([]byte(strings.ReplaceAll(string(input), Placeholder, serverURL)), &m)
	return m, err
}

func serveExample(w http.ResponseWriter, r *http.Request) {
	w.Header()["Date"] = nil
	switch {
	case r.URL.Path == "/echo" || strings.HasPrefix(r.URL.Path, "/echo/"):
		echo(w, r)
	case r.URL.Path == "/text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		flush(w)
		io.WriteString(w, "Hello from the example server")
	case strings.HasPrefix(r.URL.Path, "/status/"):
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/"))
		if err != nil || code < 200 || code > 599 {
			http.Error(w, "bad status", http.StatusBadRequest)
			return
		}
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "30")
		}
		writeJSON(w, code, map[string]any{"error": "status " + strconv.Itoa(code)})
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no such example endpoint: " + r.URL.Path})
	}
}

func echo(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	query := map[string]any{}
	for k, vs := range r.URL.Query() {
		query[k] = vs
	}
	headers := map[string]string{}
	for k, vs := range r.Header {
		if strings.HasPrefix(k, "X-") {
			headers[strings.ToLower(k)] = strings.Join(vs, ", ")
		}
	}
	var body any
	if len(raw) > 0 {
		body = string(raw)
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
			var v any
			if json.Unmarshal(raw, &v) == nil {
				body = v
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"method":       r.Method,
		"path":         r.URL.Path,
		"query":        query,
		"headers":      headers,
		"content_type": r.Header.Get("Content-Type"),
		"body":         body,
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	flush(w)
	json.NewEncoder(w).Encode(v)
}

// flush sends the headers before the body, so the response is chunked and
// carries no Content-Length that would vary with the body.
func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}
