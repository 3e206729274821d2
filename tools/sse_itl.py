#!/usr/bin/env python3
"""Inter-token latency through the HTTP front door's server-sent events
(tools/bench_http.sh): GENS streamed completions of TOKENS tokens, one at a
time, on one keep-alive connection; the time between consecutive `data:`
events, p50/p99 in microseconds.
    sse_itl.py HTTP_PORT TOKENS GENS"""
import http.client
import json
import sys
import time

port, tokens, gens = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port)
gaps = []
for i in range(gens):
    body = json.dumps({"model": "transformer", "prompt": f"Once upon a time {i}",
                       "max_tokens": tokens, "temperature": 0, "stream": True})
    conn.request("POST", "/v1/completions", body,
                 {"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200, resp.status
    last = None
    while True:
        line = resp.readline()
        if not line:
            break
        if not line.startswith(b"data: "):
            continue
        now = time.perf_counter_ns()
        if line.strip() == b"data: [DONE]":
            break
        ev = json.loads(line[6:])
        if ev["choices"][0]["finish_reason"] is not None:
            continue  # the final object carries no token
        if last is not None:
            gaps.append((now - last) / 1000)
        last = now
    resp.read()
gaps.sort()
q = lambda p: gaps[min(len(gaps) - 1, int(p * len(gaps)))]
print(f"http  inter-token p50 {q(0.5):7.0f} us  p99 {q(0.99):7.0f} us")
