package console_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/causeway/causeway/console"
)

// jsTables are table tests of the console's pure JavaScript (grants,
// the query language rule, link states, the metrics reader), run in
// Chromium against the embedded modules. Each returns the failures it
// found as strings.
const jsTables = `(async () => {
  const api = await import('/console/js/api.js');
  const query = await import('/console/js/query.js');
  const fabric = await import('/console/js/fabric.js');
  const prom = await import('/console/js/prom.js');
  const ui = await import('/console/js/ui.js');
  const fails = [];
  const eq = (what, got, want) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) fails.push(what + ': got ' + JSON.stringify(got) + ', want ' + JSON.stringify(want));
  };

  // Grants, as broker/auth reads them: admin covers write covers read.
  eq('parse tenant', api.parseGrant('admin:*'), { action: 3, kind: 'tenant' });
  eq('parse stream', api.parseGrant('read:stream/f/s'), { action: 1, kind: 'stream', fabric: 'f', name: 's' });
  for (const bad of ['read', 'own:*', 'read:stream/f', 'read:queue/f/s', 'read:fabric/a/b']) eq('parse ' + bad, api.parseGrant(bad), null);
  const p = (perms, su) => new api.Principal({ perms, su, tenant: 't' });
  const cases = [
    [p([], true), ['admin', 'tenant'], true],
    [p(['admin:*']), ['admin', 'tenant'], true],
    [p(['admin:*']), ['write', 'stream', 'f', 's'], true],
    [p(['read:stream/f/s']), ['read', 'stream', 'f', 's'], true],
    [p(['read:stream/f/s']), ['write', 'stream', 'f', 's'], false],
    [p(['read:stream/f/s']), ['read', 'stream', 'f', 'x'], false],
    [p(['read:stream/f/s']), ['read', 'collection', 'f', 's'], false],
    [p(['write:stream/*/s']), ['read', 'stream', 'g', 's'], true],
    [p(['admin:fabric/f']), ['admin', 'collection', 'f', 'c'], true],
    [p(['admin:fabric/f']), ['admin', 'tenant'], false],
    [p(['admin:fabric/f']), ['read', 'stream', 'g', 's'], false],
    [p(['admin:fabric/*']), ['admin', 'fabric', 'g'], true],
    [p(['write:collection/f/*']), ['write', 'collection', 'f', 'c'], true],
    [p(['write:collection/f/*']), ['admin', 'collection', 'f', 'c'], false],
    [p(['bogus', 'read:*']), ['read', 'collection', 'f', 'c'], true],
  ];
  cases.forEach(([pr, args, want], i) => eq('can ' + i + ' ' + args.join(' '), pr.can(...args), want));
  eq('canSome stream grant', p(['admin:stream/f/s']).canSome('admin', 'stream', 'f'), true);
  eq('canSome other fabric', p(['admin:stream/g/s']).canSome('admin', 'stream', 'f'), false);
  eq('canSome read only', p(['read:fabric/f']).canSome('admin', 'stream', 'f'), false);
  eq('tenantAdmin', p(['admin:*']).tenantAdmin && !p(['admin:fabric/f']).tenantAdmin, true);
  const tok = 'x.' + btoa(JSON.stringify({ tenant: 'acme', perms: ['read:*'], su: false, key: 'k?' })).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_') + '.y';
  eq('claims', api.claims(tok), { tenant: 'acme', perms: ['read:*'], su: false, key: 'k?' });
  eq('stream resource', api.streamResource('_changes.users'), ['collection', 'users']);
  eq('stream resource plain', api.streamResource('orders'), ['stream', 'orders']);

  // The node's rule: an AQL statement keyword first is C8QL.
  for (const [q, want] of [['SELECT * FROM u', 'SQL'], ['for u in users return u', 'C8QL'], ['  -- c\n  FOR x IN 1..2 RETURN x', 'C8QL'],
    ['/* a */ RETURN 1', 'C8QL'], ['// c\nLET a = 1 RETURN a', 'C8QL'], ['select 1 -- FOR', 'SQL'], ['', 'SQL'], ['FORMAT', 'SQL'], ['Upsert {} INSERT {} UPDATE {} IN c', 'C8QL']]) {
    eq('language ' + JSON.stringify(q), query.language(q), want);
  }

  // Link states.
  const up = { link: { up: true, connected: true } }, cut = { link: { down: true } }, lost = { link: { up: false, connected: false } };
  eq('link up', fabric.linkState(up, [up, lost]), 'up');
  eq('link cut', fabric.linkState(cut, [cut, up]), 'cut');
  eq('link relayed', fabric.linkState(lost, [lost, up]), 'relayed');
  eq('link connecting', fabric.linkState(lost, [lost, cut]), 'connecting');

  // Every pair of regions from one replication answer, seen from a: b
  // advertised to a that it has 9 of its own ops (a delivered 5), 6 of
  // a's, 7 of c's; c (link cut) advertised 8 of its own, 2 of b's.
  const st3 = { region: 'a', regions: ['a', 'b', 'c'], delivered: { a: 10, b: 5, c: 7 }, peers: [
    { peer: 'b', lagOps: 4, lagMillis: 120.4, lagKnown: true, advertised: { a: 6, b: 9, c: 7 }, link: { up: true, connected: true } },
    { peer: 'c', lagOps: 10, lagMillis: 0, lagKnown: false, advertised: { b: 2, c: 8 }, link: { down: true } }] };
  const m3 = fabric.fabricPairs(st3);
  const lag = (m) => Object.fromEntries(m.pairs.map((x) => [x.from + '>' + x.to, [x.lagOps, x.lagMillis, x.state, x.own]]));
  eq('regions', m3.regions, ['a', 'b', 'c']);
  eq('pairs of three', lag(m3), {
    'a>b': [4, 120.4, 'up', true], 'a>c': [10, null, 'cut', true],
    'b>a': [4, null, 'up', true], 'b>c': [7, null, 'unknown', false],
    'c>a': [1, null, 'cut', true], 'c>b': [1, null, 'unknown', false] });
  eq('seen from', m3.pairs.every((x) => x.seenFrom === 'a'), true);
  eq('stale: c is cut from a', m3.pairs.filter((x) => !x.own).map((x) => x.stale), [true, true]);
  // The engine's own lag and the matrix agree on this region's ops.
  eq('own lag is the engine\'s', m3.pairs.filter((x) => x.from === 'a').map((x) => x.lagOps), st3.peers.map((x) => x.lagOps));
  // Caught up: 0 ops and 0 ms; c relayed through b; a region listed but
  // with no status (joining) and one that never advertised: unknown, not
  // zero; an evicted region is left out.
  const st4 = { region: 'a', regions: ['a', 'b', 'c', 'd', 'e'], evicted: ['e'], delivered: { a: 3, b: 2, d: 4 }, peers: [
    { peer: 'b', lagOps: 0, lagMillis: 0, lagKnown: true, advertised: { a: 3, b: 2, d: 1 }, link: { up: true, connected: true } },
    { peer: 'c', lagOps: 3, lagMillis: 0, lagKnown: false, advertised: null, link: { up: false } },
    { peer: 'e', lagOps: 9, advertised: {}, link: {} }] };
  const m4 = fabric.fabricPairs(st4);
  const l4 = lag(m4);
  eq('evicted left out', m4.regions, ['a', 'b', 'c', 'd']);
  eq('caught up', l4['a>b'], [0, 0, 'up', true]);
  eq('relayed, never advertised', [l4['a>c'], l4['b>c'], l4['c>a']], [[null, null, 'relayed', true], [null, null, 'unknown', false], [0, null, 'relayed', true]]);
  eq('no status: state unknown', [l4['a>d'], l4['d>a']], [[null, null, 'unknown', true], [0, null, 'unknown', true]]);
  eq('known only from here', l4['d>b'], [3, null, 'unknown', false]);
  eq('stale without a status', m4.pairs.filter((x) => x.from === 'd' && x.to === 'b').map((x) => x.stale), [true]);
  const fresh3 = fabric.fabricPairs({ ...st3, peers: [st3.peers[0], { ...st3.peers[1], link: { up: true, connected: true } }] });
  eq('not stale with both links up', fresh3.pairs.filter((x) => !x.own).map((x) => [x.from, x.to, x.stale]), [['b', 'c', false], ['c', 'b', false]]);
  eq('a lone region', fabric.fabricPairs({ region: 'solo', delivered: { solo: 5 } }), { regions: ['solo'], pairs: [] });

  // The graph drawn from it: an edge per pair, labelled both ways.
  const graph = await import('/console/js/graph.js');
  const svg = graph.fabricGraph(m3, 'a');
  const edge = (k) => svg.querySelector('[data-edge="' + k + '"]');
  eq('edges', [...svg.querySelectorAll('[data-edge]')].map((g) => [g.dataset.edge, g.dataset.state]), [['a|b', 'up'], ['a|c', 'cut'], ['b|c', 'unknown']]);
  eq('own edge label', [...edge('a|b').querySelectorAll('tspan')].map((t) => t.textContent), ['up', 'a→b: 4 ops · 120 ms', 'b→a: 4 ops']);
  eq('other edge label', [...edge('b|c').querySelectorAll('tspan')].map((t) => t.textContent), ['b→c: 7 ops (stale)', 'c→b: 1 ops (stale)']);
  eq('other edge title', edge('b|c').querySelector('title').textContent, 'as seen from a; link state unknown here');
  eq('nodes', [...svg.querySelectorAll('[data-region]')].map((g) => g.dataset.region), ['a', 'b', 'c']);
  eq('unknown lag', graph.lagText({ from: 'a', to: 'c', lagOps: null, lagMillis: null }), 'a→c: unknown');

  // Metrics: the text format, sums, histogram quantiles over an interval.
  const text = '# HELP x\n# TYPE h histogram\nm_total{a="1"} 3\nm_total{a="2",b="x\\"y"} 4\nbad line\n' +
    'h_bucket{le="0.001"} 10\nh_bucket{le="0.01"} 90\nh_bucket{le="0.1"} 100\nh_bucket{le="+Inf"} 100\n';
  const s = prom.parse(text);
  eq('parse count', s.length, 6);
  eq('label with quote', s[1].labels, { a: '2', b: 'x\\"y' });
  eq('sum', prom.sum(s, 'm_total'), 7);
  const b = prom.buckets(s, 'h');
  eq('buckets', b.map(([le, c]) => [le === Infinity ? 'inf' : le, c]), [[0.001, 10], [0.01, 90], [0.1, 100], ['inf', 100]]);
  eq('p50 interpolated', Math.round(prom.quantile(0.5, b, []) * 1e6), 5500);
  eq('p99 in the last bucket', Math.round(prom.quantile(0.99, b, []) * 1e4), 910);
  eq('no observations', prom.quantile(0.99, b, b), undefined);

  // The binary framing the tail reads (broker/wsbin/doc.go).
  const wsbin = await import('/console/js/wsbin.js');
  const frame = [0x03, 2,
    0, 0, 5, 0xd0, 0x0f, 2, 0x68, 0x69,
    1 | 2 | 8, 0, 6, 0xd0, 0x0f, 3, 1, 0x6b, 1, 1, 0x61, 1, 0x62, 0];
  const f = wsbin.messages(new Uint8Array(frame).buffer, 1);
  eq('frame count and last offset', [f.count, f.offset, f.last.length], [2, 6, 1]);
  const m = f.last[0];
  eq('last message', [m.offset, m.publishTime, m.redeliveryCount, m.key, m.properties, m.payload.length], [6, 1000, 3, 'k', { a: 'b' }, 0]);
  eq('all decoded', wsbin.messages(new Uint8Array(frame), 5).last.map((x) => [x.offset, new TextDecoder().decode(x.payload)]), [[5, 'hi'], [6, '']]);
  for (const [what, bad] of [['truncated', frame.slice(0, -3)], ['trailing', [...frame, 0]], ['long varint', [0x03, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]]]) {
    try { wsbin.messages(new Uint8Array(bad), 1); fails.push('wsbin accepted a ' + what + ' frame'); } catch (e) { eq(what + ' named', e.message.startsWith('wsbin:'), true); }
  }
  eq('not a messages frame', wsbin.messages(new Uint8Array([0x06, 0, 1, 0x78]), 1), null);
  eq('error frame', wsbin.error(new Uint8Array([0x06, 1, 0, 9, 2, 0x6e, 0x6f])), 'no');
  eq('permit', [...wsbin.permit(1000)], [5, 0xe8, 0x07]);
  eq('message id', wsbin.messageId(3), 'CAAQAxj///////////8B');
  eq('signed varint', [new wsbin.Reader(new Uint8Array([1])).varint(), new wsbin.Reader(new Uint8Array([4])).varint()], [-1, 2]);

  // Input a user typed.
  try { ui.parseJSON('{', 'Bind parameters'); fails.push('bad JSON accepted'); } catch (e) { eq('json error names the field', e.message.startsWith('Bind parameters is not valid JSON'), true); }
  eq('empty JSON', ui.parseJSON('  ', 'x'), undefined);
  eq('bytes', [ui.fmtBytes(0), ui.fmtBytes(1536), ui.fmtBytes(5 * 1024 * 1024)], ['0 B', '1.5 KiB', '5.0 MiB']);
  return fails;
})()`

func TestJavaScriptCores(t *testing.T) {
	exe := chromium(t)
	srv := httptest.NewServer(console.Wrap(console.New(), http.NotFoundHandler()))
	defer srv.Close()
	actx, cancel := browserAllocator(t, exe)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/")); err != nil {
		t.Fatal(err)
	}
	fails, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](jsTables, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if len(fails) > 0 {
		t.Fatalf("%d JavaScript table cases failed:\n%s", len(fails), strings.Join(fails, "\n"))
	}
}
