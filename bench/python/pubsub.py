#!/usr/bin/env python3
"""Publish and consume throughput of a plain Python Pulsar WebSocket client.

Measures how fast Python's websocket-client (Debian: python3-websocket)
publishes to and consumes from a Causeway node over Pulsar's JSON frames,
one message per frame as any Pulsar WebSocket client sends them, and how much
CPU the Python process and (with --server-pid) the node use meanwhile: the
figure that shows whether the client or the server is the bound.

Run by hand against a local node (not in CI):

    causeway serve --data /tmp/py-data --http 127.0.0.1:8080 --fsync always --auth=false &
    /usr/bin/python3 bench/python/pubsub.py --url ws://127.0.0.1:8080 \\
        --duration 10 --size 1024 --server-pid $!

Phases, one after the other on one stream: publish for --duration seconds
with up to --window messages in flight (pipelined, each acknowledged), then
consume what was published on a shared subscription from the earliest
message, acknowledging each. Each message is encoded and decoded as an
application would: json and base64 from the standard library.
"""

import argparse
import base64
import json
import os
import sys
import time
import uuid

try:
    import websocket  # websocket-client
except ImportError:  # pragma: no cover - a setup error, reported plainly
    sys.exit("pubsub.py: needs websocket-client (apt-get install python3-websocket)")

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """CPU seconds (user + system) process pid has used, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Meter:
    """Wall time and CPU of this process and of the server over a phase."""

    def __init__(self, server_pid):
        self.server_pid = server_pid
        self.t0 = time.monotonic()
        self.c0 = time.process_time()
        self.s0 = proc_cpu(server_pid) if server_pid else None

    def report(self, name, count):
        wall = time.monotonic() - self.t0
        cpu = time.process_time() - self.c0
        out = {
            "phase": name,
            "messages": count,
            "seconds": round(wall, 3),
            "msgs_per_s": round(count / wall) if wall > 0 else 0,
            "client_cpu_pct_of_core": round(100 * cpu / wall, 1) if wall > 0 else 0,
            "client_cpu_us_per_msg": round(1e6 * cpu / count, 1) if count else None,
        }
        if self.server_pid:
            scpu = proc_cpu(self.server_pid) - self.s0
            out["server_cpu_pct_of_core"] = round(100 * scpu / wall, 1) if wall > 0 else 0
            out["server_cpu_us_per_msg"] = round(1e6 * scpu / count, 1) if count else None
        return out


def connect(url, args):
    header = ["Authorization: Bearer " + args.token] if args.token else []
    # websocket-client checks that every text frame it receives is UTF-8, in
    # pure Python unless the wsaccel package is installed: most of its CPU
    # per pushed message. --skip-utf8-validation turns that off (the frames
    # are JSON the server wrote).
    return websocket.create_connection(url, header=header, enable_multithread=False,
                                       skip_utf8_validation=args.skip_utf8_validation)


def publish(args, base, meter_pid):
    ws = connect(f"{base}/ws/v2/producer/persistent/{args.tenant}/{args.fabric}/{args.stream}", args)
    payload = os.urandom(args.size)
    sent = acked = errors = 0
    deadline = time.monotonic() + args.duration
    meter = Meter(meter_pid)
    while True:
        now_open = time.monotonic() < deadline
        while now_open and sent - acked < args.window:
            sent += 1
            ws.send(json.dumps({"payload": base64.b64encode(payload).decode(), "context": str(sent)}))
            if sent % 64 == 0 and time.monotonic() >= deadline:
                break
        if acked == sent and not now_open:
            break
        ack = json.loads(ws.recv())
        acked += 1
        if ack.get("result") != "ok":
            errors += 1
            if errors <= 3:
                print("publish error:", ack, file=sys.stderr)
    out = meter.report("publish", acked)
    out["errors"] = errors
    ws.close()
    return out, acked


def consume(args, base, meter_pid, expected):
    q = f"subscriptionType=Shared&subscriptionInitialPosition=Earliest&receiverQueueSize={args.receive_queue}"
    ws = connect(f"{base}/ws/v2/consumer/persistent/{args.tenant}/{args.fabric}/{args.stream}/{args.subscription}?{q}", args)
    ws.settimeout(10)
    got = nbytes = 0
    meter = Meter(meter_pid)
    while got < expected:
        try:
            m = json.loads(ws.recv())
        except websocket.WebSocketTimeoutException:
            print(f"consume: no message for 10 s after {got} of {expected}", file=sys.stderr)
            break
        if "messageId" not in m or "payload" not in m:
            continue  # an error frame
        nbytes += len(base64.b64decode(m["payload"]))
        ws.send(json.dumps({"messageId": m["messageId"]}))
        got += 1
    out = meter.report("consume", got)
    out["payload_bytes"] = nbytes
    ws.close()
    return out


def has_wsaccel():
    try:
        import wsaccel  # noqa: F401 - websocket-client uses it when present
        return True
    except ImportError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="ws://127.0.0.1:8080", help="node's WebSocket base URL")
    ap.add_argument("--tenant", default="_mm")
    ap.add_argument("--fabric", default="_system")
    ap.add_argument("--stream", default="", help="stream (default a new py-bench-<id>)")
    ap.add_argument("--subscription", default="py-bench")
    ap.add_argument("--size", type=int, default=1024, help="payload bytes")
    ap.add_argument("--duration", type=float, default=10, help="seconds of publishing")
    ap.add_argument("--window", type=int, default=1000, help="publishes in flight")
    ap.add_argument("--receive-queue", type=int, default=1000, help="consumer receiverQueueSize")
    ap.add_argument("--token", default=os.environ.get("CAUSEWAY_TOKEN", ""))
    ap.add_argument("--server-pid", type=int, default=0, help="node's process id, to report its CPU too")
    ap.add_argument("--phases", default="publish,consume", help="publish, consume or both")
    ap.add_argument("--count", type=int, default=0, help="with --phases consume: messages to consume")
    ap.add_argument("--skip-utf8-validation", action="store_true",
                    help="do not check received text frames for UTF-8 (websocket-client's own option)")
    args = ap.parse_args()
    if not args.stream:
        args.stream = "py-bench-" + uuid.uuid4().hex[:8]
    base = args.url.rstrip("/")
    phases = args.phases.split(",")
    results = {"stream": args.stream, "size": args.size, "window": args.window,
               "websocket_client": websocket.__version__, "python": sys.version.split()[0],
               "skip_utf8_validation": args.skip_utf8_validation, "wsaccel": has_wsaccel()}
    n = args.count
    if "publish" in phases:
        results["publish"], n = publish(args, base, args.server_pid)
        print(json.dumps(results["publish"]), file=sys.stderr)
    if "consume" in phases:
        results["consume"] = consume(args, base, args.server_pid, n)
        print(json.dumps(results["consume"]), file=sys.stderr)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
