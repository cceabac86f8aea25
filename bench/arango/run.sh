#!/usr/bin/env bash
# Driver-level point reads and writes per second (issue 14, "Performance"):
# arangojs (collections/httpapi/testdata/arangojs/bench.mjs) next to curl,
# against one Causeway node, at concurrency 1 and 8 (BENCH_CONC).
#
#   bench/arango/run.sh                       # starts `causeway serve` itself
#   CAUSEWAY_URL=http://127.0.0.1:8529 CAUSEWAY_KEY=cwk_... bench/arango/run.sh
#
# Without CAUSEWAY_URL it builds the binary and runs `causeway serve` on a
# temporary data directory (auth on, a generated admin key, fsync
# BENCH_FSYNC, default always), and stops it at the end. Every client logs
# in with the key at POST /_open/auth and sends the JWT as
# `Authorization: bearer`; every request uses ArangoDB's /_db/_system paths.
#
# Writes: BENCH_N insert-or-replace by key (POST .../document/{c}?overwriteMode=replace,
# keys k0..k{BENCH_KEYS-1}); reads: BENCH_N GET .../document/{c}/{key} of them
# (BENCH_CURL_N of each for the "curl" rows).
# curl is measured two ways: "curl" runs one curl process per request (xargs -P
# for concurrency, the way a shell loop uses it: process start and a new TCP
# connection each time); "curl-ka" runs one curl process over a config of every
# request (keep-alive; --parallel --parallel-max C above 1). Latencies are
# curl's time_total per transfer. Output: one table row per (client, op, conc),
# errors followed by their HTTP statuses (000: no answer). Against a node of
# your own, mind the per-key request limit (auth.requestsPerSecond, default
# 1000/s with a burst of 2000: 429 errors); the node this script starts has none.
set -euo pipefail

N=${BENCH_N:-2000}
CURL_N=${BENCH_CURL_N:-$N} # requests of the one-process-per-request rows (slow: process start each)
KEYS=${BENCH_KEYS:-100}
CONC=${BENCH_CONC:-1,8}
FSYNC=${BENCH_FSYNC:-always}
case "$N$CURL_N$KEYS" in *[!0-9]*) echo "BENCH_N, BENCH_CURL_N and BENCH_KEYS must be numbers" >&2; exit 2 ;; esac
for c in ${CONC//,/ }; do
	case "$c" in '' | *[!0-9]* | 0) echo "BENCH_CONC must list positive numbers: $CONC" >&2; exit 2 ;; esac
done
for tool in node curl xargs awk; do
	command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 2; }
done

root=$(cd "$(dirname "$0")/../.." && pwd)
jsdir=$root/collections/httpapi/testdata/arangojs
work=$(mktemp -d)
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if [ ! -f "$jsdir/node_modules/arangojs/package.json" ]; then
	(cd "$jsdir" && npm ci --no-audit --no-fund >/dev/null)
fi

if [ -z "${CAUSEWAY_URL:-}" ]; then
	(cd "$root" && go build -o "$work/causeway" ./cmd/causeway)
	CAUSEWAY_KEY=$("$work/causeway" keygen)
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	# No per-key request rate limit (default 1000/s, burst 2000): it would
	# be what the fast rows measure.
	printf 'auth:\n  enabled: true\n  requestsPerSecond: -1\n' >"$work/serve.yaml"
	"$work/causeway" serve --config "$work/serve.yaml" --data "$work/data" --http "127.0.0.1:$port" \
		--admin-key "$CAUSEWAY_KEY" --fsync "$FSYNC" --log-level warn >"$work/serve.log" 2>&1 &
	server_pid=$!
	CAUSEWAY_URL=http://127.0.0.1:$port
	for _ in $(seq 200); do
		curl -sf -o /dev/null "$CAUSEWAY_URL/_api/version" -u "root:$CAUSEWAY_KEY" && break
		kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
		sleep 0.1
	done
	echo "node: causeway serve (fsync $FSYNC) at $CAUSEWAY_URL" >&2
fi
: "${CAUSEWAY_KEY:?CAUSEWAY_KEY must be set with CAUSEWAY_URL}"
url=$CAUSEWAY_URL

jwt=$(curl -sf "$url/_open/auth" -d "{\"username\":\"root\",\"password\":\"$CAUSEWAY_KEY\"}" |
	node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).jwt))')
auth="Authorization: bearer $jwt"
col=bench_$$_$(date +%s)
api=$url/_db/_system/_api
status=$(curl -s -o "$work/create.out" -w '%{http_code}' -H "$auth" "$api/collection" -d "{\"name\":\"$col\"}")
[ "$status" = 200 ] || { echo "create collection $col: $status $(cat "$work/create.out")" >&2; exit 1; }

# summarize NAME OP CONC WALL_SECONDS < "status seconds" lines (one a
# transfer): one row; an answer other than 2xx counts as an error.
summarize() {
	sort -k2,2 -g | awk -v client="$1" -v op="$2" -v conc="$3" -v wall="$4" '
		$1 ~ /^2/ { lat[++ok] = $2 * 1000; next } { err++; codes[$1]++ }
		function at(q,  i) { i = int(q * ok) + 1; return lat[i > ok ? ok : i] }
		END {
			if (ok == 0) { printf "%-8s %-5s %4d %8d %8s %8s %6d\n", client, op, conc, 0, "-", "-", err; exit }
			printf "%-8s %-5s %4d %8d %8.2f %8.2f %6d", client, op, conc, ok / wall, at(0.5), at(0.99), err + 0
			for (c in codes) printf " %s:%d", c, codes[c]
			printf "\n"
		}'
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { print b - a }'; }

# curl_each OP CONC: one curl process per request, CONC at a time.
curl_each() {
	local op=$1 conc=$2 t0
	t0=$(now)
	if [ "$op" = write ]; then
		seq 0 $((CURL_N - 1)) | xargs -P "$conc" -I{} sh -c \
			'i={}; curl -s -o /dev/null -w "%{http_code} %{time_total}\n" -H "$1" -H "Content-Type: application/json" \
				"$2/document/$3?overwriteMode=replace" -d "{\"_key\":\"k$((i % $4))\",\"i\":$i,\"conc\":$5,\"pad\":\"$6\"}"' \
			_ "$auth" "$api" "$col" "$KEYS" "$conc" "$pad" >"$work/lat"
	else
		seq 0 $((CURL_N - 1)) | xargs -P "$conc" -I{} sh -c \
			'i={}; curl -s -o /dev/null -w "%{http_code} %{time_total}\n" -H "$1" "$2/document/$3/k$((i % $4))"' \
			_ "$auth" "$api" "$col" "$KEYS" >"$work/lat"
	fi
	summarize curl "$op" "$conc" "$(elapsed "$t0")" <"$work/lat"
}

# curl_keepalive OP CONC: one curl process over a config holding every
# request (blocks separated by `next`, so each carries its own options).
curl_keepalive() {
	local op=$1 conc=$2 t0 par=()
	for ((i = 0; i < N; i++)); do
		[ "$i" -gt 0 ] && echo next
		if [ "$op" = write ]; then
			printf 'url = "%s/document/%s?overwriteMode=replace"\nheader = "Content-Type: application/json"\n' "$api" "$col"
			printf 'data = "{\\"_key\\":\\"k%d\\",\\"i\\":%d,\\"conc\\":%d,\\"pad\\":\\"%s\\"}"\n' $((i % KEYS)) "$i" "$conc" "$pad"
		else
			printf 'url = "%s/document/%s/k%d"\n' "$api" "$col" $((i % KEYS))
		fi
		printf 'header = "%s"\noutput = "/dev/null"\nsilent\nwrite-out = "%%{http_code} %%{time_total}\\n"\n' "$auth"
	done >"$work/cfg"
	[ "$conc" -gt 1 ] && par=(--parallel --parallel-immediate --parallel-max "$conc")
	t0=$(now)
	curl -s "${par[@]}" -K "$work/cfg" >"$work/lat" 2>"$work/curl.err" # --parallel prints progress despite -s
	summarize curl-ka "$op" "$conc" "$(elapsed "$t0")" <"$work/lat"
}

pad=$(printf 'x%.0s' $(seq 64))
echo "N=$N per row ($CURL_N for curl), keys=$KEYS, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-8s %-5s %4s %8s %8s %8s %6s\n" client op conc ops/s p50ms p99ms errors
(cd "$jsdir" && CAUSEWAY_URL=$url CAUSEWAY_KEY=$CAUSEWAY_KEY BENCH_COLLECTION=$col BENCH_N=$N BENCH_KEYS=$KEYS BENCH_CONC=$CONC node bench.mjs) |
	node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const l of s.trim().split("\n")){const r=JSON.parse(l);
		console.log(`${r.client.padEnd(8)} ${r.op.padEnd(5)} ${String(r.conc).padStart(4)} ${String(r.ops_per_s).padStart(8)} ${r.p50_ms.toFixed(2).padStart(8)} ${r.p99_ms.toFixed(2).padStart(8)} ${String(r.errors).padStart(6)}`)}})'
for c in ${CONC//,/ }; do
	for op in write read; do curl_each "$op" "$c"; done
done
for c in ${CONC//,/ }; do
	for op in write read; do curl_keepalive "$op" "$c"; done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
