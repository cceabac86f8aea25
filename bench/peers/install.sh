#!/usr/bin/env bash
# Installs the peers the bench compares Causeway with, on a fresh Debian
# machine with Go: NATS Server (JetStream) from the Go module proxy and
# Redis from Debian's packages. Idempotent.
set -euo pipefail

NATS_VERSION="${NATS_VERSION:-v2.15.2}"
GOBIN="$(go env GOPATH)/bin"

if ! "$GOBIN/nats-server" --version 2>/dev/null | grep -q "${NATS_VERSION#v}"; then
	echo "installing nats-server $NATS_VERSION" >&2
	(cd /tmp && GOFLAGS= go install "github.com/nats-io/nats-server/v2@$NATS_VERSION")
fi

"$(dirname "$0")/../../.ci/need-tools" redis-server
# Debian's package starts a system Redis on 6379; the bench uses its own
# instance on another port and leaves that one alone.

"$GOBIN/nats-server" --version
redis-server --version
