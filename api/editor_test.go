package api_test

import (
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/leverflow/leverflow/api"
	"github.com/leverflow/leverflow/steps/catalog"
)

func editorFiles() fstest.MapFS {
	return fstest.MapFS{
		"index.html":             {Data: []byte(`<!doctype html><div id="root"></div><script src="/assets/index-abc123.js"></script>`)},
		"assets/index-abc123.js": {Data: []byte(`console.log("editor")`)},
		"favicon.svg":            {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
	}
}

func TestEditorServing(t *testing.T) {
	f := setupWith(t, fixtureOptions{editor: editorFiles()})
	tests := []struct {
		name, method, path string
		status             int
		contentType        string // prefix
		body               string // substring
		cache              string
	}{
		{"root is the page", "GET", "/", 200, "text/html", `<div id="root">`, "no-cache"},
		{"an editor route is the page", "GET", "/workflows/tag-senior", 200, "text/html", `<div id="root">`, "no-cache"},
		{"a run page with a query", "GET", "/runs?status=failed", 200, "text/html", `<div id="root">`, "no-cache"},
		{"HEAD of a page", "HEAD", "/connections", 200, "text/html", "", "no-cache"},
		{"a hashed asset is cached for good", "GET", "/assets/index-abc123.js", 200, "text/javascript", `console.log`, "public, max-age=31536000, immutable"},
		{"another file", "GET", "/favicon.svg", 200, "image/svg+xml", "<svg", "no-cache"},
		{"a missing asset is a 404, not the page", "GET", "/assets/index-old.js", 404, "application/json", "no route", ""},
		{"an unknown API route stays the API's 404", "GET", "/api/v1/nope", 404, "application/json", "no route", ""},
		{"the API root is not the page", "GET", "/api/", 404, "application/json", "no route", ""},
		{"a POST to a page path is the API's 404", "POST", "/workflows/x", 404, "application/json", "no route", ""},
		{"the webhook route keeps its method check", "GET", "/hooks/lever/local", 405, "application/json", "not allowed", ""},
		{"a path escaping the folder is the page", "GET", "/../../etc/passwd", 200, "text/html", `<div id="root">`, "no-cache"},
		{"a doubled slash before the API stays the API's", "GET", "//api/v1/nope", 404, "application/json", "no route", ""},
		{"a dot-dot into the API stays the API's", "GET", "/a/../api/v1/nope", 404, "application/json", "no route", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(request{Method: tc.method, Path: tc.path, Token: "-"})
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
				t.Errorf("Content-Type %q, want %s...", ct, tc.contentType)
			}
			if tc.body != "" && !strings.Contains(string(r.body), tc.body) {
				t.Errorf("body %q does not hold %q", r.body, tc.body)
			}
			if got := r.header.Get("Cache-Control"); tc.cache != "" && got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
		})
	}
	// The API still answers under the editor.
	f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/workflows"})
	r := f.do(request{Method: "GET", Path: "/healthz", Token: "-"})
	if r.status != http.StatusOK || !strings.Contains(r.header.Get("Content-Type"), "json") {
		t.Errorf("/healthz under the editor: %d %s", r.status, r.header.Get("Content-Type"))
	}
}

func TestEditorPageHeaders(t *testing.T) {
	f := setupWith(t, fixtureOptions{editor: editorFiles()})
	r := f.do(request{Method: "GET", Path: "/", Token: "-"})
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"} {
		if r.header.Get(h) == "" {
			t.Errorf("the page has no %s header", h)
		}
	}
}

func TestWithoutEditorRootIsNotFound(t *testing.T) {
	f := setup(t)
	if r := f.do(request{Method: "GET", Path: "/", Token: "-"}); r.status != http.StatusNotFound {
		t.Errorf("GET / without an editor: %d, want 404", r.status)
	}
}

func TestEditorWithoutIndexIsRefused(t *testing.T) {
	f := setup(t)
	reg, err := catalog.New(catalog.Options{Lever: f.conns})
	if err != nil {
		t.Fatal(err)
	}
	_, err = api.New(api.Config{Engine: f.eng, Store: f.store, Steps: reg, Connections: f.conns, Auth: f.tokens,
		Editor: fstest.MapFS{"assets/x.js": {Data: []byte("x")}}})
	if err == nil || !strings.Contains(err.Error(), "index.html") {
		t.Fatalf("api.New with an editor without index.html: %v, want an error naming index.html", err)
	}
}
