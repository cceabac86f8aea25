// Package spot owns the `causeway bench spot` scenario: two-document
// transfers between accounts of a SPOT collection (POST
// /_fabric/{fabric}/_api/transaction, one debit and one credit applied
// atomically), issued from the collection's home region and from other
// (far) regions, whose requests the server forwards to the home region.
// Latencies are reported per issuing region; after the run the accounts
// are read back and the total balance must be what it was: a transfer
// applied in half, or twice, shows up there.
//
// The transaction bodies and the answer decoding (txn.go) are pure; run.go
// is the shell.
package spot
