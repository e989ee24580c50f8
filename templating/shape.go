package templating

// Shape is the JSON shape a reference may walk: what Check compiles
// references against. It is derived from a step's output schema.
type Shape struct {
	// Type is one of "object", "array", "string", "number", "integer",
	// "boolean", "null", or "" / "any" for a value of unknown shape.
	Type string
	// Properties are an object's known fields.
	Properties map[string]*Shape
	// Open objects may hold fields beyond Properties (JSON Schema's
	// additionalProperties), so an unknown field is not an error.
	Open bool
	// Items is the shape of an array's elements.
	Items *Shape
}

// Any is the shape of a value about which nothing is known: every
// reference into it is accepted at save time and checked at run time.
var Any = &Shape{}
