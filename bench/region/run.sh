#!/usr/bin/env bash
# Runs the same pubsub workload against a region of one node and a region of
# three nodes (replication factor 3) on this machine, side by side, and
# prints throughput, latency and the servers' CPU per message.
#
#   bench/region/run.sh [OUTDIR]          (COUNT=300000 RATE=5000 RATE_DURATION=12s by default)
#
# Every node runs on loopback; all of them share this machine's cores and
# disk, so the three-node figures include two extra copies of every write
# and of every fsync on the same disk.
set -euo pipefail
out=${1:-/tmp/causeway-region-bench}
count=${COUNT:-300000}
rate=${RATE:-5000}
rate_duration=${RATE_DURATION:-12s}
mkdir -p "$out"
bin="$out/causeway"
go build -o "$bin" ./cmd/causeway

cpu() { # total user+system CPU seconds of the pids in file $1
	local t=0
	for p in $(cat "$1"); do
		read -r _ _ _ _ _ _ _ _ _ _ _ _ _ utime stime _ < "/proc/$p/stat"
		t=$((t + utime + stime))
	done
	echo "scale=2; $t / $(getconf CLK_TCK)" | bc
}

start() { # start N nodes; their pids go to $out/n$N/pids
	local n=$1 dir="$out/n$1"
	rm -rf "$dir"; mkdir -p "$dir"
	: > "$dir/pids"
	if [ "$n" = 1 ]; then
		"$bin" serve --region us-east --data "$dir/d1" --http 127.0.0.1:18081 --auth false --log-level error &
		echo $! >> "$dir/pids"
	else
		local voters="1=127.0.0.1:17101,2=127.0.0.1:17102,3=127.0.0.1:17103"
		for i in 1 2 3; do
			local peers=""
			for j in 1 2 3; do [ "$j" != "$i" ] && peers="$peers${peers:+,}http://127.0.0.1:1808$j"; done
			"$bin" serve --region us-east --data "$dir/d$i" --http "127.0.0.1:1808$i" --auth false --log-level error \
				--cluster-node "$i" --cluster-raft "127.0.0.1:1710$i" --cluster-data "127.0.0.1:1720$i" \
				--cluster-voters "$voters" --cluster-peers "$peers" --cluster-secret bench-region-secret-0123456789 &
			echo $! >> "$dir/pids"
		done
	fi
	sleep 8
}

stop() { kill $(cat "$out/n$1/pids") 2>/dev/null || true; sleep 4; }

for n in 1 3; do
	echo "== region of $n node(s)"
	start "$n"
	c0=$(cpu "$out/n$n/pids"); t0=$(date +%s.%N)
	"$bin" bench pubsub --url http://127.0.0.1:18081 --count "$count" --warmup 0s --producers 4 --binary \
		--out "$out/max-n$n.json" --plot none --quiet | grep -E "counts|publish |deliver |publish-ack|publish-deliver|load average"
	c1=$(cpu "$out/n$n/pids"); t1=$(date +%s.%N)
	echo "servers' CPU: $(echo "$c1 - $c0" | bc) s over $(echo "$t1 - $t0" | bc | cut -c1-5) s for $count messages"
	"$bin" bench pubsub --url http://127.0.0.1:18081 --rate "$rate" --duration "$rate_duration" --warmup 2s --producers 4 --binary \
		--out "$out/rate-n$n.json" --plot none --quiet | grep -E "publish-ack|publish-deliver"
	stop "$n"
	if [ "$n" = 3 ]; then
		start 3
		c0=$(cpu "$out/n3/pids"); sleep 10; c1=$(cpu "$out/n3/pids")
		echo "three idle nodes: $(echo "$c1 - $c0" | bc) s of CPU in 10 s (heartbeats, ticks, polls)"
		stop 3
	fi
done
