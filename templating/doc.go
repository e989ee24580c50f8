// Package templating owns Leverflow's << >> references: it finds them in
// the JSON values of step inputs, compiles their expr-lang expressions once
// per process (a bounded cache shared by every workflow), renders them
// against a run's data, and checks them at save time against the shapes of
// the roots they read (the trigger, upstream step outputs, ...).
//
// # References
//
// A string value of a step input may hold references, << expression >>,
// where expression is an expr-lang expression (https://expr-lang.org) over
// the roots trigger, steps (steps.<id> is that step's output), item and
// index (inside a fanout), run, user and vars.
//
//   - A string that is exactly one reference ("<<steps.opp.tags>>") renders
//     to the value itself and keeps its type: object, list, number, bool or
//     null.
//   - References inside longer text ("Hello <<trigger.name>>!") are
//     formatted into it: strings as they are, numbers in their shortest form
//     (3, 2.5), bools as true/false, null as null, objects and lists as
//     compact JSON.
//   - \<< is a literal << (the backslash is removed). A >> inside a string
//     literal of the expression does not end the reference. An unclosed <<
//     is a syntax error.
//   - Object keys are not templated, only values; strings inside lists and
//     nested objects are.
//
// # Missing values are errors
//
// expr-lang reads a missing map key as nil. Here a member access such as
// steps.opp.contact fails the render when the key is missing, with a reason
// a user can act on (no field "contactt" in steps.opp; did you mean
// "contact"?), and reading a field of null or an index past the end fails
// too. Optional chaining (steps.opp?.contact) and the nil-coalescing
// operator (steps.opp.contact ?? "none": every access on its left side is
// lenient) opt in to missing values.
//
// # in
//
// expr-lang's in tests membership in a list ('senior' in steps.opp.tags)
// and key presence in an object ('id' in steps.opp.stage). Here it also
// tests a substring when its right side is a string ('Senior' in
// steps.opp.headline); the left side must then be a string. not in is its
// negation. A right side that is null, a number or a boolean fails the
// render, as does a left side that is not a string on a string or an
// object; Check reports the same when the shapes say so.
//
// # Performance
//
// Compile parses every string once; Render only walks the precompiled tree.
// Pure member chains (steps.opp.contact.emails[0]), by far the most common
// references, are resolved directly without the expr VM; other expressions
// run on pooled VMs with expr's default node limit and memory budget.
//
// Values read from the render env are placed in the result as they are (not
// copied); the template's own literals are copied on every render, so a
// caller may modify the result freely without affecting the template.
package templating
