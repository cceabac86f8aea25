#!/usr/bin/env bash
# Starts Causeway, NATS JetStream and Redis on loopback with the same
# durability, each with its data in DIR:
#   always    Causeway --fsync always; NATS sync_interval: always;
#             Redis appendfsync always        (fsync before every ack)
#   interval  Causeway --fsync interval (1s); NATS sync_interval: 1s;
#             Redis appendfsync everysec      (fsync every second)
# Usage: start.sh always|interval DIR [targets...]   (default all three)
# Ports: Causeway HTTP 18080, NATS 14222, Redis 16379. stop.sh DIR stops them.
set -euo pipefail

mode="${1:?usage: start.sh always|interval DIR [causeway nats redis]}"
dir="${2:?usage: start.sh always|interval DIR}"
shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(causeway nats redis)

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
GOBIN="$(go env GOPATH)/bin"
CAUSEWAY="${CAUSEWAY:-$dir/causeway}"

case "$mode" in
always) cw_fsync=always nats_sync=always redis_fsync=always ;;
interval) cw_fsync=interval nats_sync=1s redis_fsync=everysec ;;
*) echo "start.sh: mode $mode: want always or interval" >&2; exit 2 ;;
esac

mkdir -p "$dir"
: >"$dir/pids"

wait_port() { # host port name
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "start.sh: $3 did not open $1:$2" >&2
	return 1
}

for t in "${targets[@]}"; do
	case "$t" in
	causeway)
		if [ ! -x "$CAUSEWAY" ]; then (cd "$repo" && go build -o "$CAUSEWAY" ./cmd/causeway); fi
		rm -rf "$dir/causeway-data"
		# The peers run without authentication; so does Causeway here.
		auth=()
		help="$("$CAUSEWAY" serve -h 2>&1 || true)" # -h exits 2
		if grep -q -- '-auth' <<<"$help"; then auth=(--auth=false); fi
		"$CAUSEWAY" serve --data "$dir/causeway-data" --http 127.0.0.1:18080 --fsync "$cw_fsync" \
			"${auth[@]}" --log-level warn >"$dir/causeway.log" 2>&1 &
		echo $! >>"$dir/pids"
		wait_port 127.0.0.1 18080 causeway
		;;
	nats)
		rm -rf "$dir/nats-data"
		cat >"$dir/nats.conf" <<CONF
listen: 127.0.0.1:14222
jetstream {
  store_dir: "$dir/nats-data"
  sync_interval: $nats_sync
}
CONF
		"$GOBIN/nats-server" -c "$dir/nats.conf" >"$dir/nats.log" 2>&1 &
		echo $! >>"$dir/pids"
		wait_port 127.0.0.1 14222 nats
		;;
	redis)
		rm -rf "$dir/redis-data"
		mkdir -p "$dir/redis-data"
		redis-server --bind 127.0.0.1 --port 16379 --dir "$dir/redis-data" --save "" \
			--appendonly yes --appendfsync "$redis_fsync" --protected-mode no \
			--daemonize no --logfile "$dir/redis.log" &
		echo $! >>"$dir/pids"
		wait_port 127.0.0.1 16379 redis
		;;
	*) echo "start.sh: unknown target $t" >&2; exit 2 ;;
	esac
done
echo "started ${targets[*]} with durability $mode in $dir" >&2
