// Package examples embeds the example workflows of this folder, so that
// `leverflow serve` can load them into a new server without the source
// tree at hand. The files stay ordinary JSON that `leverflow validate`,
// `run` and `test` read from disk.
package examples

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// files holds every JSON file of the folder: the workflows and their
// *.test.json and *.trigger.json companions.
//
//go:embed *.json
var files embed.FS

// Workflow is one example workflow file.
type Workflow struct {
	// Name is the file name, such as "tag-senior-applicants.json".
	Name string
	// ID is the name without ".json", the workflow id it is loaded under.
	ID string
	// Data is the file's content, a workflow definition.
	Data []byte
}

// FS returns every embedded file, companions included.
func FS() fs.FS { return files }

// IsWorkflowFile reports whether a file name of this folder names a
// workflow rather than a workflow test (*.test.json) or trigger data
// (*.trigger.json).
func IsWorkflowFile(name string) bool {
	return strings.HasSuffix(name, ".json") &&
		!strings.HasSuffix(name, ".test.json") && !strings.HasSuffix(name, ".trigger.json")
}

// Workflows returns the example workflows ordered by file name.
func Workflows() ([]Workflow, error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, fmt.Errorf("listing the example workflows: %w", err)
	}
	var out []Workflow
	for _, e := range entries {
		if e.IsDir() || !IsWorkflowFile(e.Name()) {
			continue
		}
		data, err := fs.ReadFile(files, e.Name())
		if err != nil {
			return nil, fmt.Errorf("reading example %s: %w", e.Name(), err)
		}
		out = append(out, Workflow{Name: e.Name(), ID: strings.TrimSuffix(e.Name(), ".json"), Data: data})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
