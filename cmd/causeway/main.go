// Command causeway runs a Causeway node (serve), a whole local fabric (dev),
// and client sub-commands (produce, consume).
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/causeway/causeway/internal/gctune"
)

const usage = `causeway: a geo-distributed pub/sub streaming broker

Usage:
  causeway dev     [--regions us-east,eu-west,ap-south] [--data DIR] [--wan-latency 40ms --wan-jitter 5ms --wan-loss 0.01]
                   [--repl-tls=false]   (a whole local fabric, one node per region, emulated WAN links, mutual TLS)
                   [--nodes 3]          (nodes per region, every one serving it: streams, Kafka, collections, SPOT)
  causeway dev     --regions us-east --nodes 3 [--data DIR]   (one region of 3 nodes, every node serving it,
                                                               its streams replicated between them; no geo-replication)
  causeway dev link down|up REGION REGION [--data DIR]   (cut or heal a link of the local fabric)
  causeway status  [--data DIR | --url URL ... --token T] (replication lag per region pair, a region's nodes and units)
  causeway serve   [--config FILE] [--data DIR] [--http ADDR] [--region NAME] [--fsync always|interval|never]
                   [--peer NAME=HOST:PORT ... --repl ADDR --fabric-secret S]   (one node of a fabric)
                   [--bootstrap-from URL --join-timeout 5s]   (a new or wiped region: snapshot peer, join wait)
                   [--auth=false] [--admin-key KEY] [--tls-dev | --tls-cert FILE --tls-key FILE]
                   [--log-level info] [--log-format auto|console|json]
                   [--cluster-node ID --cluster-raft ADDR --cluster-data ADDR --cluster-voters ID=ADDR,...
                    --cluster-peers URL,... --cluster-secret S]   (one of several nodes of its region)
  causeway node    drain|remove ID --url URL[,URL...]    (grow and shrink a region: drain a node, then remove it)
  causeway keygen                                        (prints a new API key, for --admin-key)
  causeway produce --url URL --stream NAME            (publishes stdin lines)
  causeway consume --url URL --stream NAME --subscription S   (prints messages)
  causeway streamapp create|update|list|get|delete|activate|deactivate|dry-run [--url URL] [flags]   (stream workers)
  causeway bench   pubsub|kafka|geo|collections|spot|compare|plot [flags]   (load tests)

Run "causeway COMMAND -h" for a command's flags.
`

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "bench":
			gctune.LoadGenerator()
		case "serve", "dev":
			gctune.Node()
		}
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:], stdout, stderr)
	case "produce":
		return runProduce(args[1:], stdin, stdout, stderr)
	case "consume":
		return runConsume(args[1:], stdin, stdout, stderr)
	case "bench":
		return runBench(args[1:], stdout, stderr)
	case "dev":
		return runDev(args[1:], stdout, stderr)
	case "status":
		return runStatus(args[1:], stdout, stderr)
	case "keygen":
		return runKeygen(args[1:], stdout, stderr)
	case "node":
		return runNode(args[1:], stdout, stderr)
	case "streamapp":
		return runStreamApp(args[1:], stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "causeway: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
