#!/usr/bin/env python3
"""Serves the dashboard (dashboard/) without the node's HTTP port, for
working on the page: GET / and /dashboard/* from the repo's dashboard/ dir,
GET /api/stats as `dine-client --op=stats` against a node's client port.

  tools/dashboard_serve.py --connect=127.0.0.1:7000 [--port=8080] [--client=build/dine-client]

The node's own HTTP port (--http-port, docs/http.md) serves the same paths;
this script only stands in for it (docs/dashboard.md).
"""
import argparse
import http.server
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".png": "image/png"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connect", required=True, help="node client port HOST:PORT")
    ap.add_argument("--port", type=int, default=8080, help="0: any free port")
    ap.add_argument("--client", default=os.path.join(ROOT, "build", "dine-client"))
    ap.add_argument("--ready-file", help="written with the port once listening")
    args = ap.parse_args()

    class handler(http.server.BaseHTTPRequestHandler):
        def send(self, code, ctype, body):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path == "/api/stats":
                try:
                    out = subprocess.run([args.client, "--connect=" + args.connect, "--op=stats"],
                                         capture_output=True, timeout=5, check=True).stdout
                    reply = json.loads(out.decode().splitlines()[0])
                    body = json.dumps(reply["outputs"]).encode()
                    return self.send(200, "application/json", body)
                except Exception as e:  # the page shows it
                    err = {"error": {"code": "unavailable", "message": str(e)}}
                    return self.send(503, "application/json", json.dumps(err).encode())
            name = "index.html" if path == "/" else path[len("/dashboard/"):] \
                if path.startswith("/dashboard/") else None
            f = os.path.join(ROOT, "dashboard", name) if name and "/" not in name else None
            if f is None or not os.path.isfile(f):
                err = {"error": {"code": "not_found", "message": "no route " + path}}
                return self.send(404, "application/json", json.dumps(err).encode())
            with open(f, "rb") as fh:
                self.send(200, TYPES.get(os.path.splitext(f)[1], "application/octet-stream"), fh.read())

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as fh:
            fh.write(str(srv.server_address[1]))
        os.rename(args.ready_file + ".tmp", args.ready_file)
    print("dashboard on http://127.0.0.1:%d/" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
