#!/usr/bin/env python3
"""Draws throughput against p99 latency for the max-delay sweep of
tools/bench_batching.sh as an SVG (no plotting library needed).
usage: tools/plot_batching.py build/bench_batching.jsonl docs/batching.svg"""
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sweep = [r for r in rows if r["label"] == "sweep"]
if not sweep:
    sys.exit("no sweep rows")
series = {}
for r in sorted(sweep, key=lambda r: r["delay_us"]):
    series.setdefault(r["concurrency"], []).append(r)
colors = ["steelblue", "darkorange", "seagreen", "crimson"]
W, H, L, B, T, R = 640, 420, 80, 60, 30, 30
xmax = max(r["p99_us"] / 1000 for r in sweep) * 1.15
ymax = max(max(r["rps"] for r in sweep), 32 / (2 + 32 * 0.05) * 1000) * 1.1
sx = lambda x: L + (W - L - R) * x / xmax
sy = lambda y: H - B - (H - B - T) * y / ymax
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
       'font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/>',
       f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="black"/>']
for i in range(6):
    x = xmax * i / 5
    y = ymax * i / 5
    out.append(f'<text x="{sx(x):.0f}" y="{H-B+18}" text-anchor="middle">{x:.1f}</text>')
    out.append(f'<text x="{L-8}" y="{sy(y)+4:.0f}" text-anchor="end">{y:.0f}</text>')
ideal = 32 / (2 + 32 * 0.05) * 1000
out.append(f'<line x1="{L}" y1="{sy(ideal):.1f}" x2="{W-R}" y2="{sy(ideal):.1f}" '
           'stroke="gray" stroke-dasharray="4 4"/>')
out.append(f'<text x="{W-R}" y="{sy(ideal)-6:.0f}" text-anchor="end" fill="gray">'
           f'ideal {ideal:.0f} req/s (32 / 3.6 ms)</text>')
for n, (conc, pts) in enumerate(sorted(series.items())):
    color = colors[n % len(colors)]
    xs = [r["p99_us"] / 1000 for r in pts]
    ys = [r["rps"] for r in pts]
    path = " ".join(f'{"M" if i == 0 else "L"}{sx(x):.1f},{sy(y):.1f}'
                    for i, (x, y) in enumerate(zip(xs, ys)))
    out.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
    for r, x, y in zip(pts, xs, ys):
        out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4" fill="{color}"/>')
        out.append(f'<text x="{sx(x)+6:.0f}" y="{sy(y)+14:.0f}" font-size="10">'
                   f'{r["delay_us"]} us</text>')
    out.append(f'<text x="{L+12}" y="{T+16+16*n}" fill="{color}">'
               f'concurrency {conc}</text>')
out.append(f'<text x="{(L+W-R)/2:.0f}" y="{H-15}" text-anchor="middle">p99 latency (ms)</text>')
out.append(f'<text x="18" y="{(T+H-B)/2:.0f}" text-anchor="middle" '
           f'transform="rotate(-90 18 {(T+H-B)/2:.0f})">throughput (req/s)</text>')
out.append(f'<text x="{(L+W-R)/2:.0f}" y="18" text-anchor="middle">cost model, 1 worker, '
           'concurrency 128, max-batch-size 32: one point per max-delay</text>')
out.append('</svg>')
open(sys.argv[2], "w").write("\n".join(out) + "\n")
