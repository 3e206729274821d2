#!/usr/bin/env python3
"""Closed-loop generation load against llama.cpp's llama-server, the peer of
dine's transformer benchmark (tools/bench_generate.sh, docs/benchmarks.md).

  llama_load.py --port P --concurrency C --requests R --max-tokens N
                [--prompt TEXT] [--ban-bytes]

C client threads each send completions (greedy, ignore_eos, N new tokens)
until R requests are done; prints one JSON line: output tokens/s over the
wall time, and p50/p99 of time to first token and of time per output token
from llama-server's own per-request timings. --ban-bytes bans token ids
3..258 (the byte tokens a random model emits, which are not valid UTF-8).
"""
import argparse
import http.client
import json
import threading
import time


def pct(xs, q):
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--requests", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--prompt", default="Once upon a time")
    ap.add_argument("--ban-bytes", action="store_true")
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    body = {"prompt": a.prompt, "n_predict": a.max_tokens, "temperature": 0,
            "ignore_eos": True, "cache_prompt": False}
    if a.ban_bytes:
        body["logit_bias"] = [[i, False] for i in range(3, 259)]
    payload = json.dumps(body)
    lock = threading.Lock()
    left = [a.requests]
    tokens, ttft, tpot, errors = [0], [], [], [0]

    def worker():
        conn = http.client.HTTPConnection(a.host, a.port, timeout=a.timeout)
        while True:
            with lock:
                if left[0] == 0:
                    break
                left[0] -= 1
            try:
                conn.request("POST", "/completion", payload,
                             {"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                if r.status != 200:
                    raise RuntimeError(f"status {r.status}: {data[:200]!r}")
                j = json.loads(data)
                t = j.get("timings", {})
                with lock:
                    tokens[0] += int(j.get("tokens_predicted", 0))
                    ttft.append(t.get("prompt_ms", 0.0)
                                + t.get("predicted_per_token_ms", 0.0))
                    tpot.append(t.get("predicted_per_token_ms", 0.0))
            except Exception as e:  # counted, and the connection renewed
                with lock:
                    errors[0] += 1
                    if errors[0] == 1:
                        print(f"llama_load: {e}", flush=True)
                conn.close()
                conn = http.client.HTTPConnection(a.host, a.port,
                                                  timeout=a.timeout)
        conn.close()

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    print(json.dumps({
        "concurrency": a.concurrency, "requests": a.requests,
        "errors": errors[0], "output_tokens": tokens[0],
        "seconds": round(wall, 3),
        "tokens_per_s": round(tokens[0] / wall, 1) if wall > 0 else 0,
        "ttft_ms_p50": round(pct(ttft, 0.5), 2),
        "ttft_ms_p99": round(pct(ttft, 0.99), 2),
        "tpot_ms_p50": round(pct(tpot, 0.5), 2),
        "tpot_ms_p99": round(pct(tpot, 0.99), 2)}))


if __name__ == "__main__":
    main()
