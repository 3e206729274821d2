#!/usr/bin/env python3
"""Floods a dine client port with random and mutated frames (docs/security.md).

Usage: client_port_fuzz.py PORT [--seconds S] [--connections N] [--seed X]

Each of N connections, for S seconds, sends one of: random bytes; a real
request frame from tests/fuzz/corpus/frame with random bytes flipped,
inserted or cut; a frame header claiming a large body followed by part of
it; a burst of valid frames it never reads the replies of. A connection is
closed and reopened at random. All are closed at the end. Prints how many
connections and bytes were used.
"""
import argparse
import os
import random
import select
import socket
import struct
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus", "frame")


def seeds():
    out = []
    for name in sorted(os.listdir(CORPUS)):
        with open(os.path.join(CORPUS, name), "rb") as f:
            out.append(f.read())
    return out


def mutate(rng, data):
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randint(0, 2)
        if op == 0 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 1:
            pos = rng.randint(0, len(b))
            b[pos:pos] = os.urandom(rng.randint(1, 16))
        elif b:
            pos = rng.randrange(len(b))
            del b[pos:pos + rng.randint(1, 8)]
    return bytes(b)


def payload(rng, frames):
    kind = rng.randint(0, 3)
    if kind == 0:
        return os.urandom(rng.randint(1, 4096))
    if kind == 1:
        return mutate(rng, rng.choice(frames))
    if kind == 2:
        n = rng.randint(1 << 16, 16 << 20)
        return struct.pack(">I", n) + os.urandom(rng.randint(0, 65536))
    return b"".join(rng.choice(frames) for _ in range(rng.randint(1, 256)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    frames = seeds()
    conns = [None] * a.connections
    opened = sent = 0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        i = rng.randrange(a.connections)
        if conns[i] is None or rng.random() < 0.05:
            if conns[i] is not None:
                conns[i].close()
            try:
                conns[i] = socket.create_connection((a.host, a.port), 2)
                conns[i].setblocking(False)
                opened += 1
            except OSError:
                conns[i] = None
                time.sleep(0.01)
                continue
        try:
            sent += conns[i].send(payload(rng, frames))
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            conns[i].close()
            conns[i] = None
        # Read a little now and then (some connections never read).
        if rng.random() < 0.3 and conns[i] is not None:
            r, _, _ = select.select([conns[i]], [], [], 0)
            if r:
                try:
                    conns[i].recv(65536)
                except OSError:
                    pass
    for c in conns:
        if c is not None:
            c.close()
    print(f"connections opened {opened}, bytes sent {sent}")


if __name__ == "__main__":
    sys.exit(main())
