// Command causeway runs a Causeway node (serve), a whole local fabric (dev),
// and client sub-commands (produce, consume).
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `causeway: a geo-distributed pub/sub streaming broker

Usage:
  causeway serve   [--config FILE] [--data DIR] [--http ADDR] [--region NAME] [--fsync always|interval|never]
  causeway produce --url URL --stream NAME            (publishes stdin lines)
  causeway consume --url URL --stream NAME --subscription S   (prints messages)
  causeway bench   pubsub|kafka|geo|collections|spot|compare|plot [flags]   (load tests)

Run "causeway COMMAND -h" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:], stderr)
	case "produce":
		return runProduce(args[1:], stdin, stdout, stderr)
	case "consume":
		return runConsume(args[1:], stdin, stdout, stderr)
	case "bench":
		return runBench(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "causeway: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
