// Package query owns the SQL subset of collection queries: parsing (with the
// TiDB parser, a maintained MySQL-dialect parser), binding parameters,
// choosing an access path (full scan, primary key range, secondary index
// range) and evaluating filters, projections, sorting and aggregates over
// JSON documents.
//
// It is pure: no I/O, clock, goroutine or logging. The caller supplies the
// documents of the access path the plan asks for through a [DocIter] and
// pulls result rows from [Rows]; the service shell around it owns storage,
// time limits and cursors.
//
// # The subset
//
//	SELECT * | field [AS name], ... | aggregates
//	FROM collection [AS alias]
//	[WHERE condition]
//	[GROUP BY path, ...]
//	[ORDER BY path|name [ASC|DESC], ...]
//	[LIMIT n [OFFSET m]] | [LIMIT m, n]   (numbers or ?)
//
// A field is an attribute path: a, a.b, a.b.c, or `a.b.c.d` in backticks
// for any depth (a leading collection name or alias is dropped, so
// users.a.b and u.a.b both mean a.b). Conditions: = != <> < <= > >=,
// [NOT] BETWEEN, [NOT] IN (list), [NOT] LIKE, IS [NOT] NULL, IS [NOT]
// TRUE|FALSE, AND, OR, NOT, parentheses, and a bare path meaning "is true".
// Literals: numbers, 'strings' or "strings", TRUE, FALSE, NULL. Bind
// parameters: @name (named) or ? (positional). Aggregates: COUNT(*),
// COUNT(path), SUM, AVG, MIN, MAX, with GROUP BY paths.
//
// # Semantics
//
// A missing attribute reads as NULL. Logic is three-valued, as in SQL: a
// comparison involving NULL is unknown, and WHERE keeps a document only when
// the condition is true. Ordering comparisons (< <= > >=) compare numbers
// with numbers (as float64), strings with strings (byte order) and booleans
// with booleans (false < true); between other types they are unknown.
// Equality is deep for arrays and objects; values of different types are not
// equal. ORDER BY, MIN and MAX use a total order: null < false < true <
// numbers < strings < arrays < objects; ties are broken by _key, in the
// direction of the last ORDER BY term. Without ORDER BY the order of results
// depends on the access path.
//
// # Access paths
//
// The planner looks at the top-level AND terms of WHERE. A comparison of
// _key with a string uses the primary key order; a comparison of an indexed
// path with a number, string or boolean uses that index (equality first,
// then two-sided ranges, then one-sided). The whole WHERE condition is
// evaluated again on every document the access path yields, so an index
// only ever narrows the scan: a query returns the same rows with or without
// it. An index is only ever defined on one path, holds the documents that
// have a value there, and orders entries by the encoding of [AppendKey].
package query
