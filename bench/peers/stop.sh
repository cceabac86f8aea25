#!/usr/bin/env bash
# Stops what start.sh DIR started (by the process ids it recorded).
set -euo pipefail
dir="${1:?usage: stop.sh DIR}"
[ -f "$dir/pids" ] || exit 0
while read -r pid; do
	[ -n "$pid" ] || continue
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
done <"$dir/pids"
: >"$dir/pids"
