package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

const requestIDKey = "leverflow.request_id"

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestID takes the caller's X-Request-Id when it is a plain token, or
// makes one, and echoes it on the answer.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader(RequestIDHeader)
	if !requestIDPattern.MatchString(id) {
		id = uuid.Must(uuid.NewV7()).String()
	}
	c.Set(requestIDKey, id)
	c.Header(RequestIDHeader, id)
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// routeOf is the route pattern (never the raw path, which may carry ids
// of the caller's choosing, nor the query, which may carry a token).
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// accessLog writes one line per request: method, route, status, duration,
// request id and the token id. Never headers, query strings or bodies.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	attrs := []slog.Attr{
		slog.String("method", c.Request.Method),
		slog.String("route", routeOf(c)),
		slog.Int("status", c.Writer.Status()),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.Int("bytes", max(c.Writer.Size(), 0)),
		slog.String("request_id", requestID(c)),
	}
	if p, ok := c.Get(principalKey); ok {
		attrs = append(attrs, slog.String("token_id", p.(Principal).TokenID))
	}
	s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "http request", attrs...)
}

// recovery turns a panic in a handler into a 500 in the error shape.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		c.Abort()
		if c.Writer.Written() {
			s.log.Error("handler panicked after answering", "request_id", requestID(c), "panic", fmt.Sprint(v))
			return
		}
		s.writeError(c, &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error",
			Err: fmt.Errorf("panic: %v\n%s", v, debug.Stack())})
	}()
	c.Next()
}

// limitBody refuses a declared Content-Length over the limit at once and
// caps the reader for bodies that do not declare one (chunked). The Lever
// webhook route has its own cap, triggers.MaxWebhookBody, applied by its
// handler whatever Config.BodyLimit is.
func (s *Server) limitBody(c *gin.Context) {
	if c.FullPath() == hookRoute {
		c.Next()
		return
	}
	if c.Request.ContentLength > s.bodyLimit {
		fail(c, &http.MaxBytesError{Limit: s.bodyLimit})
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.bodyLimit)
	}
	c.Next()
}

// readBody reads the whole (capped) body. A body that is not empty must
// be declared application/json.
func readBody(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil {
		return nil, nil
	}
	data, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, err
		}
		return nil, badRequest("reading the request body: %v", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	if err := requireJSON(c); err != nil {
		return nil, err
	}
	return data, nil
}

func requireJSON(c *gin.Context) error {
	ct := c.GetHeader("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		if ct == "" {
			ct = "none"
		}
		return newError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			"the body must be JSON sent with \"Content-Type: application/json\" (got %s)", ct)
	}
	return nil
}

// decodeJSON reads a JSON body strictly into v: an unknown field, a value
// of the wrong type, trailing data or malformed JSON is a 400 naming the
// field or the line and column.
func decodeJSON(c *gin.Context, v any) error {
	data, err := readBody(c)
	if err != nil {
		return err
	}
	if data == nil {
		return badRequest("the request body is empty; send a JSON object")
	}
	return strictUnmarshal(data, v)
}

func strictUnmarshal(data []byte, v any) error {
	if err := checkSyntax(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			line, col := position(data, typeErr.Offset)
			field := typeErr.Field
			if field == "" {
				return badRequest("line %d, column %d: the body must be a JSON %s, not %s", line, col, jsonKind(typeErr.Type.String()), typeErr.Value)
			}
			return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest,
				Message: fmt.Sprintf("line %d, column %d: field %q must be %s, not %s", line, col, field, jsonKind(typeErr.Type.String()), typeErr.Value),
				Details: []any{detail{Path: field, Message: fmt.Sprintf("must be %s, not %s", jsonKind(typeErr.Type.String()), typeErr.Value)}}}
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			field := strings.Trim(name, `"`)
			return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest,
				Message: fmt.Sprintf("unknown field %q", field),
				Details: []any{detail{Path: field, Message: "unknown field"}}}
		}
		return badRequest("reading the JSON body: %v", err)
	}
	return nil
}

// detail is one item of an error's details: where and what.
type detail struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// checkSyntax reports malformed JSON (or more than one value) with the
// line and column.
func checkSyntax(data []byte) error {
	if !utf8.Valid(data) {
		line, col := position(data, int64(firstInvalidUTF8(data)))
		return badRequest("line %d, column %d: the body is not valid UTF-8; send JSON encoded as UTF-8", line, col)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	err := dec.Decode(&raw)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			line, col := position(data, dec.InputOffset())
			return badRequest("line %d, column %d: unexpected data after the JSON value", line, col)
		}
		return nil
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := position(data, syn.Offset-1)
		return badRequest("line %d, column %d: malformed JSON: %s", line, col, syn.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		line, col := position(data, int64(len(data)))
		return badRequest("line %d, column %d: malformed JSON: the body ends early; close every open \"{\", \"[\" and string", line, col)
	}
	return badRequest("malformed JSON: %v", err)
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 0 {
		offset = 0
	}
	before := data[:offset]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = 1 + len([]rune(string(before[bytes.LastIndexByte(before, '\n')+1:])))
	return line, col
}

func jsonKind(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map"), strings.HasPrefix(goType, "struct"), strings.HasPrefix(goType, "api."):
		return "an object"
	}
	return "a " + goType
}

// firstInvalidUTF8 is the offset of the first byte that is not valid UTF-8.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}
