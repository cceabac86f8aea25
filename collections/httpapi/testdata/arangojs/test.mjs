// arangojs against a Causeway node: run by TestArangoJS
// (collections/httpapi/arango_driver_test.go) with CAUSEWAY_URL and
// CAUSEWAY_KEY (a superuser API key) in the environment. Every check
// throws on failure; the last line printed is a JSON summary.
import assert from "node:assert/strict";
import { Database, aql } from "arangojs";

const url = process.env.CAUSEWAY_URL;
const key = process.env.CAUSEWAY_KEY;
assert.ok(url && key, "CAUSEWAY_URL and CAUSEWAY_KEY must be set");

async function rejects(promise, code, what) {
  try {
    await promise;
  } catch (err) {
    assert.equal(err.code, code, `${what}: ${err}`);
    return err;
  }
  assert.fail(`${what}: no error`);
}

// Basic authentication (the API key as password) and JWT (db.login).
const basic = new Database({ url, auth: { username: "root", password: key } });
const version = await basic.version();
assert.equal(version.server, "arango");
assert.match(version.version, /^3\.11\./);
const jwtDb = new Database({ url });
const token = await jwtDb.login("root", key);
assert.ok(token.split(".").length === 3, "login returns a JWT");
assert.equal((await jwtDb.version()).server, "arango");
// The key with its last character changed (a key ending in "A" made this
// "wrong" key the right one: a CI flake, once in 64 keys).
const wrongKey = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
await rejects(new Database({ url, auth: { username: "root", password: wrongKey } }).version(), 401, "a wrong key");
await rejects(new Database({ url }).login("root", "not-a-key"), 401, "a wrong login");

// Databases are fabrics.
const db = await jwtDb.createDatabase("js");
assert.deepEqual((await jwtDb.listDatabases()).sort(), ["_system", "js"]);
assert.deepEqual((await jwtDb.listUserDatabases()).sort(), ["_system", "js"]);
assert.equal(await db.exists(), true);
assert.equal(await jwtDb.database("nope").exists(), false);
await rejects(jwtDb.createDatabase("js"), 409, "a database that exists");

// Collections and documents.
const people = await db.createCollection("people");
assert.equal(await people.exists(), true);
assert.deepEqual((await db.listCollections()).map((c) => c.name), ["people"]);
const ann = await people.save({ _key: "ann", name: "Ann", age: 31 });
assert.equal(ann._key, "ann");
assert.equal((await people.document("ann")).age, 31);
const updated = await people.update("ann", { age: 32 }, { ifMatch: ann._rev, returnOld: true, returnNew: true });
assert.equal(updated.old.age, 31);
assert.equal(updated.new.age, 32);
await rejects(people.update("ann", { age: 99 }, { ifMatch: ann._rev }), 412, "a stale If-Match");
await rejects(people.save({ _key: "ann" }), 409, "an existing key");
assert.equal(await people.document("nobody", { graceful: true }), null);

// Batches, with _rev preconditions.
const saved = await people.saveAll([{ _key: "bob", age: 40 }, { _key: "cy", age: 25 }, { _key: "ann" }]);
assert.equal(saved.length, 3);
assert.equal(saved[2].error, true);
assert.equal(saved[2].errorNum, 1210);
const read = await people.documents(["bob", "nobody", "cy"]);
assert.equal(read[0].age, 40);
assert.equal(read[1].errorNum, 1202);
assert.equal(read[2].age, 25);
const replaced = await people.replaceAll(
  [{ _key: "bob", _rev: saved[0]._rev, age: 41 }, { _key: "cy", _rev: "stale", age: 26 }],
  { ignoreRevs: false },
);
assert.equal(replaced[0].error, undefined);
assert.equal(replaced[1].errorNum, 1200);
assert.equal((await people.document("cy")).age, 25);
await people.remove("cy");
assert.equal(await people.document("cy", { graceful: true }), null);

// Import: objects (JSON lines), then headers and values.
let imp = await people.import([{ _key: "d1", age: 50 }, { _key: "d2", age: 51 }]);
assert.equal(imp.created, 2);
imp = await people.import([["_key", "age"], ["d3", 52], ["d1", 53]], { onDuplicate: "update", details: true });
assert.equal(imp.created, 1);
assert.equal(imp.updated, 1);
assert.equal((await people.document("d1")).age, 53);
assert.equal(await people.count().then((c) => c.count), 5);

// Indexes.
const idx = await people.ensureIndex({ type: "persistent", fields: ["age"], name: "byAge" });
assert.equal(idx.name, "byAge");
assert.equal((await people.indexes()).length, 2);

// A query over several batches.
const cursor = await db.query("SELECT * FROM people WHERE age >= @lo ORDER BY age", { lo: 40 }, { batchSize: 2 });
const ages = (await cursor.all()).map((d) => d.age);
assert.deepEqual(ages, [41, 51, 52, 53]);

// The same question in AQL (the collection as a bind parameter), with the
// count, over several batches; an AQL write.
const aqlCursor = await db.query(aql`FOR p IN ${people} FILTER p.age >= ${40} SORT p.age RETURN p.age`, { batchSize: 2, count: true });
assert.equal(aqlCursor.count, 4);
assert.deepEqual(await aqlCursor.all(), ages);
await db.query(aql`INSERT { _key: "zed", age: 60 } INTO ${people}`);
assert.equal((await people.document("zed")).age, 60);
await people.remove("zed");

// Statistics.
const sum = await people.checksum({ withRevisions: true });
assert.ok(sum.checksum && sum.revision);
const fig = await people.figures();
assert.equal(fig.count, 5);
assert.equal(fig.figures.indexes.count, 2);

console.log(JSON.stringify({ ok: true, version: version.version, ages }));
