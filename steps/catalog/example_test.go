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
	// delay (Flow): Delay
	// fanout (Flow): For each
	// http.request (HTTP): HTTP request
	// respond (Flow): Respond
	// switch (Logic): Switch
	// transform (Data): Transform
}
