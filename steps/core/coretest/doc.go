// Package coretest owns the test kit for the core step types: the example
// server the http.request examples call, and Expand, which points an
// example's input at it. Only tests import it.
package coretest
