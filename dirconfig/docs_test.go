package dirconfig

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestConfigurationDocumentsEveryKey checks docs/configuration.md against
// the key tables: each file's section has one table row per key of that
// file, and no row for a key the file does not have. A new key in keys.go
// fails here until it is documented.
func TestConfigurationDocumentsEveryKey(t *testing.T) {
	const page = "../docs/configuration.md"
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []struct {
		heading string
		keys    []string
	}{
		{"## `.awsrole.toml`", projectKeys.names()},
		{"## The user config", userKeys.names()},
	} {
		rows := documentedKeys(string(data), file.heading)
		if rows == nil {
			t.Fatalf("%s has no section %q", page, file.heading)
		}
		for _, k := range file.keys {
			if !slices.Contains(rows, k) {
				t.Errorf("%s, section %q: key %s of dirconfig/keys.go has no row (| `%s` | value | what it does |)", page, file.heading, k, k)
			}
		}
		for _, k := range rows {
			if !slices.Contains(file.keys, k) {
				t.Errorf("%s, section %q: row for %s, which is not a key of that file in dirconfig/keys.go", page, file.heading, k)
			}
		}
	}
}

var keyRow = regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|")

// documentedKeys are the keys of the table rows in the section that starts
// with heading (up to the next "## "); nil when there is no such section.
func documentedKeys(page, heading string) []string {
	i := strings.Index(page, "\n"+heading+"\n")
	if i < 0 {
		return nil
	}
	section := page[i+len(heading)+2:]
	if j := strings.Index(section, "\n## "); j >= 0 {
		section = section[:j]
	}
	keys := []string{}
	for _, m := range keyRow.FindAllStringSubmatch(section, -1) {
		keys = append(keys, m[1])
	}
	return keys
}
