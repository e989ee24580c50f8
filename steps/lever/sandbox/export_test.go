package sandbox

// AssertShape lets the external tests (package sandbox_test) check a JSON
// document against a fixture with the same rules as the internal ones.
var AssertShape = assertShape
