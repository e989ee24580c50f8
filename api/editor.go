package api

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// editorHandler serves the built editor (Config.Editor): its files as they
// are, and index.html for every other page path (the editor routes in the
// browser), so /workflows/x or /runs/y can be reloaded and shared. Vite
// names assets by content hash, so /assets/ is cached for a year;
// index.html is revalidated every time, so a new binary's editor is
// picked up at once.
type editorHandler struct {
	files fs.FS
	index []byte
	mod   time.Time
}

func newEditorHandler(files fs.FS) (*editorHandler, error) {
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		return nil, errors.New("api: Config.Editor has no index.html; build the editor with `make web`")
	}
	return &editorHandler{files: files, index: index, mod: time.Now()}, nil
}

// reserved lists the path prefixes that are never editor pages: an unknown
// route under them is the API's 404, not index.html.
var reserved = []string{"/api/", "/hooks/", "/healthz", "/metrics", "/lever-sandbox/"}

// serve answers GET and HEAD requests for editor paths and reports whether
// it did.
func (h *editorHandler) serve(c *gin.Context) bool {
	r := c.Request
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := path.Clean("/" + r.URL.Path) // "//api/x" and "/a/../api/x" are "/api/x"
	for _, pre := range reserved {
		if strings.HasPrefix(p, pre) || p+"/" == pre {
			return false
		}
	}
	w := c.Writer
	w.Header().Set("X-Content-Type-Options", "nosniff")
	name := strings.TrimPrefix(p, "/")
	if name != "" && name != "index.html" {
		if data, err := fs.ReadFile(h.files, name); err == nil {
			if strings.HasPrefix(name, "assets/") {
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				w.Header().Set("Cache-Control", "no-cache")
			}
			http.ServeContent(w, r, name, h.mod, bytes.NewReader(data))
			return true
		}
		if path.Ext(name) != "" {
			return false // a missing file (an old asset): 404, not the page
		}
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	http.ServeContent(w, r, "index.html", h.mod, bytes.NewReader(h.index))
	return true
}
