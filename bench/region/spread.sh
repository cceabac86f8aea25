#!/usr/bin/env bash
# Measures issue 12's spreading claim: with R = 1 a region of three nodes
# spreads a 6-partition stream's work, so the servers' CPU per message
# (summed over the nodes) stays what one node spends, each node doing about
# a third. For N = 1 and N = 3 in turn it starts the region on loopback,
# creates the six Pulsar-style streams spread-partition-{0..5} with
# ?replicas=1 (on nodes 1,2,3 in turn), checks in GET /_api/region/state
# that each has factor 1 and that their leaders are spread 2/2/2 (N = 3),
# then runs
#
#   causeway bench pubsub --url URL1[,URL2,URL3] --spread-urls --stream spread --partitions 6
#     --rate RATE --duration DURATION --warmup 3s --producers 3 --consumers 3 --subscription-type shared --binary
#
# (producer i and consumer i start on node i mod N; a request for a
# partition led elsewhere is proxied), reads every server's user+system CPU
# from /proc/PID/stat before and after, and prints per N: throughput,
# publish->deliver p50/p99 and CPU per acknowledged message per node and in
# total, with the load average at the start.
#
#   bench/region/spread.sh [OUTDIR]       (RATE=10000 DURATION=20s by default)
#
# Every node shares this machine's cores and disk with the load generator.
# Exit status: 0 when both runs were measured, 2 when the N = 3 streams are
# not of factor 1 spread 2/2/2 (nothing measured), 1 on any other failure
# (a run that lost or failed messages included). Ports 18181-18183,
# 17111-17113 and 17211-17213 (run.sh uses others).
set -euo pipefail
out=${1:-/tmp/causeway-region-spread}
rate=${RATE:-10000}
duration=${DURATION:-20s}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin="$out/causeway"
go build -o "$bin" ./cmd/causeway
tck=$(getconf CLK_TCK)

pids=""
cleanup() { [ -n "$pids" ] && kill $pids 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

ticks() { # user+system clock ticks of pid $1
	local f
	read -r -a f < "/proc/$1/stat"
	# fields 14 and 15 (utime, stime); the command name (field 2) has no spaces here
	echo $((f[13] + f[14]))
}

start() { # start a region of $1 nodes under $out/n$1
	local n=$1 dir="$out/n$1"
	rm -rf "$dir"; mkdir -p "$dir"
	pids=""
	if [ "$n" = 1 ]; then
		"$bin" serve --region us-east --data "$dir/d1" --http 127.0.0.1:18181 --auth false --log-level error > "$dir/log1" 2>&1 &
		pids=$!
	else
		local voters="1=127.0.0.1:17111,2=127.0.0.1:17112,3=127.0.0.1:17113"
		for i in 1 2 3; do
			local peers=""
			for j in 1 2 3; do [ "$j" != "$i" ] && peers="$peers${peers:+,}http://127.0.0.1:1818$j"; done
			"$bin" serve --region us-east --data "$dir/d$i" --http "127.0.0.1:1818$i" --auth false --log-level error \
				--cluster-node "$i" --cluster-raft "127.0.0.1:1711$i" --cluster-data "127.0.0.1:1721$i" \
				--cluster-voters "$voters" --cluster-peers "$peers" --cluster-secret bench-region-secret-0123456789 \
				> "$dir/log$i" 2>&1 &
			pids="$pids $!"
		done
	fi
	sleep 8
}

stop() { kill $pids 2>/dev/null || true; wait 2>/dev/null || true; pids=""; sleep 2; }

rc=0
for n in 1 3; do
	echo "== region of $n node(s)"
	start "$n"
	urls=""
	for i in $(seq 1 "$n"); do urls="$urls${urls:+,}http://127.0.0.1:1818$i"; done
	for p in 0 1 2 3 4 5; do
		node=$((p % n + 1))
		code=$(curl -sS -o "$out/create.txt" -X POST -w '%{http_code}' \
			"http://127.0.0.1:1818$node/_fabric/_system/_api/streams/spread-partition-$p?replicas=1")
		if [ "$code" != 201 ] && [ "$code" != 200 ]; then
			echo "create spread-partition-$p on node $node: HTTP $code $(cat "$out/create.txt")"; exit 1
		fi
	done
	sleep 2
	if [ "$n" = 3 ]; then
		curl -sS http://127.0.0.1:18181/_api/region/state > "$out/state.json"
		python3 - "$out/state.json" <<'PY' || exit $?
import collections, json, sys
state = json.load(open(sys.argv[1]))["result"]
leaders, bad = collections.Counter(), []
for u in state["units"]:
    if "spread-partition-" not in u["id"]:
        continue
    print(f'  {u["id"]}: factor {u["factor"]}, replicas {u["replicas"]}, leader {u["leader"]}')
    leaders[u["leader"]] += 1
    if u["factor"] != 1:
        bad.append(f'{u["id"]} has factor {u["factor"]}, not 1')
nodes = [m["id"] for m in state["nodes"]]
print("  partition leaders per node:", ", ".join(f"node {m}: {leaders[m]}" for m in nodes))
if sum(leaders.values()) != 6:
    bad.append(f"{sum(leaders.values())} partition units, not 6")
elif sorted(leaders[m] for m in nodes) != [2, 2, 2]:
    bad.append("partition leaders not spread 2/2/2")
if bad:
    print("NOT MEASURABLE:", "; ".join(bad))
    sys.exit(2)
PY
	fi
	before=""
	for p in $pids; do before="$before $(ticks "$p")"; done
	t0=$(date +%s.%N)
	brc=0
	"$bin" bench pubsub --url "$urls" --spread-urls --stream spread --partitions 6 --rate "$rate" --duration "$duration" \
		--warmup 3s --producers 3 --consumers 3 --subscription-type shared --binary --label "N=$n R=1" \
		--out "$out/spread-n$n.json" --plot none --quiet > "$out/table-n$n.txt" 2>&1 || brc=$?
	t1=$(date +%s.%N)
	after=""
	for p in $pids; do after="$after $(ticks "$p")"; done
	[ "$brc" = 0 ] || { echo "bench exited $brc:"; cat "$out/table-n$n.txt"; rc=1; }
	echo "$n|$before|$after|$t0|$t1" > "$out/cpu-n$n.txt"
	stop
done

python3 - "$out" "$tck" <<'PY'
import json, sys
out, tck = sys.argv[1], int(sys.argv[2])
print(f'{"N":>2} {"load avg at start":>18} {"acked":>8} {"deliver/s":>10} {"p50 ms":>8} {"p99 ms":>8} '
      f'{"CPU s":>6} {"CPU µs/msg per node":>26} {"CPU µs/msg total":>17}')
for n in (1, 3):
    try:
        rep = json.load(open(f"{out}/spread-n{n}.json"))
    except OSError:
        print(f"{n:>2} no report"); continue
    line = open(f"{out}/cpu-n{n}.txt").read().strip().split("|")
    before = [int(x) for x in line[1].split()]
    after = [int(x) for x in line[2].split()]
    secs = [(a - b) / tck for a, b in zip(after, before)]
    acked = rep["counts"].get("acked", 0)
    rates = {r["name"]: r["perSec"] for r in rep.get("rates", [])}
    lat = {l["name"]: l["summary"] for l in rep.get("latencies", [])}
    pd = lat.get("publish-deliver", {})
    per = [s * 1e6 / acked if acked else float("nan") for s in secs]
    print(f'{n:>2} {rep["machine"].get("loadAverage", "?"):>18} {acked:>8} {rates.get("deliver", 0):>10.0f} '
          f'{pd.get("p50Us", 0)/1000:>8.2f} {pd.get("p99Us", 0)/1000:>8.2f} {sum(secs):>6.1f} '
          f'{" / ".join(f"{x:.1f}" for x in per):>26} {sum(per):>17.1f}')
    c = rep["counts"]
    if c.get("missing", 0) or c.get("errors", 0):
        print(f'   counts {c}')
    for note in rep.get("notes", []) or []:
        print("   note:", note)
PY
exit $rc
