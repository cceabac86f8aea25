package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// parseArgs parses a command's flags, refusing what it does not take:
// -h/--help prints the usage on stdout (go on: false, exit 0); a bad flag
// or any positional argument prints what was wrong and the usage on stderr
// (false, exit 2). A typo is refused, never obeyed (`causeway dev lnk`
// does not start a fabric, `serve --data X stray` no node).
func parseArgs(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, goOn bool) {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return 0, false
	case err != nil:
		fs.SetOutput(stderr)
		fmt.Fprintf(stderr, "causeway %s: %v\n", fs.Name(), err)
		fs.Usage()
		return 2, false
	case fs.NArg() > 0:
		fs.SetOutput(stderr)
		fmt.Fprintf(stderr, "causeway %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return 2, false
	}
	fs.SetOutput(stderr)
	return 0, true
}
