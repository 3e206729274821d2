// dine dashboard: format helpers and canvas charts (no library, no build
// step). Loaded by index.html; tests/dashboard/test_charts.js runs the pure
// helpers under node. See docs/dashboard.md.
"use strict";

(function (root) {
  /** Formats a count: 1234 -> "1,234"; 1234567 -> "1.23 M". */
  function fmtCount(n) {
    if (n === null || n === undefined || !isFinite(n)) return "–";
    if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(2) + " M";
    return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  /** Formats a rate in 1/s with up to 3 significant digits. */
  function fmtRate(r) {
    if (r === null || r === undefined || !isFinite(r)) return "–";
    if (r >= 1000) return fmtCount(r);
    if (r >= 100) return r.toFixed(0);
    if (r >= 10) return r.toFixed(1);
    return r.toFixed(2);
  }

  /** Formats microseconds: 850 -> "850 µs", 12300 -> "12.3 ms", 2.5e6 -> "2.50 s". */
  function fmtUs(us) {
    if (us === null || us === undefined || !isFinite(us)) return "–";
    if (us < 1000) return Math.round(us) + " µs";
    if (us < 1e6) {
      var ms = us / 1000;
      return (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)) + " ms";
    }
    return (us / 1e6).toFixed(2) + " s";
  }

  /** Formats a fraction 0..1 as a percentage, "–" if not a number. */
  function fmtPct(f) {
    if (f === null || f === undefined || !isFinite(f)) return "–";
    return (f * 100).toFixed(f >= 0.995 || f < 0.1 ? 1 : 0) + " %";
  }

  /** Returns a "nice" axis maximum >= v: 1, 2, 2.5 or 5 times a power of 10. */
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++)
      if (steps[i] * p >= v) return steps[i] * p;
    return 10 * p;
  }

  /** Cache hit ratio of a stats object: hits / (hits + misses), or null. */
  function cacheHitRatio(stats) {
    var c = stats && stats.cache;
    if (!c) return null;
    var n = (c.hits || 0) + (c.misses || 0);
    return n > 0 ? c.hits / n : null;
  }

  /** Sums the KV blocks of the workers: {used, total} (total 0: none). */
  function kvBlocks(stats) {
    var out = { used: 0, total: 0 };
    ((stats && stats.workers) || []).forEach(function (w) {
      out.used += w.kv_blocks_used || 0;
      out.total += w.kv_blocks_total || 0;
    });
    return out;
  }

  /** Total error replies of a stats object (all codes). */
  function errorCount(stats) {
    var e = (stats && stats.requests && stats.requests.errors) || {};
    return Object.keys(e).reduce(function (s, k) { return s + e[k]; }, 0);
  }

  /**
   * Merges the batchers' batch_sizes of each model: returns
   * [{model, sizes: [[size, count], ...] ascending}].
   */
  function batchHistograms(stats) {
    var by = {};
    ((stats && stats.batchers) || []).forEach(function (b) {
      var h = by[b.model] || (by[b.model] = {});
      var sizes = b.batch_sizes || {};
      Object.keys(sizes).forEach(function (k) {
        h[k] = (h[k] || 0) + sizes[k];
      });
    });
    return Object.keys(by).sort().map(function (m) {
      var pairs = Object.keys(by[m]).map(function (k) {
        return [parseInt(k, 10), by[m][k]];
      });
      pairs.sort(function (a, b) { return a[0] - b[0]; });
      return { model: m, sizes: pairs };
    });
  }

  /** A distinct colour for series i. */
  var palette = ["#2b7bb9", "#d9532c", "#3a9d5d", "#8a5cc2", "#c79a1e",
                 "#1aa3a3", "#c2417f", "#6b7a8f"];
  function color(i) { return palette[i % palette.length]; }

  /** Sets up `canvas` for its CSS size at the device pixel ratio. */
  function prepare(canvas) {
    var ratio = (root.devicePixelRatio || 1);
    var w = canvas.clientWidth || canvas.width;
    var h = canvas.clientHeight || canvas.height;
    if (canvas.width !== Math.round(w * ratio)) canvas.width = Math.round(w * ratio);
    if (canvas.height !== Math.round(h * ratio)) canvas.height = Math.round(h * ratio);
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px sans-serif";
    return { ctx: ctx, w: w, h: h };
  }

  function drawAxes(ctx, box, ymax, fmt, xlabel) {
    ctx.strokeStyle = "#ccd";
    ctx.fillStyle = "#556";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (var i = 0; i <= 4; i++) {
      var y = box.y + box.h - (box.h * i) / 4;
      ctx.beginPath();
      ctx.moveTo(box.x, Math.round(y) + 0.5);
      ctx.lineTo(box.x + box.w, Math.round(y) + 0.5);
      ctx.stroke();
      ctx.fillText(fmt((ymax * i) / 4), box.x - 4, y);
    }
    if (xlabel) {
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      ctx.fillText(xlabel, box.x + box.w / 2, box.y + box.h + 4);
    }
  }

  /**
   * Draws line series on `canvas`: lines = [{label, values: [y], color,
   * dash}] with equally spaced x (oldest first). A value of null is a gap.
   * Returns the number of points drawn (the test reads it from
   * canvas.dataset.points).
   */
  function drawLineChart(canvas, lines, opts) {
    opts = opts || {};
    var p = prepare(canvas), ctx = p.ctx;
    var box = { x: 58, y: 8, w: p.w - 66, h: p.h - 30 };
    var max = 0, n = 0;
    lines.forEach(function (l) {
      n = Math.max(n, l.values.length);
      l.values.forEach(function (v) { if (v !== null && v > max) max = v; });
    });
    var ymax = niceMax(max);
    drawAxes(ctx, box, ymax, opts.format || fmtRate, opts.xlabel);
    var points = 0;
    lines.forEach(function (l) {
      ctx.strokeStyle = l.color;
      ctx.lineWidth = 1.6;
      ctx.setLineDash(l.dash ? [4, 3] : []);
      ctx.beginPath();
      var pen = false;
      l.values.forEach(function (v, i) {
        if (v === null) { pen = false; return; }
        var x = box.x + (n > 1 ? (box.w * i) / (n - 1) : box.w);
        var y = box.y + box.h - (box.h * v) / ymax;
        if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
        pen = true;
        points++;
      });
      ctx.stroke();
    });
    ctx.setLineDash([]);
    canvas.dataset.points = String(points);
    return points;
  }

  /**
   * Draws bars on `canvas`: bars = [[label, value], ...]. Returns the
   * number of bars with a value above 0.
   */
  function drawBarChart(canvas, bars, opts) {
    opts = opts || {};
    var p = prepare(canvas), ctx = p.ctx;
    var box = { x: 58, y: 8, w: p.w - 66, h: p.h - 30 };
    var max = 0;
    bars.forEach(function (b) { if (b[1] > max) max = b[1]; });
    var ymax = niceMax(max);
    drawAxes(ctx, box, ymax, fmtCount, null);
    var slot = bars.length > 0 ? box.w / bars.length : box.w;
    var drawn = 0;
    ctx.fillStyle = opts.color || color(0);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    var every = Math.max(1, Math.ceil(bars.length / Math.max(1, box.w / 24)));
    bars.forEach(function (b, i) {
      var h = (box.h * b[1]) / ymax;
      var x = box.x + slot * i + slot * 0.1;
      ctx.fillStyle = opts.color || color(0);
      ctx.fillRect(x, box.y + box.h - h, slot * 0.8, h);
      if (b[1] > 0) drawn++;
      if (i % every === 0) {
        ctx.fillStyle = "#556";
        ctx.fillText(String(b[0]), x + slot * 0.4, box.y + box.h + 4);
      }
    });
    canvas.dataset.points = String(drawn);
    return drawn;
  }

  var api = {
    fmtCount: fmtCount, fmtRate: fmtRate, fmtUs: fmtUs, fmtPct: fmtPct,
    niceMax: niceMax, cacheHitRatio: cacheHitRatio, kvBlocks: kvBlocks,
    errorCount: errorCount, batchHistograms: batchHistograms, color: color,
    drawLineChart: drawLineChart, drawBarChart: drawBarChart,
  };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.dineCharts = api;
})(typeof window !== "undefined" ? window : this);
