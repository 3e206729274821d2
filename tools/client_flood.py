#!/usr/bin/env python3
"""Floods a dine client port with connections that send 16 MiB `echo`
frames and never read their replies (issue 15; docs/security.md, "Client
port"), reconnecting whenever the node closes one. Meanwhile a fresh
client sends one `health` a second and reports how long it waited.

  tools/client_flood.py PORT [CONNECTIONS=25] [SECONDS=10] [PID]

With PID, prints the node's VmRSS/VmHWM (from /proc/PID/status) each
second. Exit status 0; the lines say what happened.
"""
import select
import socket
import struct
import sys
import time

port = int(sys.argv[1])
nconn = int(sys.argv[2]) if len(sys.argv) > 2 else 25
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10
pid = sys.argv[4] if len(sys.argv) > 4 else None


def mp_str(s):
    b = s.encode()
    return bytes([0xA0 | len(b)]) + b


def frame(body):
    return struct.pack(">I", len(body)) + body


# {"id": 1, "op": "infer", "model": "echo", "cache": false, "inputs": bin}
data_len = 16 * 1024 * 1024 - 128
body = (bytes([0x85]) + mp_str("id") + b"\x01" + mp_str("op") +
        mp_str("infer") + mp_str("model") + mp_str("echo") +
        mp_str("cache") + b"\xc2" + mp_str("inputs") + b"\xc6" +
        struct.pack(">I", data_len) + bytes(data_len))
big = frame(body)
health = frame(bytes([0x82]) + mp_str("id") + b"\x07" + mp_str("op") +
               mp_str("health"))


def status(key):
    if not pid:
        return "-"
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split()[1] + " kB"
    return "?"


def opener():
    s = socket.create_connection(("127.0.0.1", port))
    s.setblocking(False)
    return [s, 0]


conns = [opener() for _ in range(nconn)]
closed = 0
sent_frames = 0
start = time.time()
next_report = start
while time.time() - start < seconds:
    _, w, _ = select.select([], [c[0] for c in conns], [], 0.1)
    for c in conns:
        if c[0] not in w:
            continue
        try:
            n = c[0].send(big[c[1]:c[1] + (1 << 20)])
            c[1] = (c[1] + n) % len(big)
            sent_frames += 1 if c[1] == 0 else 0
        except OSError:
            closed += 1
            c[0].close()
            c[0], c[1] = opener()
    if time.time() >= next_report:
        next_report += 1
        t0 = time.time()
        try:
            h = socket.create_connection(("127.0.0.1", port), timeout=10)
            h.sendall(health)
            ok = len(h.recv(4)) == 4
            h.close()
        except OSError:
            ok = False
        print("t=%.0fs health %s in %.0f ms, VmRSS %s, VmHWM %s, "
              "frames sent %d, closed by node %d" %
              (time.time() - start, "ok" if ok else "FAILED",
               (time.time() - t0) * 1000, status("VmRSS"), status("VmHWM"),
               sent_frames, closed), flush=True)
for c in conns:
    c[0].close()
