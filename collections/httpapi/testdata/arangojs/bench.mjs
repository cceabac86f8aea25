// Point reads and writes per second through arangojs against a Causeway
// node: run by bench/arango/run.sh (or by hand) with CAUSEWAY_URL,
// CAUSEWAY_KEY (an API key; the driver logs in with it at /_open/auth
// and sends the JWT), BENCH_COLLECTION (an existing collection),
// BENCH_N (operations per kind) and BENCH_CONC (comma-separated
// concurrencies). For each concurrency it writes BENCH_N documents
// (insert-or-replace by key: POST /_api/document?overwriteMode=replace,
// keys spread over BENCH_KEYS keys) and then reads BENCH_N of them by key
// (GET /_api/document/{c}/{key}), BENCH_CONC requests in flight. It
// prints one JSON line per (op, concurrency): ops/s over the wall time,
// p50 and p99 latency in milliseconds, errors.
import { Database } from "arangojs";

const url = process.env.CAUSEWAY_URL;
const key = process.env.CAUSEWAY_KEY;
const colName = process.env.BENCH_COLLECTION;
const n = Number(process.env.BENCH_N ?? "2000");
const keys = Number(process.env.BENCH_KEYS ?? "100");
const concs = (process.env.BENCH_CONC ?? "1,8").split(",").map(Number);
if (!url || !key || !colName) {
  console.error("CAUSEWAY_URL, CAUSEWAY_KEY and BENCH_COLLECTION must be set");
  process.exit(2);
}
if (!(n > 0) || !(keys > 0) || concs.some((c) => !(c > 0))) {
  console.error(`bad BENCH_N ${process.env.BENCH_N}, BENCH_KEYS ${process.env.BENCH_KEYS} or BENCH_CONC ${process.env.BENCH_CONC}`);
  process.exit(2);
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// run performs n calls of op(i), conc at a time, and summarizes them.
async function run(name, conc, op) {
  const lat = [];
  let errors = 0;
  let next = 0;
  const start = performance.now();
  async function worker() {
    for (let i = next++; i < n; i = next++) {
      const t0 = performance.now();
      try {
        await op(i);
        lat.push(performance.now() - t0);
      } catch (err) {
        if (errors++ === 0) console.error(`${name}: ${err}`);
      }
    }
  }
  await Promise.all(Array.from({ length: conc }, worker));
  const secs = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  const r = (x) => Math.round(x * 100) / 100;
  console.log(JSON.stringify({
    client: "arangojs", op: name, conc, n, ops_per_s: Math.round(lat.length / secs),
    p50_ms: r(quantile(lat, 0.5)), p99_ms: r(quantile(lat, 0.99)), errors,
  }));
  return errors;
}

// One connection per request in flight (keep-alive), as a program using
// the driver would have.
const db = new Database({ url, poolSize: Math.max(...concs) });
await db.login("root", key);
const col = db.collection(colName);
let failed = 0;
for (const conc of concs) {
  failed += await run("write", conc, (i) => col.save({ _key: `k${i % keys}`, i, conc, pad: "x".repeat(64) }, { overwriteMode: "replace" }));
  failed += await run("read", conc, (i) => col.document(`k${i % keys}`));
}
process.exit(failed === 0 ? 0 : 1);
