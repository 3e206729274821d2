#!/usr/bin/env python3
"""Sends hostile bytes to a dine node port (--listen) and reports whether the
node closed each connection (docs/security.md, "Node ports").

  tools/node_port_attack.py PORT forged|gib|garbage [CONNECTIONS=1]

forged:  the 32-byte BASP handshake header of issue 15 claiming 4 GiB
gib:     a type-2 (direct message) header claiming 1 GiB
garbage: 4 KiB of random bytes
Each connection sends its bytes, waits 1 s, then reads until the node closes
it (at most 2 s). Watch the node's VmRSS/VmHWM in /proc/PID/status meanwhile.
"""
import os
import socket
import sys
import time

port = int(sys.argv[1])
mode = sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1
payloads = {
    "forged": bytes.fromhex("00000000ffffffff0000000000000001") + bytes(16),
    "gib": bytes.fromhex("0200000040000000") + bytes(24),
}
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(payloads[mode] if mode in payloads else os.urandom(4096))
    socks.append(s)
time.sleep(1)
closed = 0
for s in socks:
    s.settimeout(2)
    try:
        while s.recv(65536):  # the node's handshake may come first
            pass
        closed += 1
    except ConnectionResetError:
        closed += 1
    except OSError:
        pass  # still open after 2 s
    s.close()
print(f"closed by the node: {closed} of {n}")
