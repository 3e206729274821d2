// Unit test of the dashboard's pure helpers (dashboard/charts.js) under
// node, no npm packages: node tests/dashboard/test_charts.js
"use strict";
const assert = require("assert");
const path = require("path");
const C = require(path.join(__dirname, "..", "..", "dashboard", "charts.js"));

assert.strictEqual(C.fmtCount(0), "0");
assert.strictEqual(C.fmtCount(1234), "1,234");
assert.strictEqual(C.fmtCount(999999), "999,999");
assert.strictEqual(C.fmtCount(1234567), "1.23 M");
assert.strictEqual(C.fmtCount(undefined), "–");
assert.strictEqual(C.fmtUs(850), "850 µs");
assert.strictEqual(C.fmtUs(1500), "1.50 ms");
assert.strictEqual(C.fmtUs(12300), "12.3 ms");
assert.strictEqual(C.fmtUs(250000), "250 ms");
assert.strictEqual(C.fmtUs(2.5e6), "2.50 s");
assert.strictEqual(C.fmtRate(0), "0.00");
assert.strictEqual(C.fmtRate(12.34), "12.3");
assert.strictEqual(C.fmtRate(4321), "4,321");
assert.strictEqual(C.fmtPct(0.5), "50 %");
assert.strictEqual(C.fmtPct(1), "100.0 %");
assert.strictEqual(C.fmtPct(null), "–");

for (const [v, want] of [[0, 1], [0.7, 1], [1, 1], [1.1, 2], [2.2, 2.5], [3, 5],
                         [7, 10], [10, 10], [11, 20], [240, 250], [4100, 5000]])
  assert.strictEqual(C.niceMax(v), want, "niceMax(" + v + ")");

assert.strictEqual(C.cacheHitRatio({}), null);
assert.strictEqual(C.cacheHitRatio({ cache: { hits: 0, misses: 0 } }), null);
assert.strictEqual(C.cacheHitRatio({ cache: { hits: 3, misses: 1 } }), 0.75);

assert.deepStrictEqual(C.kvBlocks({ workers: [{ kv_blocks_used: 3, kv_blocks_total: 10 },
                                               { name: "w2" },
                                               { kv_blocks_used: 1, kv_blocks_total: 10 }] }),
                       { used: 4, total: 20 });
assert.strictEqual(C.errorCount({ requests: { errors: { overloaded: 2, internal: 1 } } }), 3);
assert.strictEqual(C.errorCount({}), 0);

// Batchers of one model (versions, shards) merge; sizes sort numerically.
assert.deepStrictEqual(
  C.batchHistograms({ batchers: [
    { model: "echo", batch_sizes: { "10": 1, "2": 5 } },
    { model: "cost", batch_sizes: { "1": 7 } },
    { model: "echo", batch_sizes: { "2": 1, "32": 4 } }] }),
  [{ model: "cost", sizes: [[1, 7]] },
   { model: "echo", sizes: [[2, 6], [10, 1], [32, 4]] }]);

// The charts draw on any 2D context: a recording stub stands in for a canvas.
function fakeCanvas() {
  const calls = [];
  const ctx = new Proxy({}, {
    get: (t, k) => (k in t ? t[k] : (...a) => calls.push([k, a])),
    set: (t, k, v) => { t[k] = v; return true; },
  });
  return { width: 300, height: 150, clientWidth: 300, clientHeight: 150, dataset: {},
           getContext: () => ctx, calls };
}
let cv = fakeCanvas();
assert.strictEqual(C.drawLineChart(cv, [{ label: "a", color: "#000", values: [1, null, 3, 4] },
                                        { label: "b", color: "#111", values: [] }]), 3);
assert.strictEqual(cv.dataset.points, "3");
// The gap (null) lifts the pen: moveTo at the start and after the gap.
// 5 grid lines (moveTo + lineTo each), then series a: moveTo at 1, moveTo
// at 3 (after the gap), lineTo 4.
const count = k => cv.calls.filter(c => c[0] === k).length;
assert.strictEqual(count("moveTo"), 5 + 2);
assert.strictEqual(count("lineTo"), 5 + 1);
cv = fakeCanvas();
assert.strictEqual(C.drawBarChart(cv, [[1, 5], [2, 0], [3, 9]]), 2);
assert.strictEqual(cv.calls.filter(c => c[0] === "fillRect").length, 3);
console.log("dashboard charts.js: all checks passed");
