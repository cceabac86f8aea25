// Package aql owns C8QL / AQL, the query language of Macrometa and
// ArangoDB, beside the SQL subset of collections/query: parsing (with
// participle, a maintained parser library: grammar.go), compiling into
// pipelines of statements, choosing access paths through the SQL planner's
// primary key and index ranges (query.ChooseAccess), and evaluating
// expressions, functions, subqueries, joins, COLLECT and data
// modifications.
//
// It is pure: no I/O, clock, goroutine or logging. The caller supplies the
// documents through a [Source] (the shell reads one snapshot of the
// store), performs the writes a query asks for through a [Writer] (the
// service's normal write path, so AQL writes become CRDT ops like HTTP
// writes), and gives the time DATE_NOW answers and the seed of RAND.
//
// # The language
//
//	[WITH coll, ...]
//	FOR v IN collection | @@param | array-expression
//	FILTER cond | LET x = expr | SORT expr [ASC|DESC], ... | LIMIT [offset,] count
//	COLLECT [k = expr, ...] [AGGREGATE a = SUM(expr), ...] [INTO g [= expr] [KEEP v, ...]] [WITH COUNT INTO n]
//	RETURN [DISTINCT] expr
//	INSERT doc INTO c [OPTIONS {...}]
//	UPDATE key-or-doc [WITH patch] IN c [OPTIONS {...}]   (REPLACE alike)
//	REMOVE key-or-doc IN c [OPTIONS {...}]
//	UPSERT search INSERT doc UPDATE|REPLACE patch IN c [OPTIONS {...}]
//
// Expressions: literals, arrays, objects ({a}, {[expr]: v}, {@p: v}),
// bind parameters @p, variables, a.b, a["b"], a[0], a[-1], a[*].b,
// subqueries (FOR ... RETURN ...), ranges 1..5, ! NOT - +, * / %, + -,
// < <= > >=, [NOT] IN, == != [NOT] LIKE =~ !~, && AND, || OR, a ? b : c,
// a ?: b, and the functions of funcs*.go. OLD and NEW exist after a data
// modification (UPSERT's UPDATE part sees OLD).
//
// # Semantics (as in ArangoDB)
//
// Every pair of values is ordered: null < false < true < numbers < strings
// < arrays < objects; a missing attribute is null. && and || answer one of
// their operands; FILTER keeps a row whose condition converts to true.
// Arithmetic converts operands with TO_NUMBER; a division by zero is null
// with warning 1562. Strings compare by bytes (ArangoDB uses ICU
// collation: non-ASCII order can differ). Groups of COLLECT come out sorted
// by their values.
//
// # Access paths
//
// A FOR over a collection receives the top-level AND terms "v.path op
// value" of the FILTERs that follow it (up to the next FOR, COLLECT, LIMIT
// or modification) whose value does not depend on v: literals, bind
// parameters, or variables of outer loops, evaluated once per outer row,
// so a join on _key or an indexed path reads one range per outer row.
// query.ChooseAccess picks the primary key or an index; the FILTER is
// always evaluated again on every document, so an index only narrows.
// A SORT on the _key of the pipeline's first FOR (with only FILTERs and
// LETs between) needs no sort when that loop reads in key order (a full
// scan or a key range, reversed for DESC): rows stream, and a LIMIT stops
// the scan. A SORT followed by a LIMIT keeps only offset+count rows.
//
// # Writes
//
// A data modification hands its rows to the Writer in chunks of 1,000
// (UPSERT one row at a time, its search reading the newest state through
// Source.ScanLatest). With ignoreErrors a refused document is skipped;
// without, the first refusal fails the query. The service's writer applies
// a chunk all or nothing, but earlier chunks stay: writes are not
// transactional (a collection is a CRDT replicated across regions).
// Reading a collection after modifying it in the same query is error 1579.
//
// # Documents in loops
//
// A FOR over a collection parses each document once and leaves it parsed
// (lazy.go): attributes are converted when read, and RETURN of a whole
// document writes its bytes as stored, which keeps AQL's scans as fast as
// SQL's.
//
// Not supported yet (501, errorNum 9): graph traversals and shortest
// paths, search views, WINDOW, array comparison operators (ANY ==, ALL
// IN), FOR ... OPTIONS, dynamic function calls.
package aql
