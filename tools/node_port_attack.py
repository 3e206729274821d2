#!/usr/bin/env python3
"""Sends hostile bytes to a dine node port (--listen) and reports whether the
node closed each connection (docs/security.md, "Node ports").

  tools/node_port_attack.py PORT forged|gib|garbage [CONNECTIONS=1]
                            [--tls CERT KEY CA]

forged:  the 32-byte BASP handshake header of issue 15 claiming 4 GiB
gib:     a type-2 (direct message) header claiming 1 GiB
garbage: 4 KiB of random bytes
--tls: against a TLS node port (tls-cert etc.), as a peer with a cluster
certificate (tools/mkcerts.sh): the bytes go inside an authenticated TLS
connection, so they reach the node's BASP frame check, not just the
handshake. Without --tls against a TLS port, the handshake drops them.
Each connection sends its bytes, waits 1 s, then reads until the node closes
it (at most 2 s). Watch the node's VmRSS/VmHWM in /proc/PID/status meanwhile.
"""
import os
import socket
import ssl
import sys
import time

args = sys.argv[1:]
tls = None
if "--tls" in args:
    i = args.index("--tls")
    cert, key, ca = args[i + 1:i + 4]
    del args[i:i + 4]
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls.check_hostname = False  # CAF checks the chain only (docs/security.md)
    tls.load_verify_locations(ca)
    tls.load_cert_chain(cert, key)
port = int(args[0])
mode = args[1]
n = int(args[2]) if len(args) > 2 else 1
payloads = {
    "forged": bytes.fromhex("00000000ffffffff0000000000000001") + bytes(16),
    "gib": bytes.fromhex("0200000040000000") + bytes(24),
}
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if tls:
        s = tls.wrap_socket(s)
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
    except (ConnectionResetError, ssl.SSLError):
        closed += 1
    except OSError:
        pass  # still open after 2 s
    s.close()
print(f"closed by the node: {closed} of {n}")
