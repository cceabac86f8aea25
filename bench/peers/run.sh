#!/usr/bin/env bash
# Runs Causeway, NATS JetStream and Redis Streams side by side on this
# machine with the identical pubsub workload and the same durability, and
# prints the ratio tables:
#   1. install the peers (install.sh) and build causeway;
#   2. for each durability (always = fsync every message, interval = fsync
#      every second): start all three on loopback (start.sh), run
#      `causeway bench pubsub --target causeway-binary,causeway,nats,redis`
#      (Causeway's Go client with the binary protocol, then with Pulsar's
#      JSON frames, against the same node; each target at the maximum rate,
#      then each at half of the first target's maximum rate, then every
#      target at the same fixed rates RATES - latency at equal load), stop
#      them (stop.sh).
# Usage: run.sh [OUTDIR]
# Settings (environment): SIZE=1024 PRODUCERS=4 CONSUMERS=4 SUBSCRIPTION=shared DURATION=20s
# WARMUP=3s HALF_DURATION=20s MAX_IN_FLIGHT=1000 MODES="always interval"
# TARGETS=causeway-binary,causeway,nats,redis (the first is the base of the ratios)
# RATES=10k,40k,half-slowest (fixed rates every target runs at; "" for none)
# CAUSEWAY=path uses a causeway binary built beforehand.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$repo/bench-peers-$(date +%Y%m%d-%H%M%S)}"
SIZE="${SIZE:-1024}"
PRODUCERS="${PRODUCERS:-4}"
CONSUMERS="${CONSUMERS:-4}"
SUBSCRIPTION="${SUBSCRIPTION:-shared}"
DURATION="${DURATION:-20s}"
WARMUP="${WARMUP:-3s}"
HALF_DURATION="${HALF_DURATION:-20s}"
MAX_IN_FLIGHT="${MAX_IN_FLIGHT:-1000}"
MODES="${MODES:-always interval}"
TARGETS="${TARGETS:-causeway-binary,causeway,nats,redis}"
RATES="${RATES-10k,40k,half-slowest}"

"$here/install.sh" >/dev/null
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [ -n "${CAUSEWAY:-}" ]; then
	cp "$CAUSEWAY" "$out/causeway" # a binary built beforehand
else
	(cd "$repo" && go build -o "$out/causeway" ./cmd/causeway)
fi

current=""
cleanup() { [ -z "$current" ] || "$here/stop.sh" "$current"; }
trap cleanup EXIT

{
	echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/^Mem:/{print $2}') GiB RAM, $(uname -sr)"
	echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "versions: causeway $(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo '?'), $("$(go env GOPATH)/bin/nats-server" --version), $(redis-server --version | cut -d' ' -f1-3)"
} | tee "$out/machine.txt"

for mode in $MODES; do
	current="$out/$mode"
	CAUSEWAY="$out/causeway" "$here/start.sh" "$mode" "$current"
	cmd=("$out/causeway" bench pubsub --target "$TARGETS"
		--url http://127.0.0.1:18080 --nats-url nats://127.0.0.1:14222 --redis-addr 127.0.0.1:16379
		--size "$SIZE" --producers "$PRODUCERS" --consumers "$CONSUMERS" --subscription-type "$SUBSCRIPTION" --duration "$DURATION"
		--warmup "$WARMUP" --half-duration "$HALF_DURATION" --max-in-flight "$MAX_IN_FLIGHT" --rates "$RATES"
		--fsync "$mode" --quiet --out "$current/peers.json")
	echo "# durability $mode: ${cmd[*]#"$out/"}" | tee "$current/table.txt"
	"${cmd[@]}" | tee -a "$current/table.txt" || echo "(the run reported errors or losses, see above)" | tee -a "$current/table.txt"
	"$here/stop.sh" "$current"
	current=""
done
echo "results in $out" >&2
