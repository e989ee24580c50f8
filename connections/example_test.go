package connections_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/leverflow/leverflow/connections"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// A workspace connects the built-in Lever sandbox with its API key, and a
// Lever step gets the connection's client.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "connections-example")
	defer os.RemoveAll(dir)

	sb := sandbox.New(sandbox.Options{Seed: 1})
	defer sb.Close()
	srv := httptest.NewServer(sb)
	defer srv.Close()

	st, err := gormstore.Open(ctx, gormstore.Config{DSN: filepath.Join(dir, "leverflow.db")})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	key, err := connections.LoadKey("", filepath.Join(dir, "secret.key")) // made 0600 on first use
	if err != nil {
		panic(err)
	}
	app := sb.OAuthClient()
	m, err := connections.New(connections.Config{
		Store: st,
		Key:   key,
		Environments: map[string]connections.Environment{
			connections.EnvLocal: connections.LocalEnvironment(srv.URL, app.ID, app.Secret, sb.APIKey()),
		},
		CallbackURL: "http://127.0.0.1:8080/api/v1/connections/lever/callback",
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}

	c, err := m.CreateAPIKey(ctx, connections.APIKeyRequest{Name: "local", Environment: connections.EnvLocal})
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Name, c.Auth, c.Status, c.Account.UserEmail)

	cl, err := m.Client(ctx, "", "local")
	if err != nil {
		panic(err)
	}
	u, err := cl.GetUser(ctx, sandbox.UserLena)
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Name)
	var _ interface {
		Client(ctx context.Context, userID, connection string) (*client.Client, error)
	} = m
	// Output:
	// local api_key connected priya.raman@northwind-robotics.example
	// Lena Fischer
}
