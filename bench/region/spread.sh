#!/usr/bin/env bash
# Checks the precondition of issue 12's spreading measurement (N = 3,
# R = 1, a 6-partition stream: CPU per message per node as with N = 1):
# starts a region of three nodes on loopback, asks for a stream described
# with replicas 1 and partitions 6, and for the six Pulsar-style
# {name}-partition-{i} streams `causeway bench pubsub --partitions 6`
# publishes to, each described with replicas 1; then prints, from
# GET /_api/region/state, every unit's factor, replicas and leader, and the
# number of partition leaders per node.
#
#   bench/region/spread.sh [OUTDIR]       (REPLICAS=1 by default)
#
# Exit status: 0 when every partition unit has factor REPLICAS and the six
# leaders are spread evenly (2/2/2), 2 when not (the load run would not
# measure what the issue asks), 1 on any other failure. Ports 18181-18183,
# 17111-17113 and 17211-17213 (run.sh uses others, both can run at once).
set -euo pipefail
out=${1:-/tmp/causeway-region-spread}
want=${REPLICAS:-1}
mkdir -p "$out"
bin="$out/causeway"
go build -o "$bin" ./cmd/causeway

dir="$out/n3"
rm -rf "$dir"; mkdir -p "$dir"
: > "$dir/pids"
trap 'kill $(cat "$dir/pids") 2>/dev/null || true; wait' EXIT
voters="1=127.0.0.1:17111,2=127.0.0.1:17112,3=127.0.0.1:17113"
for i in 1 2 3; do
	peers=""
	for j in 1 2 3; do [ "$j" != "$i" ] && peers="$peers${peers:+,}http://127.0.0.1:1818$j"; done
	"$bin" serve --region us-east --data "$dir/d$i" --http "127.0.0.1:1818$i" --auth false --log-level error \
		--cluster-node "$i" --cluster-raft "127.0.0.1:1711$i" --cluster-data "127.0.0.1:1721$i" \
		--cluster-voters "$voters" --cluster-peers "$peers" --cluster-secret bench-region-secret-0123456789 \
		> "$dir/log$i" 2>&1 &
	echo $! >> "$dir/pids"
done
sleep 8

api=http://127.0.0.1:18181/_fabric/_system/_api/streams
create() { # POST $1 with body $2 to node $3; prints the HTTP status and answer
	curl -sS -X POST -H 'Content-Type: application/json' -d "$2" -w ' -> HTTP %{http_code}\n' \
		"http://127.0.0.1:1818$3/_fabric/_system/_api/streams/$1"
}
echo "== a stream described with replicas $want and partitions 6"
create spread "{\"replicas\":$want,\"partitions\":6}" 1
echo "== the same asked as query parameters"
curl -sS -X POST -w ' -> HTTP %{http_code}\n' "$api/spread-q?replicas=$want&partitions=6"
echo "== six partition streams spread-partition-{0..5}, each described with replicas $want (created on nodes 1,2,3 in turn)"
for i in 0 1 2 3 4 5; do
	printf '  spread-partition-%d on node %d: ' "$i" $((i % 3 + 1))
	curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' -d "{\"replicas\":$want}" -w 'HTTP %{http_code}\n' \
		"http://127.0.0.1:1818$((i % 3 + 1))/_fabric/_system/_api/streams/spread-partition-$i"
done
sleep 2

echo "== GET /_api/region/state (units)"
curl -sS http://127.0.0.1:18181/_api/region/state > "$out/state.json"
python3 - "$out/state.json" "$want" <<'EOF'
import collections, json, sys
state = json.load(open(sys.argv[1]))["result"]
want = int(sys.argv[2])
leaders = collections.Counter()
bad = []
for u in state["units"]:
    print(f'  {u["id"]}: factor {u["factor"]}, replicas {u["replicas"]}, leader {u["leader"]}, '
          f'in sync {[m["node"] for m in u.get("inSync", [])]}')
    if "-partition-" in u["id"]:
        leaders[u["leader"]] += 1
        if u["factor"] != want:
            bad.append(f'{u["id"]} has factor {u["factor"]}, not {want}')
nodes = [n["id"] for n in state["nodes"]]
print("partition leaders per node:", ", ".join(f"node {n}: {leaders[n]}" for n in nodes))
if sum(leaders.values()) != 6:
    bad.append(f"{sum(leaders.values())} partition units, not 6")
elif sorted(leaders[n] for n in nodes) != [2, 2, 2]:
    bad.append("partition leaders not spread 2/2/2")
if bad:
    print("NOT MEASURABLE:", "; ".join(bad))
    sys.exit(2)
print("OK: six partition units of factor", want, "spread 2/2/2")
EOF
