#!/usr/bin/env bash
# Re-measures every performance figure of README.md, README-collections.md,
# spot/README.md and bench/peers/README.md in one run (issue #15 item 6),
# one step after another, and prints one markdown table: figure -> measured
# value(s) -> README section.
#
#   bench/rerun/run.sh OUTDIR                        # every step (about 45 min on 2 cores)
#   QUICK=1 bench/rerun/run.sh OUTDIR                # 2-3 s per measurement: checks every step works
#   STEPS="peers kafka region" bench/rerun/run.sh OUTDIR
#   bench/rerun/run.sh --summary OUTDIR              # the table again from an earlier run's outputs
#
# Steps (in this order; see README.md in this directory for what each runs):
#   peers ws kafka disk region spread failover regionrepl ship cursorstore geo geoproc
#   geopin mesh backfill hostile streamworkers engine console collections
#   collectionse2e arango spot
#
# Everything is built once at the start (the causeway binary, profnode and
# one test binary per package), so every step measures the same tree; the
# commit, the number of modified tracked files, the date and `uptime` are
# recorded before and after each step in OUTDIR/<step>/meta.txt. Raw outputs
# stay in OUTDIR/<step>/. Each step runs in its own session (setsid): when
# it ends, fails or times out (STEP_TIMEOUT seconds), whatever it left
# running is killed by its process group, and an interrupted run kills the
# current step's group too. A failed step is FAILED in the summary and the
# run goes on. Exit status: 0 when every step passed, 1 otherwise.
#
# Lengths (environment; defaults in brackets, QUICK=1 values after the slash):
#   PEERS_DURATION [10s/2s] PEERS_WARMUP [3s/1s] PEERS_RATES [10k,40k,half-slowest/10k] PEERS_MODES [always interval]
#   WS_BENCHTIME [100000x/20000x] WS_COUNT [3/1]
#   KAFKA_DURATION [8s/3s] KAFKA_WARMUP [2s/1s] KAFKA_RUNS [3/1] (each: with consumers, then produce only;
#     then one run with --client kafka-go)   DISK_MIB [2048/256] (dd)
#   REGION_COUNT [300000/30000] REGION_RATE_DURATION [12s/3s]
#   SPREAD_DURATION [20s/5s: its warm-up is 3s] SPREAD_RATE [10000]
#   REPL_BENCHTIME [20000x/2000x] SHIP_BENCHTIME [100000x/10000x] CURSOR_BENCHTIME [2000x/200x]
#   GEO_BENCHTIME [200000x/20000x] GEO_LATENCY_N [3000x/400x] GEO_CATCHUP_MSGS [1000000/50000]
#   GEOPROC_DURATION [12s/3s: each run of geoproc and geopin; its warm-up is 4s/1s]
#   GEOPIN_CATCHUP_MSGS [1000000/50000: the backlog of geopin's catch-up runs of 1 KiB]
#   GEOPIN_BIG_MSGS [100000/5000: the backlog of its catch-up of 16 KiB messages]
#   MESH_BENCHTIME [10x/2x] BACKFILL_MESSAGES [1000000/20000] BACKFILL_DOCS [100000/2000]
#   SW_BENCHTIME [200000x/20000x] ENGINE_BENCHTIME [1s/200ms]
#   COLL_BENCHTIME [5s/1s] COLL_QUERY_DOCS [10000/10000] COLL_QUERY_BENCHTIME [3x/1x] COLL_AQL_DOCS [100000/10000]
#   COLL_DRIVER_BENCHTIME [3s/1s] COLLE2E_POINT [10000x/1000x] COLLE2E_CONV_SHORT [50x/5x] COLLE2E_CONV [200x/20x] COLLE2E_CATCHUP_OPS [20000/2000]
#   ARANGO_N [2000/200] ARANGO_CURL_N [200/20]
#   SPOT_BENCHTIME [3s/1s] SPOT_FORWARDED [200x/20x]
#   STEP_TIMEOUT [1500/600] seconds per step
# The failover (TestRegionSurvivesTwentyKills), hostile, console and
# backfill steps are tests with fixed lengths of their own (QUICK shortens
# only the backfill).
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
self="$here/$(basename "$0")"
Q="${QUICK:-0}"
pick() { if [ "$Q" = 1 ]; then echo "$2"; else echo "$1"; fi; } # pick FULL QUICK

ALL_STEPS="peers ws kafka disk region spread failover regionrepl ship cursorstore geo geoproc geopin mesh backfill hostile streamworkers engine console collections collectionse2e arango spot"

# Test binaries: step -> "name:package ..." (built with go test -c, run in the package's directory).
step_pkgs() {
	case "$1" in
	ws) echo "ws:./broker/ws" ;;
	failover) echo "causeway:./cmd/causeway" ;;
	regionrepl) echo "region:./region" ;;
	ship) echo "ship:./region/ship" ;;
	cursorstore) echo "cursorstore:./region/cursorstore" ;;
	geo) echo "replicatore2e:./replicator/e2e" ;;
	mesh) echo "replicator:./replicator" ;;
	backfill) echo "replicatore2e:./replicator/e2e" ;;
	hostile) echo "server:./server" ;;
	streamworkers) echo "streamworkers:./streamworkers" ;;
	engine) echo "engine:./streamworkers/engine" ;;
	console) echo "console:./console" ;;
	collections) echo "httpapi:./collections/httpapi service:./collections/service" ;;
	collectionse2e) echo "collectionse2e:./collections/e2e" ;;
	spot) echo "spot:./spot" ;;
	esac
}

section() {
	case "$1" in
	peers) echo "README Performance (peers table; Latency at equal load)" ;;
	ws) echo "README Performance (Where the time goes: WSPublish, WSConsume)" ;;
	kafka) echo "README Performance → The Kafka path" ;;
	disk) echo "README Performance → The Kafka path (dd on this disk)" ;;
	region) echo "README Performance → A region of three nodes" ;;
	spread) echo "README Performance → A region of three nodes (How the work spreads with R = 1)" ;;
	failover) echo "README Performance → A region of three nodes (Failover); Configuration → A region of several nodes" ;;
	regionrepl) echo "README Architecture → Regions of many nodes (Data by log shipping)" ;;
	ship) echo "README Architecture → Regions of many nodes (region/ship, Measured)" ;;
	cursorstore) echo "README Architecture → Regions of many nodes (Cursors)" ;;
	geo) echo "README Geo-replication (Measured on this 2-core shared machine)" ;;
	geoproc) echo "README Performance → Geo replication, regions as processes (issue #15 item 5)" ;;
	geopin) echo "README Performance → Geo replication, each region on its own core (issue #15 item 5)" ;;
	mesh) echo "README Geo-fabrics (Metadata scales with the list)" ;;
	backfill) echo "README Geo-fabrics (Backfill time)" ;;
	hostile) echo "README Security (hostile clients)" ;;
	streamworkers) echo "README Stream workers (Measured on this machine)" ;;
	engine) echo "README Stream workers (the engine alone, streamworkers/engine)" ;;
	console) echo "README Console (Measured on this 2-core machine)" ;;
	collections) echo "README-collections Performance; AQL Performance; ArangoDB drivers; op-log trim" ;;
	collectionse2e) echo "README-collections Performance (three-region fabric, convergence, catch-up)" ;;
	arango) echo "README-collections ArangoDB drivers (arangojs and curl)" ;;
	spot) echo "spot/README Figures" ;;
	*) echo "?" ;;
	esac
}

meta() { # meta LABEL >> meta.txt
	echo "$1: $(date -u +%FT%TZ) commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')" \
		"($(git -C "$repo" status --short --untracked-files=no 2>/dev/null | wc -l) tracked files modified)" \
		"load:$(uptime | sed 's/.*load average://')"
}

# ---------------------------------------------------------------- extraction helpers

# gobench_rows PREFIX < go test -bench output: one row per benchmark, every
# reported metric (ns/op only when nothing else is reported), the values of
# repeated runs (-count) side by side.
gobench_rows() {
	awk -v prefix="$1" -v sec="$2" '
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		if (!(name in seen)) { seen[name] = 1; order[++n] = name }
		custom = 0
		for (i = 3; i < NF; i += 2) if ($(i+1) != "ns/op" && $(i+1) != "B/op" && $(i+1) != "allocs/op") custom = 1
		for (i = 3; i < NF; i += 2) if ($(i+1) == "ns/op" && $i > 0) {
			k = name SUBSEP "ns/op"; nsop[k] = nsop[k] (nsop[k] == "" ? "" : ", ") sprintf("%.0f", 1e9 / $i)
		}
		for (i = 3; i < NF; i += 2) {
			u = $(i+1)
			if (u == "B/op" || u == "allocs/op" || (u == "ns/op" && custom)) continue
			k = name SUBSEP u
			if (!(k in vals)) units[name] = units[name] (units[name] == "" ? "" : SUBSEP) u
			vals[k] = vals[k] (vals[k] == "" ? "" : ", ") $i
		}
	}
	END {
		for (j = 1; j <= n; j++) {
			name = order[j]; m = split(units[name], us, SUBSEP); s = ""
			for (x = 1; x <= m; x++) s = s (s == "" ? "" : "; ") vals[name SUBSEP us[x]] " " us[x]
			if (s ~ /p50/ && s !~ /\/s/ && ((name SUBSEP "ns/op") in nsop)) s = s "; " nsop[name SUBSEP "ns/op"] " ops/s (1e9 ÷ ns/op)"
			printf "| %s%s | %s | %s |\n", prefix, name, s, sec
		}
	}'
}

# report_row FIGURE SECTION JSON: the throughput and latency of a causeway bench report.
report_row() {
	[ -f "$3" ] || { echo "| $1 | no report ($3) | $2 |"; return; }
	jq -r --arg fig "$1" --arg sec "$2" '
		def r(n): ([.rates[]? | select(.name == n) | .perSec] | first // null);
		def l(n): ([.latencies[]? | select(.name == n) | .summary] | first // null);
		def ms(x): if x == null then "-" else ((x / 10 | round) / 100 | tostring) + " ms" end;
		(r("publish")) as $p | (r("deliver")) as $d | (l("publish-deliver")) as $pd | (l("publish-ack")) as $pa |
		"| \($fig) | " +
		([ (if $p then "publish \($p | round) msgs/s" else empty end),
		   (if $d then "deliver \($d | round) msgs/s" else empty end),
		   (if $pd then "publish→deliver p50 \(ms($pd.p50Us)) p99 \(ms($pd.p99Us))" else empty end),
		   (if $pd == null and $pa then "publish-ack p50 \(ms($pa.p50Us)) p99 \(ms($pa.p99Us))" else empty end),
		   (if ((.counts.errors // 0) + (.counts.missing // 0)) > 0 then "errors+missing \((.counts.errors // 0) + (.counts.missing // 0))" else empty end),
		   "load \(.machine.loadAverage // "?")"
		 ] | join("; ")) + " | \($sec) |"' "$3"
}

# logline_rows SECTION FILE LABEL PATTERN [LABEL PATTERN]...: the t.Logf lines
# matching each pattern (at most 300 characters of each), as rows.
logline_rows() {
	local sec="$1" file="$2" label p
	shift 2
	while [ $# -ge 2 ]; do
		label="$1" p="$2"
		shift 2
		grep -E "$p" "$file" 2>/dev/null | sed -E 's/^ *[a-z_0-9]+\.go:[0-9]+: //; s/\{"code".*"count":([0-9]+).*\}/\1/; s/\|/\\|/g' | cut -c1-300 | head -5 |
			while IFS= read -r l; do echo "| $label | $l | $sec |"; done
	done
}

# ---------------------------------------------------------------- steps
# Each runs in OUTDIR/<step> ($d) in its own session; stdout+stderr go to $d/out.txt.

tb() { echo "$OUT/bin/$1.test"; } # the test binary of NAME

gotest() { # gotest NAME PKGDIR ARGS...: run a prebuilt test binary in its package's directory
	local name="$1" pkg="$2"
	shift 2
	(cd "$repo/$pkg" && "$(tb "$name")" "$@")
}

run_peers() {
	MODES="${PEERS_MODES:-always interval}" DURATION="${PEERS_DURATION:-$(pick 10s 2s)}" \
		HALF_DURATION="${PEERS_DURATION:-$(pick 10s 2s)}" WARMUP="${PEERS_WARMUP:-$(pick 3s 1s)}" \
		RATES="${PEERS_RATES-$(pick 10k,40k,half-slowest 10k)}" CAUSEWAY="$OUT/bin/causeway" \
		"$repo/bench/peers/run.sh" "$d/run"
}
extract_peers() {
	local mode f t label class
	for mode in ${PEERS_MODES:-always interval}; do
		for class in max half rate; do # the maxima, then ½ of the first target's, then the fixed rates
			for f in "$d/run/$mode"/peers-*.json; do
				[ -f "$f" ] || continue
				t=$(jq -r '.target' "$f")
				label=$(basename "$f" .json | sed -E "s/^peers-$t//; s/^-//")
				case "$label" in
				"") [ "$class" = max ] || continue; label="at its maximum" ;;
				half) [ "$class" = half ] || continue; label="at ½ of the first target's maximum" ;;
				rate-*) [ "$class" = rate ] || continue; label="at ${label#rate-}/s" ;;
				esac
				[ "$t" = causeway ] && t="causeway (JSON)"
				report_row "fsync $mode: $t $label" "$1" "$f"
			done
		done
	done
}

run_disk() { # dd of DISK_MIB MiB in the step's directory: buffered then fdatasync, and O_DIRECT
	local mib="${DISK_MIB:-$(pick 2048 256)}"
	echo "buffered+fdatasync"
	dd if=/dev/zero of="$d/dd.bin" bs=1M count="$mib" conv=fdatasync 2>&1 | tail -1
	rm -f "$d/dd.bin"
	echo "direct"
	dd if=/dev/zero of="$d/dd.bin" bs=1M count="$mib" oflag=direct 2>&1 | tail -1
	rm -f "$d/dd.bin"
}
extract_disk() {
	awk -v sec="$1" '/^buffered|^direct/ { what = $1; next } / copied/ { printf "| dd on this disk, %s (%d MiB) | %s %s | %s |\n", what, $1 / 1048576, $(NF-1), $NF, sec }' "$d/out.txt"
}

run_ws() {
	gotest ws broker/ws -test.run XXX -test.bench 'WSPublish|WSConsume' \
		-test.benchtime "${WS_BENCHTIME:-$(pick 100000x 20000x)}" -test.count "${WS_COUNT:-$(pick 3 1)}"
}
extract_ws() { gobench_rows "" "$1" <"$d/out.txt"; }

ticks() { # user+system clock ticks of PID
	local f
	read -r -a f <"/proc/$1/stat" || { echo 0; return; }
	echo $((f[13] + f[14]))
}

run_kafka() {
	local pid i mode cons t0 t1 dur warm runs tck
	tck=$(getconf CLK_TCK)
	dur="${KAFKA_DURATION:-$(pick 8s 3s)}" warm="${KAFKA_WARMUP:-$(pick 2s 1s)}" runs="${KAFKA_RUNS:-$(pick 3 1)}"
	"$OUT/bin/profnode" --data "$d/data" --http 127.0.0.1:19480 --kafka 127.0.0.1:19492 --fsync always \
		--pprof 127.0.0.1:16460 >"$d/profnode.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/19492) 2>/dev/null && break; sleep 0.1; done
	for i in $(seq "$runs"); do
		for mode in consumers produce-only; do
			cons=4
			[ "$mode" = produce-only ] && cons=0
			t0=$(ticks "$pid")
			"$OUT/bin/causeway" bench kafka --brokers 127.0.0.1:19492 --size 1024 --producers 4 --consumers "$cons" \
				--partitions 4 --subscription-type shared --fsync always --duration "$dur" --warmup "$warm" \
				--quiet --plot none --out "$d/kafka-$mode-$i.json" || echo "run $i $mode: bench exited $?"
			t1=$(ticks "$pid")
			echo "$t0 $t1 $tck" >"$d/servercpu-$mode-$i.txt"
		done
	done
	# --client kafka-go: segmentio/kafka-go, which measures its own client (README: 21,500-35,200 msgs/s).
	t0=$(ticks "$pid")
	"$OUT/bin/causeway" bench kafka --client kafka-go --brokers 127.0.0.1:19492 --size 1024 --producers 4 --consumers 4 \
		--partitions 4 --subscription-type shared --fsync always --duration "$dur" --warmup "$warm" \
		--quiet --plot none --out "$d/kafka-kafkago-1.json" || echo "kafka-go run: bench exited $?"
	t1=$(ticks "$pid")
	echo "$t0 $t1 $tck" >"$d/servercpu-kafkago-1.txt"
	kill "$pid"
	wait "$pid"
}
extract_kafka() {
	local f base cpu label
	for f in "$d"/kafka-*.json; do
		[ -f "$f" ] || continue
		base=$(basename "$f" .json)
		cpu=$(awk -v acked="$(jq '.counts.acked // 0' "$f")" '{ if (acked > 0) printf "%.2f", ($2 - $1) / $3 * 1e6 / acked; else print "-" }' \
			"$d/servercpu-${base#kafka-}.txt" 2>/dev/null)
		case "$base" in
		kafka-consumers-*) label="franz-go, 4 consumers, run ${base##*-}" ;;
		kafka-produce-only-*) label="franz-go, produce only, run ${base##*-}" ;;
		kafka-kafkago-*) label="kafka-go client, 4 consumers" ;;
		*) label="$base" ;;
		esac
		report_row "Kafka path: $label (1 KiB, 4 producers, 4 partitions, acks=all, fsync always)" "$1" "$f" |
			sed "s/; load /; server CPU ${cpu:--} µs\/msg; client CPU $(jq -r 'if (.counts.acked // 0) > 0 then ((.clientCPU.userSeconds + .clientCPU.systemSeconds) * 1e6 / .counts.acked * 100 | round / 100 | tostring) else "-" end' "$f") µs\/msg; load /"
	done
}

run_region() {
	cd "$repo" && COUNT="${REGION_COUNT:-$(pick 300000 30000)}" RATE_DURATION="${REGION_RATE_DURATION:-$(pick 12s 3s)}" \
		"$repo/bench/region/run.sh" "$d/run"
}
extract_region() {
	local n
	for n in 1 3; do
		report_row "region of $n node(s), 4 binary producers at the maximum (R = $n)" "$1" "$d/run/max-n$n.json"
		report_row "region of $n node(s), publish→deliver at ${RATE:-5000} msgs/s" "$1" "$d/run/rate-n$n.json"
	done
	awk -v sec="$1" '
		/^== region of/ { n = $4 }
		/^servers. CPU:/ { printf "| region of %s node(s): servers'"'"' CPU per message | %.1f µs (%s s of CPU for %s messages) | %s |\n", n, $3 / $9 * 1e6, $3, $9, sec }
		/^three idle nodes/ { sub(/^three idle nodes: /, ""); printf "| three idle nodes | %s | %s |\n", $0, sec }' "$d/out.txt"
}

run_spread() {
	cd "$repo" && RATE="${SPREAD_RATE:-10000}" DURATION="${SPREAD_DURATION:-$(pick 20s 5s)}" "$repo/bench/region/spread.sh" "$d/run"
}
extract_spread() {
	local n acked cpu
	for n in 1 3; do
		[ -f "$d/run/spread-n$n.json" ] || continue
		acked=$(jq '.counts.acked // 0' "$d/run/spread-n$n.json")
		# cpu-nN.txt: N|ticks before per node|ticks after per node|t0|t1 (spread.sh)
		cpu=$(awk -F'|' -v acked="$acked" -v tck="$(getconf CLK_TCK)" '{
			nb = split($2, b, " "); split($3, a, " "); tot = 0; per = ""
			for (i = 1; i <= nb; i++) { x = (a[i] - b[i]) / tck * 1e6 / acked; tot += x; per = per (per == "" ? "" : " / ") sprintf("%.1f", x) }
			printf "servers'"'"' CPU per message %s µs per node, %.1f µs in total", per, tot }' "$d/run/cpu-n$n.txt" 2>/dev/null)
		report_row "spread: 6 partitions with R = 1 on $n node(s), ${SPREAD_RATE:-10000} msgs/s" "$1" "$d/run/spread-n$n.json" |
			sed "s|; load |; ${cpu:-CPU not recorded}; load |"
	done
}

run_failover() { gotest causeway cmd/causeway -test.run '^TestRegionSurvivesTwentyKills$' -test.v -test.timeout 20m; }
extract_failover() {
	logline_rows "$1" "$d/out.txt" "failover: kill to first publish" 'go:[0-9]+: failover \(kill' \
		"20 kills and a wipe: counts" 'kills and one wipe in' "other producers' longest stall" 'longest publish stall'
}

run_regionrepl() { gotest region region -test.run '^$' -test.bench Replication -test.benchtime "${REPL_BENCHTIME:-$(pick 20000x 2000x)}"; }
extract_regionrepl() { gobench_rows "" "$1" <"$d/out.txt"; }

run_ship() { gotest ship region/ship -test.run '^$' -test.bench Ship -test.benchtime "${SHIP_BENCHTIME:-$(pick 100000x 10000x)}"; }
extract_ship() { gobench_rows "" "$1" <"$d/out.txt"; }

run_cursorstore() { gotest cursorstore region/cursorstore -test.run '^$' -test.bench Save -test.benchtime "${CURSOR_BENCHTIME:-$(pick 2000x 200x)}"; }
extract_cursorstore() { gobench_rows "" "$1" <"$d/out.txt"; }

run_geo() {
	local rc=0 bt lat
	bt="${GEO_BENCHTIME:-$(pick 200000x 20000x)}" lat="${GEO_LATENCY_N:-$(pick 3000x 400x)}"
	gotest replicatore2e replicator/e2e -test.run '^$' -test.bench 'PublishSingleRegion|ReplicationThroughput' -test.benchtime "$bt" -test.count 2 || rc=1
	for r in 200 1000; do
		gotest replicatore2e replicator/e2e -test.run '^$' -test.bench PublishToDeliverLatency -test.benchtime "$lat" -latency-rate "$r" |
			sed "s/^BenchmarkPublishToDeliverLatency/BenchmarkPublishToDeliverLatency@${r}msgs\/s/" || rc=1
	done
	gotest replicatore2e replicator/e2e -test.run '^$' -test.bench 'CatchUp' -test.benchtime 1x -catchup-msgs "${GEO_CATCHUP_MSGS:-$(pick 1000000 50000)}" -test.timeout 30m || rc=1
	return $rc
}
extract_geo() { gobench_rows "" "$1" <"$d/out.txt"; }

# geoproc: one region alone, then two regions as separate processes (profnode
# with --peer): publish at the maximum in a, consume in a and b; then at half
# of that rate with 40-45 ms of emulated one-way latency (40 ms plus a uniform
# jitter of 0-5 ms; issue #15 item 5).
run_geoproc() {
	local half rc=0
	geo_solo "" "" || rc=1
	geo_pair max "" "" "" "" || rc=1
	half=$(jq '([.rates[]? | select(.name == "publish") | .perSec] | first // 20000) / 2 | floor' "$d/geo-max.json" 2>/dev/null)
	geo_pair half-wan "" "" "" "${half:-20000}" || rc=1
	return $rc
}
extract_geoproc() {
	report_row "geo, one region alone (no peers): 4 binary producers at the maximum, 1 consumer" "$1" "$d/solo.json"
	geo_row "geo, regions a and b as processes: publish in a at the maximum, consume in a and b" "$1" max
	geo_row "geo, regions as processes, 40-45 ms one-way: publish in a at half of that maximum" "$1" half-wan
}

# geopin: geoproc's measurements with each region on a core of its own
# (taskset), the closest this machine comes to regions on separate machines:
# one region alone on core 0 with the load generator on core 1; then region
# a on core 0, region b and the load generator on core 1. Maximum, then 10,000
# and 30,000 msgs/s with 40-45 ms one-way (issue #15 item 5). Last, the
# replication alone, without the load generator beside b: a backlog
# published in a while its link to b is cut, then b's catch-up (geo_catchup).
run_geopin() {
	local r rc=0
	command -v taskset >/dev/null || { echo "geopin: taskset is missing (util-linux)"; return 1; }
	[ "$(nproc)" -ge 2 ] || { echo "geopin: needs 2 cores, this machine has $(nproc)"; return 1; }
	geo_solo 0 1 || rc=1
	geo_pair max 0 1 1 "" || rc=1
	for r in 10000 30000; do geo_pair "$r" 0 1 1 "$r" || rc=1; done
	geo_catchup "${GEOPIN_CATCHUP_MSGS:-$(pick 1000000 50000)}" || rc=1
	catchup_pair catchupwan "${GEOPIN_CATCHUP_MSGS:-$(pick 1000000 50000)}" 1024 --wan-latency 40ms --wan-jitter 5ms || rc=1
	catchup_pair catchupwanbig "${GEOPIN_BIG_MSGS:-$(pick 100000 5000)}" 16384 --wan-latency 40ms --wan-jitter 5ms || rc=1
	return $rc
}
extract_geopin() {
	local r
	report_row "geo on own cores, one region alone (node on core 0, load generator on core 1): 4 binary producers at the maximum, 1 consumer" "$1" "$d/solo.json"
	geo_row "geo on own cores (a on core 0; b and the load generator on core 1): publish in a at the maximum, consume in a and b" "$1" max
	for r in 10000 30000; do geo_row "geo on own cores, 40-45 ms one-way: publish in a at $r msgs/s" "$1" "$r"; done
	catchup_row "geo on own cores, replication alone: the same backlog published into one region alone (core 0), then into a (core 0) while its link to b is cut; then b (core 1) catches up, the load generator idle" "$1"
	catchup_row "geo on own cores, replication alone over 40-45 ms one-way: the same backlog into a while its link to b is cut, then b's catch-up" "$1" catchupwan 1024
	catchup_row "geo on own cores, replication alone over 40-45 ms one-way, messages of 16 KiB: a backlog into a while its link to b is cut, then b's catch-up" "$1" catchupwanbig 16384
}

# The geo steps' parts. A CORE argument pins a process to that core
# (taskset, which execs it: $! stays the process's PID); empty leaves it
# to the scheduler.
pin_to() { # pin_to CORE: sets the array pin to the command prefix
	pin=()
	[ -z "$1" ] || pin=(taskset -c "$1")
}
geo_flags() { # the load of every geo run
	echo --binary --size 1024 --producers 4 --consumers 1 --duration "${GEOPROC_DURATION:-$(pick 12s 3s)}" \
		--warmup "$(pick 4s 1s)" --quiet --plot none
}
# geo_solo CORE_NODE CORE_CLIENT: one region alone at the maximum
# (solo.json; its CPU ticks before, after and CLK_TCK in cpu-solo.txt).
geo_solo() {
	local ps rc=0 pin
	pin_to "$1"
	"${pin[@]}" "$OUT/bin/profnode" --data "$d/solo" --http 127.0.0.1:19580 --pprof 127.0.0.1:16580 >"$d/solo.log" 2>&1 &
	ps=$!
	waitport 19580
	echo "$(ticks "$ps")" >"$d/cpu-solo.txt"
	# shellcheck disable=SC2046 # geo_flags is a word list
	pin_to "$2"
	"${pin[@]}" "$OUT/bin/causeway" bench pubsub --url http://127.0.0.1:19580 $(geo_flags) --out "$d/solo.json" || rc=1
	echo "$(ticks "$ps") $(getconf CLK_TCK)" >>"$d/cpu-solo.txt"
	kill "$ps"; wait "$ps"
	return $rc
}
# pair_up TAG CORE_A CORE_B [FLAG...]: starts regions a and b as processes
# on fresh data directories (logs a-TAG.log, b-TAG.log; FLAGs go to both),
# sets the caller's pa and pb to their PIDs and waits until both joined.
pair_up() {
	local tag=$1 pin
	rm -rf "$d/a" "$d/b"
	pin_to "$2"
	"${pin[@]}" "$OUT/bin/profnode" --region a --data "$d/a" --http 127.0.0.1:19581 --repl 127.0.0.1:19591 --peer b=127.0.0.1:19592 \
		--pprof 127.0.0.1:16581 "${@:4}" >"$d/a-$tag.log" 2>&1 &
	pa=$!
	pin_to "$3"
	"${pin[@]}" "$OUT/bin/profnode" --region b --data "$d/b" --http 127.0.0.1:19582 --repl 127.0.0.1:19592 --peer a=127.0.0.1:19591 \
		--pprof 127.0.0.1:16582 "${@:4}" >"$d/b-$tag.log" 2>&1 &
	pb=$!
	waitjoined 19581 && waitjoined 19582
}
# geo_pair TAG CORE_A CORE_B CORE_CLIENT RATE: regions a and b as processes,
# publish in a (at RATE with 40-45 ms one-way, or at the maximum without WAN
# emulation when RATE is empty), consume in a and b (geo-TAG.json; both
# regions' CPU ticks before, after and CLK_TCK in cpu-geo-TAG.txt).
geo_pair() {
	local tag=$1 pa pb rc=0 wan=() load=() pin
	[ -z "$5" ] || wan=(--wan-latency 40ms --wan-jitter 5ms) load=(--rate "$5" --wan "40-45ms one-way")
	pair_up "$tag" "$2" "$3" "${wan[@]}"
	echo "$(ticks "$pa") $(ticks "$pb")" >"$d/cpu-geo-$tag.txt"
	# shellcheck disable=SC2046 # geo_flags is a word list
	pin_to "$4"
	"${pin[@]}" "$OUT/bin/causeway" bench geo --regions a=http://127.0.0.1:19581,b=http://127.0.0.1:19582 --include-home \
		$(geo_flags) "${load[@]}" --out "$d/geo-$tag.json" || rc=1
	echo "$(ticks "$pa") $(ticks "$pb") $(getconf CLK_TCK)" >>"$d/cpu-geo-$tag.txt"
	kill "$pa" "$pb"; wait "$pa" "$pb"
	return $rc
}
# geo_catchup N: first one region alone (core 0) takes N messages of 1 KiB
# at the maximum (load generator on core 1, no consumer; catchup-solo.json);
# then catchup_pair catchup N 1024. Each of the three phases starts right
# after fresh_pages, so that all three write into memory of the same
# temperature (see fresh_pages).
geo_catchup() {
	local ps rc=0
	rm -rf "$d/catchup-solo"
	taskset -c 0 "$OUT/bin/profnode" --data "$d/catchup-solo" --http 127.0.0.1:19580 --pprof 127.0.0.1:16580 >"$d/catchup-solo.log" 2>&1 &
	ps=$!
	waitport 19580
	fresh_pages "$1"
	taskset -c 1 "$OUT/bin/causeway" bench pubsub --url http://127.0.0.1:19580 --binary --size 1024 --producers 4 --consumers 0 \
		--count "$1" --warmup 0s --quiet --plot none --out "$d/catchup-solo.json" || rc=1
	kill "$ps"; wait "$ps"
	rm -rf "$d/catchup-solo"
	catchup_pair catchup "$1" 1024 || rc=1
	return $rc
}
# catchup_pair TAG N SIZE [FLAG...]: regions a (core 0) and b (core 1),
# FLAGs to both (an emulated WAN): a's link to b cut, N messages of SIZE
# bytes published in a (TAG-publish.json), the link restored, and the time
# until b has delivered every op of a's (TAG.txt: ops, milliseconds, both
# regions' CPU ticks and the disk's written sectors over the catch-up,
# CLK_TCK, then a's frames dropped for lack of room and its go-back-N
# retransmissions). Both phases start right after fresh_pages.
catchup_pair() {
	local tag=$1 pa pb rc=0 target got=0 t0 t1 c0 c1 w0 w1 deadline drops
	pair_up "$tag" 0 1 "${@:4}" &&
		curl -fsS -X POST http://127.0.0.1:19581/_api/replication/links/b/down >/dev/null &&
		fresh_pages "$(($2 * $3 / 1024))" &&
		taskset -c 1 "$OUT/bin/causeway" bench geo --regions a=http://127.0.0.1:19581,b=http://127.0.0.1:19582 --binary --size "$3" \
			--producers 4 --consumers 0 --count "$2" --warmup 0s --keep-streams --quiet --plot none --out "$d/$tag-publish.json" || rc=1
	target=$(curl -fsS http://127.0.0.1:19581/_api/replication | jq '.result.delivered.a // 0')
	if [ $rc = 0 ] && [ "${target:-0}" -gt 0 ]; then
		fresh_pages "$(($2 * $3 / 1024))"
		c0="$(ticks "$pa") $(ticks "$pb")"
		w0=$(awk -v dev="$(disk_of "$d")" '$3 == dev { print $10 }' /proc/diskstats)
		t0=$(date +%s%N)
		curl -fsS -X POST http://127.0.0.1:19581/_api/replication/links/b/up >/dev/null || rc=1
		deadline=$((SECONDS + 600))
		while [ $rc = 0 ] && [ "$got" -lt "$target" ]; do
			[ $SECONDS -lt $deadline ] || { echo "catchup_pair $tag: b delivered $got of $target ops in 600 s"; rc=1; break; }
			sleep 0.02
			got=$(curl -fsS http://127.0.0.1:19582/_api/replication | jq '.result.delivered.a // 0') || got=0
		done
		t1=$(date +%s%N)
		c1="$(ticks "$pa") $(ticks "$pb")"
		w1=$(awk -v dev="$(disk_of "$d")" '$3 == dev { print $10 }' /proc/diskstats)
		drops=$(curl -fsS http://127.0.0.1:19581/_api/replication | jq -r '"\(.result.peers[0].link.queueDrops // 0) \(.result.engine.Retransmits // 0)"')
		[ $rc = 0 ] && echo "$target $(((t1 - t0) / 1000000)) $c0 $c1 ${w0:-0} ${w1:-0} $(getconf CLK_TCK) ${drops:-? ?}" >"$d/$tag.txt"
	fi
	kill "$pa" "$pb"; wait "$pa" "$pb"
	return $rc
}
# fresh_pages N: writes and deletes a file of 2 KiB per message of a
# backlog of N (2 GiB for 1,000,000), so that the page-cache pages the next
# phase writes come from memory the kernel freed a moment ago. On a VM whose
# balloon reports free memory to its host (virtio free page reporting, as
# on this machine), memory left free for about ten seconds goes back to the
# host and each page costs a fault in the host at its next first touch: 1 GiB
# written into the page cache took 0.25 s right after such a file was
# deleted and 2.9 s twelve seconds later (README "Geo replication"). Without
# this a phase measured 1.5-2x slower or faster depending on what the step
# before it had freed, and how long ago.
fresh_pages() {
	dd if=/dev/zero of="$d/fresh-pages" bs=1M count=$(($1 * 2 / 1024 + 1)) status=none
	rm -f "$d/fresh-pages"
}
# disk_of DIR: the block device DIR is on, as /proc/diskstats names it.
disk_of() { basename "$(df --output=source "$1" | tail -1)"; }
# catchup_row FIGURE SECTION [TAG [SIZE]]: the row of catchup_pair TAG
# (default catchup, geo_catchup's; compared with one region alone only when
# the messages are of 1 KiB, as one region alone's).
catchup_row() {
	local tag=${3:-catchup} size=${4:-1024} f solo=0 pub
	f="$d/$tag.txt"
	[ -f "$f" ] || { echo "| $1 | no result ($f) | $2 |"; return; }
	[ "$size" != 1024 ] || solo=$(jq '[.rates[]? | select(.name == "publish") | .perSec] | first // 0' "$d/catchup-solo.json" 2>/dev/null)
	pub=$(jq '[.rates[]? | select(.name == "publish") | .perSec] | first // 0' "$d/$tag-publish.json" 2>/dev/null)
	awk -v fig="$1" -v sec="$2" -v solo="${solo:-0}" -v pub="${pub:-0}" -v size="$size" '{
		ops = $1; s = $2 / 1000; rate = ops / s; tck = $9
		ofpub = 0 # (a ">" among printf arguments would be a redirection)
		if (pub + 0 > 0) ofpub = 100 * rate / pub
		alone = ""
		if (solo + 0 > 0) alone = sprintf("one region alone took them at %.0f msgs/s; ", solo)
		vs = ""
		if (solo + 0 > 0) vs = sprintf("%.0f %% of one region alone, ", 100 * rate / solo)
		printf "| %s | %s%d messages of %d bytes published in a at %.0f msgs/s; b applied them at %.0f msgs/s (%.0f MB/s of payload; %.1f s; %s%.0f %% of a'"'"'s publish rate); CPU per message over the catch-up a %.1f µs, b %.1f µs (b busy %.0f %%); disk written %.0f MiB (%.0f MB/s); frames a dropped for lack of room %s, go-back-N retransmissions %s | %s |\n",
			fig, alone, ops, size, pub, rate, rate * size / 1e6, s, vs, ofpub,
			($5 - $3) / tck * 1e6 / ops, ($6 - $4) / tck * 1e6 / ops, 100 * ($6 - $4) / tck / s,
			($8 - $7) * 512 / 1048576, ($8 - $7) * 512 / 1e6 / s, $10, $11, sec
	}' "$f"
}
waitport() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; }
# waitjoined PORT: until the region serving HTTP on PORT has joined its
# fabric (a new region first hears from its peers), at most 30 s.
waitjoined() {
	for _ in $(seq 300); do
		curl -fsS "http://127.0.0.1:$1/_api/replication" 2>/dev/null | jq -e '.result.joined' >/dev/null && return 0
		sleep 0.1
	done
	echo "region on port $1 did not join its fabric in 30 s"
	return 1
}
# geo_row FIGURE SECTION TAG: the row of geo_pair TAG's report and CPU.
geo_row() {
	local f="$d/geo-$3.json" cpu
	[ -f "$f" ] || return 0
	# cpu file: ticks a, b before; then a, b after and CLK_TCK
	cpu=$(tr '\n' ' ' <"$d/cpu-geo-$3.txt" | awk -v acked="$(jq '.counts.acked // 0' "$f")" '{ if (acked > 0 && NF == 5)
		printf "region CPU per message: a %.1f µs, b %.1f µs", ($3 - $1) / $5 * 1e6 / acked, ($4 - $2) / $5 * 1e6 / acked }' 2>/dev/null)
	jq -r --arg fig "$1" --arg sec "$2" --arg cpu "${cpu:-CPU not recorded}" '
		def r(n): ([.rates[]? | select(.name == n) | .perSec] | first // null);
		def l(n): ([.latencies[]? | select(.name == n) | .summary] | first // null);
		def ms(x): if x == null then "-" else ((x / 10 | round) / 100 | tostring) + " ms" end;
		"| \($fig) | publish \(r("publish") // 0 | round) msgs/s; delivered in b \(r("deliver b") // 0 | round) msgs/s; lag a>b p50 \(ms(l("lag a>b").p50Us)) p99 \(ms(l("lag a>b").p99Us)); publish-ack p50 \(ms(l("publish-ack").p50Us)) p99 \(ms(l("publish-ack").p99Us)); missing \(.counts.missing // 0); \($cpu); load \(.machine.loadAverage // "?") | \($sec) |"' "$f"
}

run_mesh() { gotest replicator replicator -test.run '^$' -test.bench 'Mesh' -test.benchtime "${MESH_BENCHTIME:-$(pick 10x 2x)}"; }
extract_mesh() { gobench_rows "" "$1" <"$d/out.txt"; }

run_backfill() {
	CAUSEWAY_BACKFILL_BENCH=1 CAUSEWAY_BACKFILL_MESSAGES="${BACKFILL_MESSAGES:-$(pick 1000000 20000)}" \
		CAUSEWAY_BACKFILL_DOCS="${BACKFILL_DOCS:-$(pick 100000 2000)}" \
		gotest replicatore2e replicator/e2e -test.run '^TestBackfillTiming$' -test.v -test.timeout 60m
}
extract_backfill() { logline_rows "$1" "$d/out.txt" "backfill time" 'backfill of [0-9]+ messages' "publishing" 'messages published in' "writing documents" 'documents written in'; }

run_hostile() { gotest server server -test.run '^TestHostileClients$' -test.v -test.timeout 10m; }
extract_hostile() {
	logline_rows "$1" "$d/out.txt" "unloaded" 'well-behaved client, unloaded' "under attack" 'well-behaved client, under attack' \
		"ratio" 'ratio under attack' "heap" 'heap in use' "floods" 'floods:'
}

run_streamworkers() { gotest streamworkers streamworkers -test.run '^$' -test.bench 'FilterProject|Tumble' -test.benchtime "${SW_BENCHTIME:-$(pick 200000x 20000x)}"; }
extract_streamworkers() { gobench_rows "" "$1" <"$d/out.txt"; }

run_engine() { gotest engine streamworkers/engine -test.run '^$' -test.bench . -test.benchtime "${ENGINE_BENCHTIME:-$(pick 1s 200ms)}"; }
extract_engine() { gobench_rows "engine: " "$1" <"$d/out.txt"; }

# run_console installs Debian's chromium when it is missing (as .ci/run
# does): without it the browser test skips and the step has no figure.
run_console() {
	"$repo/.ci/need-tools" chromium
	CAUSEWAY_ARTIFACTS="$d/artifacts" gotest console console -test.run '^TestConsoleInChromium$' -test.v -test.timeout 5m
}
extract_console() { logline_rows "$1" "$d/out.txt" "first load" 'first load on loopback' "tail flood" 'tail flood'; }

run_collections() {
	local rc=0 docs
	gotest httpapi collections/httpapi -test.run XXX -test.bench 'HTTPPoint' -test.benchtime "${COLL_BENCHTIME:-$(pick 5s 1s)}" || rc=1
	for docs in ${COLL_QUERY_DOCS:-10000}; do
		gotest httpapi collections/httpapi -test.run XXX -test.bench '^BenchmarkQuery$' -test.benchtime "${COLL_QUERY_BENCHTIME:-$(pick 3x 1x)}" \
			-docs "$docs" -test.timeout 60m || rc=1
	done
	for docs in ${COLL_AQL_DOCS:-$(pick 100000 10000)}; do
		gotest httpapi collections/httpapi -test.run XXX -test.bench AQLvsSQL -test.timeout 60m -aqldocs "$docs" || rc=1
	done
	gotest httpapi collections/httpapi -test.run XXX -test.bench DriverPoint -test.benchtime "${COLL_DRIVER_BENCHTIME:-$(pick 3s 1s)}" || rc=1
	gotest service collections/service -test.run XXX -test.bench OpLogTrim -test.benchtime 1x || rc=1
	return $rc
}
extract_collections() { # one section per benchmark family
	grep -E '^Benchmark(HTTPPoint|Query)' "$d/out.txt" | gobench_rows "" "README-collections Performance"
	grep -E '^BenchmarkAQLvsSQL' "$d/out.txt" | gobench_rows "" "README-collections AQL (Performance)"
	grep -E '^BenchmarkDriverPoint' "$d/out.txt" | gobench_rows "" "README-collections ArangoDB drivers (Go driver and net/http)"
	grep -E '^BenchmarkOpLogTrim' "$d/out.txt" | gobench_rows "" "README-collections op-log trimming"
}

run_collectionse2e() {
	local rc=0 f
	gotest collectionse2e collections/e2e -test.run XXX -test.bench '^BenchmarkPoint$' -test.benchtime "${COLLE2E_POINT:-$(pick 10000x 1000x)}" -writers 32 || rc=1
	gotest collectionse2e collections/e2e -test.run XXX -test.bench '^BenchmarkPoint$' -test.benchtime "${COLLE2E_POINT:-$(pick 10000x 1000x)}" -writers 1 |
		sed 's/^BenchmarkPoint/BenchmarkPoint@1client/' || rc=1
	# The README's rows: 8 writers x 50 (1,200 PATCHes), 32 x 50 (4,800), 8 x 200 (4,800).
	for wn in "8 ${COLLE2E_CONV_SHORT:-$(pick 50x 5x)}" "32 ${COLLE2E_CONV_SHORT:-$(pick 50x 5x)}" "8 ${COLLE2E_CONV:-$(pick 200x 20x)}"; do
		set -- $wn
		gotest collectionse2e collections/e2e -test.run XXX -test.bench Convergence -test.benchtime "$2" -writers "$1" |
			sed "s/^BenchmarkConvergence/BenchmarkConvergence@writers=$1,$2/" || rc=1
	done
	for f in always never; do
		gotest collectionse2e collections/e2e -test.run XXX -test.bench CatchUp -test.benchtime 1x -catchup-fsync "$f" \
			-catchup-ops "${COLLE2E_CATCHUP_OPS:-$(pick 20000 2000)}" | sed "s/^BenchmarkCatchUp/BenchmarkCatchUp@fsync=$f/" || rc=1
	done
	return $rc
}
extract_collectionse2e() { gobench_rows "" "$1" <"$d/out.txt"; }

run_arango() { BENCH_N="${ARANGO_N:-$(pick 2000 200)}" BENCH_CURL_N="${ARANGO_CURL_N:-$(pick 200 20)}" "$repo/bench/arango/run.sh"; }
extract_arango() {
	awk -v sec="$1" '
		$1 == "client" { on = 1; next }
		on && NF >= 7 && $4 ~ /^[0-9.]+$/ { printf "| %s %s, concurrency %s | %s/s, p50 %s ms, p99 %s ms, errors %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, sec }' "$d/out.txt"
}

run_spot() {
	local rc=0
	gotest spot spot -test.run XXX -test.bench 'Write/home|Read/home|Transfer|StateMachineUpdate|ProposeParallel' -test.benchtime "${SPOT_BENCHTIME:-$(pick 3s 1s)}" || rc=1
	gotest spot spot -test.run XXX -test.bench '(Write|Read)/forwarded' -test.benchtime "${SPOT_FORWARDED:-$(pick 200x 20x)}" || rc=1
	return $rc
}
extract_spot() { gobench_rows "" "$1" <"$d/out.txt"; }

# summarize OUT STEPS...: the table, from each step's meta.txt (its exit
# status) and raw outputs, on stdout; 1 if a step failed.
summarize() {
	local out="$1" s d rc rows st=0
	shift
	{
		echo "| figure | measured | README section |"
		echo "| --- | --- | --- |"
		for s in "$@"; do
			d="$out/$s"
			[ -f "$d/meta.txt" ] || continue
			rc=$(sed -nE 's/^end \(exit ([0-9]+).*/\1/p' "$d/meta.txt" | tail -1)
			rows="$(d="$d" "extract_$s" "$(section "$s")" 2>"$d/extract.err")"
			if [ "${rc:-none}" != 0 ]; then
				st=1
				echo "| **$s: FAILED** (exit ${rc:-none: did not finish}; $d/out.txt: $({ grep -E 'not built|FAIL|panic|error|Error|timed out|exited' "$d/out.txt" || tail -1 "$d/out.txt"; } 2>/dev/null | head -1 | cut -c1-160 | sed 's/|/\\|/g')) | - | $(section "$s") |"
			elif [ -z "$rows" ]; then
				st=1
				echo "| **$s: FAILED** (exit 0 but no figure found in $d/out.txt) | - | $(section "$s") |"
			fi
			[ -z "$rows" ] || echo "$rows"
		done
	}
	return $st
}

if [ "${1:-}" = --summary ]; then # --summary OUTDIR: the table again from an earlier run's outputs
	summarize "${2:?usage: run.sh --summary OUTDIR}" ${STEPS:-$ALL_STEPS} # OUTDIR/summary.md stays as the run wrote it
	exit $?
fi

# ---------------------------------------------------------------- one step, in its own session

if [ "${1:-}" = __step ]; then
	step="$2" OUT="$3" d="$3/$2"
	set -o pipefail
	need=""
	case "$step" in peers | kafka | geoproc | geopin) need="$OUT/bin/causeway $OUT/bin/profnode" ;; esac
	for np in $(step_pkgs "$step"); do need="$need $(tb "${np%%:*}")"; done
	for b in $need; do
		[ -x "$b" ] || { echo "not built: $b (see $OUT/build.txt)"; exit 3; }
	done
	"run_$step"
	exit $?
fi

# ---------------------------------------------------------------- the run

OUT="${1:?usage: [QUICK=1] [STEPS=\"peers kafka ...\"] bench/rerun/run.sh OUTDIR}"
STEPS="${STEPS:-$ALL_STEPS}"
for s in $STEPS; do
	case " $ALL_STEPS " in *" $s "*) ;; *) echo "run.sh: unknown step $s (steps: $ALL_STEPS)" >&2; exit 2 ;; esac
done
for tool in go jq awk git setsid curl; do command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 2; }; done
mkdir -p "$OUT/bin"
OUT="$(cd "$OUT" && pwd)"
TIMEOUT="${STEP_TIMEOUT:-$(pick 1500 600)}"

group="" watchdog=""
killgroup() { # killgroup PGID: TERM, then KILL what is left after 10 s
	[ -n "$1" ] || return 0
	kill -TERM -- "-$1" 2>/dev/null || return 0
	for _ in $(seq 100); do kill -0 -- "-$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL -- "-$1" 2>/dev/null || true
}
cleanup() {
	killgroup "$watchdog"
	killgroup "$group"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

{
	echo "# bench/rerun $(date -u +%FT%TZ), QUICK=$Q, steps: $STEPS"
	echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/^Mem:/{print $2}') GiB RAM, $(uname -sr), $(go version | cut -d' ' -f3)"
	meta "build"
} | tee "$OUT/run.txt"

# Build everything first: every step then measures the same tree.
failed_build=""
(cd "$repo" && go build -o "$OUT/bin/causeway" ./cmd/causeway && go build -o "$OUT/bin/profnode" ./bench/peers/profnode) >"$OUT/build.txt" 2>&1 ||
	failed_build="causeway profnode"
for s in $STEPS; do
	for np in $(step_pkgs "$s"); do
		name="${np%%:*}" pkg="${np#*:}"
		[ -x "$OUT/bin/$name.test" ] && continue
		echo "go test -c $pkg" >>"$OUT/build.txt"
		(cd "$repo" && go test -c -o "$OUT/bin/$name.test" "$pkg") >>"$OUT/build.txt" 2>&1 || failed_build="$failed_build $name"
	done
done
[ -z "$failed_build" ] || echo "build failed for:$failed_build (see $OUT/build.txt)" | tee -a "$OUT/run.txt"
meta "built" | tee -a "$OUT/run.txt"

status=0
for s in $STEPS; do
	d="$OUT/$s"
	rm -rf "$d"
	mkdir -p "$d"
	meta "start" >"$d/meta.txt"
	echo "== $s: $(tail -1 "$d/meta.txt")" | tee -a "$OUT/run.txt"
	t0=$(date +%s)
	setsid "$self" __step "$s" "$OUT" >"$d/out.txt" 2>&1 </dev/null &
	group=$!
	setsid bash -c "sleep $TIMEOUT; echo 'run.sh: step $s timed out after ${TIMEOUT}s' >>'$d/out.txt'; kill -TERM -- -$group" >/dev/null 2>&1 </dev/null &
	watchdog=$!
	wait "$group"
	rc=$?
	killgroup "$watchdog"
	watchdog=""
	killgroup "$group" # whatever the step left running
	group=""
	meta "end (exit $rc, $(($(date +%s) - t0)) s)" >>"$d/meta.txt"
	echo "   $(tail -1 "$d/meta.txt")" | tee -a "$OUT/run.txt"
done
meta "done" | tee -a "$OUT/run.txt"
echo
summarize "$OUT" $STEPS >"$OUT/summary.md" || status=1
cat "$OUT/summary.md"
echo
echo "raw outputs in $OUT/<step>/, this table in $OUT/summary.md" >&2
exit $status
