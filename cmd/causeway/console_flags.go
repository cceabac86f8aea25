package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/causeway/causeway/console"
)

// consoleFlag is serve's switch for the web console (package console):
// --console=true|false, over the YAML file's `console`, default off.
type consoleFlag struct {
	flag string // "" = not given
	file bool   // the YAML file's setting
}

func (c *consoleFlag) register(fs *flag.FlagSet) {
	fs.BoolFunc("console", "serve the web console at /console (default false; `console` in the YAML file)", func(s string) error {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want true or false, not %q", s)
		}
		c.flag = strconv.FormatBool(v)
		return nil
	})
}

// enabled is whether the node serves the console: the flag when given,
// else the file's setting.
func (c *consoleFlag) enabled() bool {
	if c.flag != "" {
		return c.flag == "true"
	}
	return c.file
}

// printDevConsole tells where `causeway dev`'s web console is: every node
// serves it; the first region's first node is named.
func printDevConsole(w io.Writer, ff fabricFile) {
	if len(ff.Regions) == 0 {
		return
	}
	fmt.Fprintf(w, "Web console: %s%s/ (every node serves one; log in with the key below)\n",
		strings.TrimSuffix(ff.Regions[0].HTTP, "/"), console.Prefix)
}
