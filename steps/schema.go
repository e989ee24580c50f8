package steps

import (
	"sort"

	"github.com/leverflow/leverflow/templating"
)

// The JSON types a Schema may name.
const (
	TypeObject  = "object"
	TypeArray   = "array"
	TypeString  = "string"
	TypeNumber  = "number"
	TypeInteger = "integer"
	TypeBoolean = "boolean"
	TypeAny     = "any"
)

// Schema describes a step's input or output: a small, documented subset of
// JSON Schema that drives validation, the editor's forms and reference
// checks.
type Schema struct {
	Type        string             `json:"type"`
	Description string             `json:"description,omitempty"`
	Properties  map[string]*Schema `json:"properties,omitempty"`
	Required    []string           `json:"required,omitempty"`
	Items       *Schema            `json:"items,omitempty"`
	Enum        []any              `json:"enum,omitempty"`
	Default     any                `json:"default,omitempty"`
	// Format refines a string: "duration", "date-time", "uri", "expression".
	Format string `json:"format,omitempty"`
	// AdditionalProperties lets an object hold fields not listed.
	AdditionalProperties bool `json:"additionalProperties,omitempty"`
	// Sensitive values are redacted in stored run data.
	Sensitive bool `json:"x-sensitive,omitempty"`
	// Example is a sample value for the editor.
	Example any `json:"example,omitempty"`
}

// PropertyNames returns the object's property names, sorted.
func (s *Schema) PropertyNames() []string {
	out := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// IsRequired reports whether name is a required property.
func (s *Schema) IsRequired(name string) bool {
	for _, r := range s.Required {
		if r == name {
			return true
		}
	}
	return false
}

// Shape converts the schema into the shape templating checks references
// against.
func (s *Schema) Shape() *templating.Shape {
	if s == nil || s.Type == "" || s.Type == TypeAny {
		return templating.Any
	}
	sh := &templating.Shape{Type: s.Type, Open: s.AdditionalProperties}
	if len(s.Properties) > 0 {
		sh.Properties = make(map[string]*templating.Shape, len(s.Properties))
		for k, p := range s.Properties {
			sh.Properties[k] = p.Shape()
		}
	} else if s.Type == TypeObject {
		sh.Open = true
	}
	if s.Items != nil {
		sh.Items = s.Items.Shape()
	}
	return sh
}
