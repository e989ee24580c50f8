// Package web holds the browser editor: its source (React, TypeScript,
// Vite and @xyflow/react, built with npm) and its build output dist/,
// which is committed and embedded here so `go build` needs no npm. The
// editor talks to the server over the HTTP API only; cmd/leverflow hands
// Dist to the api package, which serves it.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist is the built editor: index.html and its assets.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a fixed, valid path
	}
	return sub
}
