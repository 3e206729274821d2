#!/usr/bin/env python3
"""Draws p99 latency against offered load (% of each setup's own closed-loop
peak) from the CSV of tools/bench_latency.sh as an SVG, log-scale y (no
plotting library needed).
usage: tools/plot_latency.py docs/bench/latency.csv docs/bench/latency_p99.svg"""
import csv
import math
import sys

rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["load_pct"] != "closed"]
if not rows:
    sys.exit("no open-loop rows")
peaks = {r["setup"]: r["rps"] for r in csv.DictReader(open(sys.argv[1]))
         if r["load_pct"] == "closed"}
series = {}
for r in rows:
    series.setdefault(r["setup"], []).append(
        (float(r["load_pct"]), float(r["p99_us"]), float(r["offered_rps"])))
colors = ["steelblue", "darkorange", "seagreen", "crimson"]
W, H, L, B, T, R = 640, 420, 80, 60, 40, 30
xmax = 80.0
ys = [p[1] for pts in series.values() for p in pts]
lo = 10 ** math.floor(math.log10(max(1.0, min(ys))))
hi = 10 ** math.ceil(math.log10(max(ys) * 1.01))
sx = lambda x: L + (W - L - R) * x / xmax
sy = lambda y: H - B - (H - B - T) * (math.log10(max(y, lo)) - math.log10(lo)) / (
    math.log10(hi) - math.log10(lo))
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
       'font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/>',
       f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="black"/>']
for x in range(0, 81, 10):
    out.append(f'<text x="{sx(x):.0f}" y="{H-B+18}" text-anchor="middle">{x}</text>')
decade = lo
while decade <= hi:
    label = f'{decade/1000:g} ms' if decade >= 1000 else f'{decade:g} us'
    out.append(f'<line x1="{L}" y1="{sy(decade):.1f}" x2="{W-R}" y2="{sy(decade):.1f}" '
               'stroke="#ddd"/>')
    out.append(f'<text x="{L-8}" y="{sy(decade)+4:.0f}" text-anchor="end">{label}</text>')
    decade *= 10
for n, (setup, pts) in enumerate(sorted(series.items())):
    color = colors[n % len(colors)]
    pts.sort()
    path = " ".join(f'{"M" if i == 0 else "L"}{sx(x):.1f},{sy(y):.1f}'
                    for i, (x, y, _) in enumerate(pts))
    out.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
    for x, y, rate in pts:
        out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4" fill="{color}"/>')
    out.append(f'<text x="{L+12}" y="{T+14+16*n}" fill="{color}">'
               f'{setup} (closed-loop peak {float(peaks.get(setup, 0))/1000:.0f}k req/s)</text>')
out.append(f'<text x="{(L+W-R)/2:.0f}" y="{H-15}" text-anchor="middle">'
           'offered load (% of the setup\'s own closed-loop peak)</text>')
out.append(f'<text x="18" y="{(T+H-B)/2:.0f}" text-anchor="middle" '
           f'transform="rotate(-90 18 {(T+H-B)/2:.0f})">p99 latency (log scale)</text>')
out.append(f'<text x="{(L+W-R)/2:.0f}" y="18" text-anchor="middle">open loop, echo, '
           '8 connections, cache off (tools/bench_latency.sh)</text>')
out.append('</svg>')
open(sys.argv[2], "w").write("\n".join(out) + "\n")
