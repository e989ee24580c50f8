package api

// Route is one registered method and gin path, for the OpenAPI test.
type Route struct{ Method, Path string }

// Routes lists the routes gin has registered.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.router.Routes() {
		out = append(out, Route{r.Method, r.Path})
	}
	return out
}

// StatusOf is the HTTP status errorFrom maps err to.
func StatusOf(err error) int { return errorFrom(err).Status }
