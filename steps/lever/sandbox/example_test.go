package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// The sandbox is an http.Handler; mount it at a server root and talk to
// <server>/v1 with its API key as the Basic-auth user.
func Example() {
	sb := sandbox.New(sandbox.Options{Seed: 1, Now: func() time.Time { return time.UnixMilli(1_750_000_000_000) }})
	defer sb.Close()
	srv := httptest.NewServer(sb)
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/v1/users/"+sandbox.UserPriya, nil)
	req.SetBasicAuth(sb.APIKey(), "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data sandbox.User `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	fmt.Println(resp.StatusCode, body.Data.Name, body.Data.AccessRole)
	// Output: 200 Priya Raman super admin
}

// Receivers verify a delivery with the webhook's signature token.
func ExampleSign() {
	fmt.Println(sandbox.Sign("sandbox-signature-token", "5d1f9c3b7a2e8046c9b1d7e3f5a0c2b4e6d8f1a3c5e7b9d0", 1747832698412))
	// Output: d499e671382a909a574826c25b97a906f0a9fe133886d2856acacad9f1d18b6c
}
