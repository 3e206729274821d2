#!/usr/bin/env python3
"""Loads the dashboard in headless Chromium through its DevTools protocol
(--remote-debugging-pipe: JSON messages ended by NUL on fds 3 and 4), waits
until the page has polled api/stats and drawn its charts, checks that it
shows the workers and a non-zero request count, and saves a screenshot.

  cdp_check.py URL SCREENSHOT.png --workers=w1,w2 [--chromium=chromium] [--timeout=90]

Exit status 0 if every check passed; the reason otherwise. Used by
tests/dashboard/check_dashboard.sh (docs/dashboard.md, docs/testing.md).
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

# What the page shows, read from its DOM (ids: dashboard/index.html).
PROBE = """JSON.stringify({
  polls: parseInt(document.body.dataset.polls || "0", 10),
  requests: parseInt(document.body.dataset.requests || "0", 10),
  requestsText: (document.getElementById("total-requests") || {}).textContent,
  workers: Array.from(document.querySelectorAll("#workers tbody tr"))
                .map(tr => tr.dataset.worker),
  models: Array.from(document.querySelectorAll("#models tbody tr"))
               .map(tr => tr.dataset.model),
  throughputPoints: parseInt(document.getElementById("chart-throughput").dataset.points || "0", 10),
  latencyPoints: parseInt(document.getElementById("chart-latency").dataset.points || "0", 10),
  histograms: Array.from(document.querySelectorAll("canvas.histogram"))
                   .map(c => parseInt(c.dataset.points || "0", 10)),
  errors: document.querySelectorAll("#errors tbody tr[data-seq]").length,
  status: document.getElementById("status").textContent
})"""


class cdp:
    """A DevTools connection over the pipe of a Chromium child."""

    def __init__(self, argv, log):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()

        def fds():
            # Out of the way first: either may be 3 or 4 already.
            r, w = os.dup(to_r) + 100, os.dup(from_w) + 100
            os.dup2(to_r, r)
            os.dup2(from_w, w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(argv, preexec_fn=fds, close_fds=False,
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=log)
        os.close(to_r)
        os.close(from_w)
        self.next_id = 1
        self.buf = b""

    def send(self, method, params=None, session=None, timeout=30):
        mid = self.next_id
        self.next_id += 1
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in self.buf:
                if time.monotonic() > deadline:
                    raise RuntimeError("no answer to " + method + " in %d s" % timeout)
                chunk = os.read(self.from_r, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe (exit %s)" % self.proc.poll())
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            m = json.loads(raw)
            if m.get("id") == mid:
                if "error" in m:
                    raise RuntimeError(method + ": " + json.dumps(m["error"]))
                return m.get("result", {})
            # events and other sessions' messages are skipped

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# Fills in and submits the key form if the page shows it.
ENTER_KEY = """(function () {
  var f = document.getElementById("key-form");
  if (!f || f.hidden) return false;
  document.getElementById("key-input").value = %s;
  f.requestSubmit();
  return true;
})()"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("screenshot")
    ap.add_argument("--workers", required=True)
    ap.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    ap.add_argument("--timeout", type=float, default=90)
    ap.add_argument("--key", default="",
                    help="the node needs API keys: wait for the page's key form, "
                         "type this admin key into it")
    args = ap.parse_args()
    want_workers = sorted(args.workers.split(","))
    profile = tempfile.mkdtemp(prefix="dine-chromium-")
    argv = [args.chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-dev-shm-usage", "--hide-scrollbars",
            "--user-data-dir=" + profile, "--remote-debugging-pipe", "about:blank"]
    log = open(args.screenshot + ".chromium.log", "w")
    c = cdp(argv, log)
    seen = None
    try:
        target = c.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = c.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        c.send("Emulation.setDeviceMetricsOverride",
               {"width": 1280, "height": 1500, "deviceScaleFactor": 1, "mobile": False},
               session=s)
        c.send("Page.enable", session=s)
        c.send("Page.navigate", {"url": args.url}, session=s)
        deadline = time.monotonic() + args.timeout
        ok = False
        key_entered = not args.key
        while time.monotonic() < deadline:
            if not key_entered:
                # The page must ask for the key (it got 401), then use it.
                r = c.send("Runtime.evaluate", {"expression": ENTER_KEY % json.dumps(args.key),
                                                "returnByValue": True}, session=s)
                key_entered = r.get("result", {}).get("value") is True
                if not key_entered:
                    time.sleep(0.5)
                    continue
                print("cdp_check: the page asked for a key; entered it")
            r = c.send("Runtime.evaluate", {"expression": PROBE, "returnByValue": True},
                       session=s)
            val = r.get("result", {}).get("value")
            if isinstance(val, str):
                seen = json.loads(val)
                # Ready: polled twice, every worker listed, requests counted,
                # both charts and a histogram drawn.
                if (seen["polls"] >= 2 and sorted(seen["workers"]) == want_workers
                        and seen["requests"] > 0 and seen["throughputPoints"] > 0
                        and seen["latencyPoints"] > 0 and seen["histograms"]
                        and all(h > 0 for h in seen["histograms"])):
                    ok = True
                    break
            time.sleep(0.5)
        shot = c.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                      session=s, timeout=60)
        with open(args.screenshot, "wb") as fh:
            fh.write(base64.b64decode(shot["data"]))
        print("cdp_check: page shows " + json.dumps(seen))
        if not key_entered:
            print("cdp_check: the page never showed its key form")
            return 1
        if not ok:
            print("cdp_check: the page did not show the workers %s, requests and charts within "
                  "%g s" % (want_workers, args.timeout))
            return 1
        if seen["requestsText"] in ("", "–", "0"):
            print("cdp_check: the requests tile reads %r" % seen["requestsText"])
            return 1
        print("cdp_check: ok, screenshot %s (%d bytes)" % (args.screenshot,
                                                          os.path.getsize(args.screenshot)))
        return 0
    finally:
        c.close()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
