package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/leverflow/leverflow/steps/lever/client"
)

func ExampleClient_ListOpportunities() {
	page1, _ := os.ReadFile("testdata/opportunities_page1.json")
	page2, _ := os.ReadFile("testdata/opportunities_page2.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("offset") == "" {
			_, _ = w.Write(page1)
			return
		}
		_, _ = w.Write(page2)
	}))
	defer srv.Close()

	c, err := client.New(client.Config{BaseURL: srv.URL, APIKey: "my-key"})
	if err != nil {
		panic(err)
	}
	params := client.ListOpportunitiesParams{
		Origins:     []string{client.OriginApplied, client.OriginReferred},
		ListOptions: client.ListOptions{Limit: 2, MaxItems: 10},
	}
	for o, err := range c.ListOpportunities(context.Background(), params) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println(o.Name, o.Stage.ID, o.CreatedAt.Time().Format("2006-01-02"))
	}
	// Output:
	// Avery Chen 7a2c9e41-0d5b-4f83-b6a1-4e9c3d7f2b08 2025-05-14
	// Jordan Alvarez lead-new 2025-05-19
	// Sam Okafor applicant-new 2025-04-28
}
