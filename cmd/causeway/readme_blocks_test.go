package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The READMEs whose ```sh blocks TestREADMECommandsRun runs, relative to
// the module root.
var readmeFiles = []string{"README.md", "README-collections.md", "spot/README.md"}

// Marks a README puts on the line just before a ```sh block (HTML
// comments: invisible once rendered):
//
//	<!-- not run: WHY -->                   the test skips the block (a server, a placeholder, minutes of benchmark)
//	<!-- run against: causeway dev ARGS --> the block runs against `causeway dev ARGS`
//
// A block without a mark runs against one `causeway serve` node.
var (
	notRunMark     = regexp.MustCompile(`^<!--\s*not run:\s*(\S.*?)\s*-->$`)
	runAgainstMark = regexp.MustCompile(`^<!--\s*run against:\s*causeway dev\b(.*?)\s*-->$`)
)

// shBlock is one ```sh block of a README.
type shBlock struct {
	file    string // as in readmeFiles
	line    int    // of the opening fence, 1-based
	text    string // the commands, with a final newline
	notRun  string // the reason given by a "not run" mark; "" runs the block
	devArgs string // with onDev: the arguments of `causeway dev` it runs against
	onDev   bool   // runs against `causeway dev devArgs`, not `causeway serve`
}

func (b shBlock) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// parseShBlocks returns the ```sh blocks of a Markdown text with their
// marks. A comment just before a block that is not a mark, or a block left
// open, is an error: a mistyped mark must not make a block silently run or
// silently skip.
func parseShBlocks(file, text string) ([]shBlock, error) {
	var out []shBlock
	var cur *shBlock
	var body strings.Builder
	prev := "" // the last non-blank line outside a block
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if cur != nil {
			if trimmed == "```" {
				cur.text = body.String()
				out = append(out, *cur)
				cur = nil
				prev = trimmed
				continue
			}
			body.WriteString(line + "\n")
			continue
		}
		if strings.HasPrefix(trimmed, "```") {
			lang := strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))
			if lang == "sh" {
				b := shBlock{file: file, line: n}
				switch m, r := notRunMark.FindStringSubmatch(prev), runAgainstMark.FindStringSubmatch(prev); {
				case m != nil:
					b.notRun = m[1]
				case r != nil:
					b.onDev, b.devArgs = true, strings.TrimSpace(r[1])
				case strings.HasPrefix(prev, "<!--"):
					return nil, fmt.Errorf("%s:%d: %q before a sh block is not a mark (<!-- not run: WHY --> or <!-- run against: causeway dev ARGS -->)", file, n-1, prev)
				}
				cur = &b
				body.Reset()
				prev = ""
				continue
			}
			switch lang {
			case "bash", "shell", "console", "shell-session", "zsh":
				return nil, fmt.Errorf("%s:%d: a ```%s block: tag shell commands sh, so that TestREADMECommandsRun runs them", file, n, lang)
			}
			// Another language's block: skip to its end.
			for n++; sc.Scan(); n++ {
				if strings.TrimSpace(sc.Text()) == "```" {
					break
				}
			}
			prev = "```"
			continue
		}
		if trimmed != "" {
			prev = trimmed
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: sh block never closed", file, cur.line)
	}
	return out, nil
}

// readmeBlocks reads the sh blocks of every README of readmeFiles.
func readmeBlocks(t *testing.T) []shBlock {
	t.Helper()
	var all []shBlock
	for _, f := range readmeFiles {
		b, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := parseShBlocks(f, string(b))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, blocks...)
	}
	return all
}

func TestParseShBlocks(t *testing.T) {
	text := "# T\n\n```sh\necho a\n```\n\n<!-- not run: starts a server -->\n```sh\nserve\n```\n" +
		"<!-- run against: causeway dev --regions us-east --nodes 3 -->\n\n```sh\necho b\necho c\n```\n" +
		"```go\n```sh\n```\ntext\n```sh\necho d\n```\n"
	got, err := parseShBlocks("x.md", text)
	if err != nil {
		t.Fatal(err)
	}
	want := []shBlock{
		{file: "x.md", line: 3, text: "echo a\n"},
		{file: "x.md", line: 8, text: "serve\n", notRun: "starts a server"},
		{file: "x.md", line: 13, text: "echo b\necho c\n", onDev: true, devArgs: "--regions us-east --nodes 3"},
		{file: "x.md", line: 21, text: "echo d\n"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d blocks %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("block %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{
		"<!-- not run -->\n```sh\necho\n```\n",               // no reason
		"<!-- run against: causeway serve -->\n```sh\n```\n", // not dev
		"```sh\necho\n",        // never closed
		"```bash\necho\n```\n", // not tagged sh
	} {
		if _, err := parseShBlocks("bad.md", bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	for _, b := range readmeBlocks(t) {
		if b.notRun == "" && strings.Contains(b.text, "cwk_...") {
			t.Errorf("%s runs but holds the placeholder cwk_...: mark it not run", b)
		}
	}
}
