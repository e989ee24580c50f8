package catalog_test

import (
	"fmt"

	"github.com/leverflow/leverflow/steps/catalog"
)

func ExampleNew() {
	reg, err := catalog.New(catalog.Options{})
	if err != nil {
		panic(err)
	}
	for _, spec := range reg.All() {
		fmt.Printf("%s (%s): %s\n", spec.Type, spec.Category, spec.Title)
	}
	// Output:
	// condition (Logic): Condition
	// delay (Timing): Delay
	// fanout (Logic): For each
	// http.request (HTTP): HTTP request
	// lever.add_opportunity_tags (Lever): Add Opportunity Tags
	// lever.archive_opportunity (Lever): Archive Opportunity
	// lever.create_opportunity (Lever): Create Opportunity
	// lever.create_posting (Lever): Create Posting
	// lever.get_contact (Lever): Get Contact
	// lever.get_opportunities (Lever): Get Opportunities
	// lever.get_opportunity (Lever): Get Opportunity
	// lever.get_posting (Lever): Get Posting
	// lever.get_postings (Lever): Get Postings
	// lever.get_user (Lever): Get User
	// lever.get_users (Lever): Get Users
	// lever.remove_opportunity_tags (Lever): Remove Opportunity Tags
	// lever.request (Lever): Lever API Request
	// lever.unarchive_opportunity (Lever): Unarchive Opportunity
	// lever.update_contact (Lever): Update Contact
	// lever.update_opportunity_stage (Lever): Update Opportunity Stage
	// lever.update_posting (Lever): Update Posting
	// respond (HTTP): Respond
	// switch (Logic): Switch
	// transform (Logic): Transform
}
