package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	pathpkg "path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/leverflow/leverflow/connections"
	"github.com/leverflow/leverflow/steps/lever/client"
)

// proxyMethods are the methods the Lever proxy forwards (Lever's API uses
// no others).
var proxyMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

func (s *Server) connectionRoutes(authed, admin *gin.RouterGroup) {
	authed.GET("/connections", s.listConnections)
	authed.GET("/connections/:name", s.getConnection)
	admin.POST("/connections", s.createConnection)
	admin.DELETE("/connections/:name", s.deleteConnection)
	admin.POST("/connections/:name/test", s.testConnection)
	for _, m := range proxyMethods {
		admin.Handle(m, "/connections/:name/proxy/*path", s.proxy)
	}
}

// createConnectionRequest is the body of POST /connections. OAuth
// connections are made through /connections/lever/authorize.
type createConnectionRequest struct {
	Name                 string `json:"name"`
	Environment          string `json:"environment"`
	Auth                 string `json:"auth"`
	APIKey               string `json:"api_key"`
	Replace              bool   `json:"replace"`
	ConfirmAccountChange bool   `json:"confirm_account_change"`
}

type connectionList struct {
	Connections []connections.Connection `json:"connections"`
}

func (s *Server) listConnections(c *gin.Context) {
	list, err := s.conns.List(c.Request.Context(), "")
	if err != nil {
		fail(c, err)
		return
	}
	if list == nil {
		list = []connections.Connection{}
	}
	writeJSON(c, http.StatusOK, connectionList{Connections: list})
}

// createConnection is POST /connections: 201 for a new connection, 200
// when replace:true replaced one; 409 when the name is taken (the message
// says to send "replace": true) or when the key reaches another Lever
// account (it says to send "confirm_account_change": true).
func (s *Server) createConnection(c *gin.Context) {
	var req createConnectionRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	switch req.Auth {
	case "", connections.AuthAPIKey:
	case connections.AuthOAuth:
		fail(c, badRequest("auth: an OAuth connection is made in the browser: open GET /api/v1/connections/lever/authorize?name=%s&environment=%s", req.Name, req.Environment))
		return
	default:
		fail(c, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest,
			Message: fmt.Sprintf("auth %q is not supported here: use \"api_key\"", req.Auth),
			Details: []any{detail{Path: "auth", Message: "must be \"api_key\""}}})
		return
	}
	ctx := c.Request.Context()
	existed := false
	if req.Replace {
		_, err := s.conns.Get(ctx, "", req.Name)
		existed = err == nil
	}
	conn, err := s.conns.CreateAPIKey(ctx, connections.APIKeyRequest{
		Name: req.Name, Environment: req.Environment, APIKey: req.APIKey,
		Replace: req.Replace, ConfirmAccountChange: req.ConfirmAccountChange,
	})
	if err != nil {
		fail(c, err)
		return
	}
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	writeJSON(c, status, conn)
}

// deleteConnection is DELETE /connections/:name: 204.
// getConnection is GET /connections/:name: the connection's view (status,
// account reached, expiry warnings), never a secret.
func (s *Server) getConnection(c *gin.Context) {
	conn, err := s.conns.Get(c.Request.Context(), "", c.Param("name"))
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, conn)
}

func (s *Server) deleteConnection(c *gin.Context) {
	if err := s.conns.Delete(c.Request.Context(), "", c.Param("name")); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// testResult is the answer of POST /connections/:name/test.
type testResult struct {
	Connection connections.Connection `json:"connection"`
	Account    connections.Account    `json:"account"`
	LatencyMS  int64                  `json:"latency_ms"`
}

func (s *Server) testConnection(c *gin.Context) {
	res, err := s.conns.Test(c.Request.Context(), "", c.Param("name"))
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, testResult{Connection: res.Connection, Account: res.Account, LatencyMS: res.Latency.Milliseconds()})
}

// proxy is ANY /connections/:name/proxy/*path: the method, query and JSON
// body go to Lever with the connection's credentials (rate limit and
// token refresh included) and Lever's status and body come back as they
// are, errors included (rebuilt as Lever's {"code", "message"}; the
// X-Leverflow-Upstream header tells such answers from the API's own).
func (s *Server) proxy(c *gin.Context) {
	name, path := c.Param("name"), c.Param("path")
	if !proxyPathOK(path) {
		fail(c, badRequest("proxy path %q is not a Lever endpoint path such as /opportunities (no dot segments, percent-escapes, backslashes or control characters)", path))
		return
	}
	data, err := readBody(c)
	if err != nil {
		fail(c, err)
		return
	}
	var body any
	if data != nil {
		if err := checkSyntax(data); err != nil {
			fail(c, err)
			return
		}
		body = json.RawMessage(data)
	}
	ctx := c.Request.Context()
	cl, err := s.conns.Client(ctx, "", name)
	if err != nil {
		fail(c, err)
		return
	}
	query := c.Request.URL.Query()
	query.Del("access_token")
	status, raw, err := cl.Raw(ctx, c.Request.Method, path, query, body)
	c.Header("X-Leverflow-Upstream", "lever")
	var leverErr *client.APIError
	switch {
	case errors.As(err, &leverErr):
		writeJSON(c, leverErr.Status, map[string]string{"code": leverErr.Code, "message": leverErr.Message})
		return
	case errors.Is(err, connections.ErrNeedsReauth):
		c.Writer.Header().Del("X-Leverflow-Upstream")
		fail(c, err)
		return
	case err != nil:
		c.Writer.Header().Del("X-Leverflow-Upstream")
		fail(c, &Error{Status: http.StatusBadGateway, Code: CodeBadGateway,
			Message: fmt.Sprintf("Lever could not be reached through connection %q; try again", name), Err: err})
		return
	case status == 0:
		fail(c, &Error{Status: http.StatusBadGateway, Code: CodeBadGateway,
			Message: "the Lever call may have been made but its answer was lost; check Lever before repeating it", Err: errors.New("client returned status 0")})
		return
	case len(raw) == 0:
		c.Status(status)
		return
	}
	c.Data(status, "application/json; charset=utf-8", raw)
}

// proxyPathOK accepts only plain paths below Lever's API root. The path
// arrives decoded once, and the Lever client joins it to the root as it is:
// a "%" left after decoding ("%252e%252e" -> "%2e%2e") could be decoded
// again on the way and climb out of /v1, so escapes are refused outright,
// as are dot segments (the path must be its own path.Clean), backslashes
// and control characters. Lever's ids and endpoint names need none of them.
func proxyPathOK(p string) bool {
	if p == "" || p == "/" || !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#%\\") {
		return false
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return pathpkg.Clean(p) == strings.TrimSuffix(p, "/")
}
