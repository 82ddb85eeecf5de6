#!/usr/bin/env python3
"""Soak test for `secwire run` (not part of CI; Python 3 standard library only).

Runs the daemon for a while (20 minutes by default) against a few hundred
local feeds spread over many loopback hosts (127.0.1.x), with injected
faults, and reports:

  * requests per feed against the schedule (no feed polled more often than
    its interval allows; Retry-After obeyed),
  * items stored against items served (nothing lost),
  * peak and final RSS of the daemon, and RSS over time (flat after warm-up),
  * errors by class (server-side injected faults, secwire's own counters).

Usage:
  cargo build --release
  python3 tests/soak/soak.py --binary target/release/secwire --minutes 20 --feeds 220

Faults (chosen per feed, deterministic from the feed number):
  * flaky: HTTP 500 on every third request;
  * throttled: 429 with Retry-After: 90 on every fifth request;
  * slow: every fourth request hangs past secwire's timeout;
  * broken: malformed XML on every other request;
  * gone: 410 from the third request on;
  * moved: 301 to a new URL (permanent);
  * articles: 5% answer 503 twice before succeeding, 2% are 404.
"""

import argparse
import collections
import html
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

T0 = time.time()


class World:
    """The feeds, their entries over time, and a log of every request."""

    def __init__(self, n_feeds, n_hosts, seed=7):
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.n_hosts = n_hosts
        self.feeds = {}
        for i in range(n_feeds):
            kind = "ok"
            if i % 10 == 1:
                kind = "flaky"
            elif i % 20 == 2:
                kind = "throttled"
            elif i % 20 == 3:
                kind = "slow"
            elif i % 50 == 4:
                kind = "broken"
            elif i in (5, 105):
                kind = "gone"
            elif i % 25 == 6:
                kind = "moved"
            period = self.rng.choice([60, 90, 120, 180, 300, 600])  # seconds between new entries
            self.feeds[i] = {"kind": kind, "period": period, "requests": 0, "host": i % n_hosts}
        self.log = []  # (time, feed, status, conditional)
        self.served = set()  # (feed, entry) seen in a 200 response
        self.article_requests = collections.Counter()
        self.faults = collections.Counter()

    def host_ip(self, h):
        return "127.0.1.%d" % (h + 1)

    def entries(self, i, now):
        """Entries visible at `now`: one every `period` s since start, the newest 15."""
        f = self.feeds[i]
        n = int((now - T0) // f["period"]) + 3
        return list(range(max(0, n - 15), n))

    def feed_xml(self, i, entries, port):
        host = self.host_ip(self.feeds[i]["host"])
        items = []
        for k in reversed(entries):
            when = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(T0 + k * self.feeds[i]["period"]))
            items.append(
                "<item><title>Feed %d story %d</title><link>http://%s:%d/art/%d/%d.html</link>"
                "<guid>f%d-e%d</guid><pubDate>%s</pubDate><description>Summary %d of feed %d.</description></item>"
                % (i, k, host, port, i, k, i, k, when, k, i))
        return ("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Soak feed %d</title>"
                "<link>http://%s:%d/</link>%s</channel></rss>" % (i, host, port, "".join(items)))


def make_handler(world, port):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, status, body=b"", ctype="text/plain", headers=()):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            now = time.time()
            m = re.match(r"^/feed/(\d+)(-new)?\.xml$", self.path)
            if m:
                return self.feed(int(m.group(1)), bool(m.group(2)), now)
            m = re.match(r"^/art/(\d+)/(\d+)\.html$", self.path)
            if m:
                return self.article(int(m.group(1)), int(m.group(2)))
            if self.path == "/robots.txt":
                return self.send(200, b"User-agent: *\nDisallow: /private/\n")
            self.send(404, b"no")

        def feed(self, i, new_url, now):
            f = world.feeds[i]
            with world.lock:
                f["requests"] += 1
                n = f["requests"]
            cond = self.headers.get("If-None-Match")
            status = 200
            kind = f["kind"]
            if kind == "moved" and not new_url:
                status = 301
                self.send(301, b"", headers=[("Location", "/feed/%d-new.xml" % i)])
            elif kind == "gone" and n >= 3:
                status = 410
                self.send(410, b"gone")
            elif kind == "flaky" and n % 3 == 0:
                status = 500
                self.send(500, b"oops")
            elif kind == "throttled" and n % 5 == 0:
                status = 429
                self.send(429, b"slow down", headers=[("Retry-After", "90")])
            elif kind == "slow" and n % 4 == 0:
                status = -1  # hangs past the client's timeout
                with world.lock:
                    world.log.append((now, i, status, bool(cond)))
                    world.faults["feed_timeout"] += 1
                time.sleep(25)
                try:
                    self.send(200, b"late")
                except OSError:
                    pass
                return
            elif kind == "broken" and n % 2 == 0:
                status = 200
                self.send(200, b"<rss><channel><item><title>broken", "application/rss+xml")
                with world.lock:
                    world.faults["malformed"] += 1
            else:
                entries = world.entries(i, now)
                etag = '"%d-%d"' % (i, entries[-1])
                if cond == etag:
                    status = 304
                    self.send(304, b"", headers=[("ETag", etag)])
                else:
                    body = world.feed_xml(i, entries, port).encode()
                    self.send(200, body, "application/rss+xml", headers=[("ETag", etag)])
                    with world.lock:
                        for k in entries:
                            world.served.add((i, k))
            with world.lock:
                world.log.append((now, i, status, bool(cond)))
                if status in (500, 429, 410, 301):
                    world.faults["feed_%d" % status] += 1

        def article(self, i, k):
            key = (i, k)
            with world.lock:
                world.article_requests[key] += 1
                n = world.article_requests[key]
            h = (i * 31 + k * 17) % 100
            if h < 2:
                with world.lock:
                    world.faults["article_404"] += 1
                return self.send(404, b"missing")
            if h < 7 and n <= 2:
                with world.lock:
                    world.faults["article_503"] += 1
                return self.send(503, b"busy")
            paras = "".join("<p>Paragraph %d of story %d in feed %d. %s</p>" % (p, k, i, "Officials reviewed vendor contracts and procurement rules. " * 3) for p in range(6))
            body = ("<html lang=en><head><title>Story %d</title><meta name=author content='Soak Writer'></head>"
                    "<body><nav>menu</nav><article><h1>Story %d</h1>%s</article><footer>c</footer></body></html>" % (k, k, paras))
            self.send(200, body.encode(), "text/html; charset=utf-8")

    return H


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            txt = f.read()
        cur = int(re.search(r"VmRSS:\s+(\d+)", txt).group(1))
        peak = int(re.search(r"VmHWM:\s+(\d+)", txt).group(1))
        return cur, peak
    except (OSError, AttributeError):
        return None, None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default="target/release/secwire")
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--feeds", type=int, default=220)
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--keep", help="keep the work directory here")
    a = ap.parse_args()

    world = World(a.feeds, a.hosts)
    servers = []
    for h in range(a.hosts):
        srv = ThreadingHTTPServer((world.host_ip(h), a.port), make_handler(world, a.port))
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)

    work = a.keep or tempfile.mkdtemp(prefix="secwire-soak-")
    os.makedirs(work, exist_ok=True)
    db = os.path.join(work, "soak.db")
    metrics_port = a.port + 1000
    min_interval = 30
    cfg = ["[database]", 'path = "%s"' % db, "",
           "[fetch]", "timeout_secs = 10", "connect_timeout_secs = 5", "concurrency = 16",
           "per_host_concurrency = 2", "allow_private_addresses = true", 'min_host_delay = "100ms"', "",
           "[schedule]", 'min_interval = "%ds"' % min_interval, 'max_interval = "10m"', 'default_interval = "1m"',
           "jitter = 0.1", "", "[daemon]", 'shutdown_timeout = "10s"', 'article_retry_delay = "30s"', "",
           "[metrics]", 'listen = "127.0.0.1:%d"' % metrics_port, ""]
    for i in range(a.feeds):
        cfg += ["[[feeds]]", 'url = "http://%s:%d/feed/%d.xml"' % (world.host_ip(world.feeds[i]["host"]), a.port, i), ""]
    conf = os.path.join(work, "soak.toml")
    with open(conf, "w") as f:
        f.write("\n".join(cfg))

    errlog = open(os.path.join(work, "daemon.log"), "w")
    proc = subprocess.Popen([a.binary, "--config", conf, "--log-format", "json", "run"], stderr=errlog, stdout=subprocess.DEVNULL)
    start = time.time()
    samples = []  # (elapsed s, rss KiB)
    deadline = start + a.minutes * 60
    while time.time() < deadline and proc.poll() is None:
        cur, _peak = rss_kib(proc.pid)
        if cur:
            samples.append((time.time() - start, cur))
        time.sleep(5)
    metrics_text = ""
    try:
        metrics_text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port, timeout=5).read().decode()
    except OSError as e:
        metrics_text = "(metrics unavailable: %s)" % e
    final_rss, peak_rss = rss_kib(proc.pid)
    stop_at = time.time()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    stop_took = time.time() - stop_at
    end_time = time.time()

    # ---------------------------------------------------------------- report
    con = sqlite3.connect(db)
    stored = set()
    for (guid,) in con.execute("SELECT x.entry_id FROM item_feeds x"):
        m = re.match(r"f(\d+)-e(\d+)$", guid or "")
        if m:
            stored.add((int(m.group(1)), int(m.group(2))))
    integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
    statuses = dict(con.execute("SELECT extraction_status, count(*) FROM items GROUP BY 1").fetchall())
    disabled = con.execute("SELECT count(*) FROM feeds WHERE enabled = 0").fetchone()[0]
    lost = world.served - stored

    # Requests per feed against the schedule.
    by_feed = collections.defaultdict(list)
    for t, i, status, cond in world.log:
        by_feed[i].append((t, status))
    too_soon = []
    retry_after_violations = 0
    for i, reqs in by_feed.items():
        reqs.sort()
        for (t1, s1), (t2, s2) in zip(reqs, reqs[1:]):
            gap = t2 - t1
            if s1 == 301:
                continue  # the redirect and its target are one fetch
            floor = 90 if s1 == 429 else min_interval * 0.9 - 1
            if s1 == -1:
                floor = 0  # a hung request: the next poll is planned when it times out
            if gap < floor:
                too_soon.append((i, round(gap, 1), s1))
                if s1 == 429:
                    retry_after_violations += 1
    elapsed = a.minutes * 60
    polls = [len(v) for v in by_feed.values()]
    max_allowed = elapsed / (min_interval * 0.9) + 2

    warm = [r for (t, r) in samples if t >= 300]
    first_half = [r for (t, r) in samples if 300 <= t < 300 + (elapsed - 300) / 2]
    second_half = [r for (t, r) in samples if t >= 300 + (elapsed - 300) / 2]
    def mean(xs):
        return round(sum(xs) / len(xs)) if xs else None

    errors = [l for l in metrics_text.splitlines() if l.startswith("secwire_errors_total")]
    fetches = [l for l in metrics_text.splitlines() if l.startswith("secwire_feed_fetches_total")]

    report = {
        "minutes": a.minutes, "feeds": a.feeds, "hosts": a.hosts,
        "requests": {"feed_requests": len(world.log), "article_requests": sum(world.article_requests.values()),
                     "polls_per_feed_min_median_max": [min(polls), sorted(polls)[len(polls) // 2], max(polls)] if polls else [],
                     "max_allowed_polls_per_feed": round(max_allowed, 1),
                     "gaps_shorter_than_interval": len(too_soon), "examples": too_soon[:10],
                     "retry_after_violations": retry_after_violations},
        "items": {"served": len(world.served), "stored": len(stored), "lost": len(lost),
                  "lost_examples": sorted(lost)[:10], "extraction_status": statuses},
        "feeds_disabled_410": disabled,
        "rss_kib": {"peak": peak_rss, "final": final_rss, "mean_after_warmup_first_half": mean(first_half),
                    "mean_after_warmup_second_half": mean(second_half),
                    "min_after_warmup": min(warm) if warm else None, "max_after_warmup": max(warm) if warm else None},
        "faults_injected": dict(world.faults),
        "secwire_errors": errors, "secwire_fetches": fetches,
        "shutdown": {"exit_code": code, "seconds": round(stop_took, 2)},
        "integrity_check": integrity,
        "workdir": work,
    }
    print(json.dumps(report, indent=1))
    ok = (not lost) and not too_soon and integrity == "ok" and code == 0
    print("SOAK %s: lost=%d too_soon=%d peak_rss_kib=%s final_rss_kib=%s" % ("OK" if ok else "FAILED", len(lost), len(too_soon), peak_rss, final_rss))
    for s in servers:
        s.shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
