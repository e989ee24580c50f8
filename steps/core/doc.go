// Package core owns Leverflow's built-in step types, the ones that do not
// talk to Lever: condition and switch (branching), transform (shaping data),
// fanout (running a body once per item; the engine runs it), http.request
// (calling any HTTP API), delay (waiting without holding a goroutine) and
// respond (the answer to an API caller waiting for the run).
//
// Each step type is one file holding its Spec: title, category, documented
// input and output schemas, examples (run by the catalog's tests) and its
// handler. Register adds them all to a steps.Registry; steps/catalog decides
// that they exist.
package core
