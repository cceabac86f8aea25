package main

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The README's Configuration section documents every field of the YAML
// file and nothing else: the list is checked against the file's struct
// (fileConfig), so a new field cannot ship undocumented.
func TestREADMEDocumentsEveryConfigField(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n## Configuration\n")
	end := strings.Index(doc[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("README has no Configuration section")
	}
	section := doc[start : start+1+end]
	documented := map[string]bool{}
	for _, block := range strings.Split(section, "```yaml\n")[1:] {
		block = block[:strings.Index(block, "```")]
		var m map[string]any
		if err := yaml.Unmarshal([]byte(block), &m); err != nil {
			t.Fatalf("a yaml block of the Configuration section does not parse: %v\n%s", err, block)
		}
		keysOf("", m, documented)
	}
	fields := map[string]bool{}
	fieldsOf("", reflect.TypeFor[fileConfig](), fields)
	var missing, unknown []string
	for f := range fields {
		if !documented[f] {
			missing = append(missing, f)
		}
	}
	for k := range documented {
		if !fields[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(unknown)
	if len(missing) > 0 {
		t.Errorf("fields of the YAML file the README's Configuration section does not show: %v", missing)
	}
	if len(unknown) > 0 {
		t.Errorf("keys the README's Configuration section shows that the YAML file does not take: %v", unknown)
	}
}

// keysOf adds the dotted keys of m (nested maps included) to out.
func keysOf(prefix string, m map[string]any, out map[string]bool) {
	for k, v := range m {
		out[prefix+k] = true
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			keysOf(prefix+k+".", sub, out)
		}
	}
}

// fieldsOf adds the dotted YAML keys of struct type t to out, descending
// into struct fields (not maps, durations or other leaf types).
func fieldsOf(prefix string, t reflect.Type, out map[string]bool) {
	for f := range t.Fields() {
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if strings.Contains(opts, "inline") {
			fieldsOf(prefix, ft, out)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[prefix+name] = true
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() && hasYAMLFields(ft) {
			fieldsOf(prefix+name+".", ft, out)
		}
	}
}

func hasYAMLFields(t reflect.Type) bool {
	for f := range t.Fields() {
		if f.IsExported() && f.Tag.Get("yaml") != "-" {
			return true
		}
	}
	return false
}
