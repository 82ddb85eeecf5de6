#!/usr/bin/env python3
"""Measure a history backfill on a local site of N archived articles (not CI).

The site (on 127.0.0.1) has a WordPress-style paged feed of the newest
articles (20 per page), and a robots.txt naming a sitemap index of gzipped
sitemaps (1,000 URLs each) that list every article with its lastmod, plus
tag pages and images that must be skipped. Two scenarios, each on a fresh
database:

  full:     secwire backfill --since DATE          (one run)
  resumed:  the same, SIGKILLed when half the articles are stored, then
            run again to completion

For each: wall time, requests the server answered (feed pages, sitemaps,
articles), articles stored, and peak RSS (from /usr/bin/time -v, per run).

Usage:
  cargo build --release
  python3 tests/soak/history.py --binary target/release/secwire --articles 5000
"""

import argparse
import collections
import gzip
import json
import os
import re
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def build(n, port):
    base = "http://127.0.0.1:%d" % port
    # Article k was published k hours after START; the newest is n-1.
    def date(k):
        return START + timedelta(hours=k)

    pages = {}
    per_page = 20
    newest = list(range(n - 1, -1, -1))
    for p in range(0, 60):
        chunk = newest[p * per_page:(p + 1) * per_page]
        if not chunk:
            break
        items = "".join(
            "<item><title>Article %d</title><link>%s/%d/article-%d.html</link><guid>%s/?p=%d</guid>"
            "<pubDate>%s</pubDate><description>Teaser %d</description></item>"
            % (k, base, date(k).year, k, base, k, date(k).strftime("%a, %d %b %Y %H:%M:%S +0000"), k)
            for k in chunk)
        pages[p + 1] = ("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>History site</title><link>%s/</link>"
                        "<generator>https://wordpress.org/?v=6.6</generator>%s</channel></rss>" % (base, items)).encode()
    sitemaps = {}
    for s in range(0, (n + 999) // 1000):
        urls = "".join("<url><loc>%s/%d/article-%d.html</loc><lastmod>%s</lastmod></url>"
                       % (base, date(k).year, k, date(k).strftime("%Y-%m-%dT%H:%M:%SZ"))
                       for k in range(s * 1000, min(n, (s + 1) * 1000)))
        urls += "".join("<url><loc>%s/tag/t%d/</loc></url><url><loc>%s/img/%d.jpg</loc></url>" % (base, t, base, t) for t in range(20))
        sitemaps["/sitemaps/s%d.xml.gz" % s] = gzip.compress(
            ("<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">%s</urlset>" % urls).encode())
    index = ("<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">%s</sitemapindex>"
             % "".join("<sitemap><loc>%s%s</loc></sitemap>" % (base, p) for p in sitemaps)).encode()
    return pages, sitemaps, index


class Site:
    def __init__(self, n, port):
        self.n = n
        self.pages, self.sitemaps, self.index = build(n, port)
        self.counts = collections.Counter()
        self.lock = threading.Lock()
        filler = "Officials reviewed vendor contracts, procurement rules and security assessments. " * 6
        self.article_tmpl = ("<html lang=en><head><title>Article %d</title><meta name=author content='History Writer'></head><body>"
                             "<nav>menu</nav><article><h1>Article %d</h1>" + "<p>%s</p>" % filler * 5 + "</article><footer>c</footer></body></html>")

    def handler(self):
        site = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def send(self, code, body, ctype):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                p = self.path
                kind = "other"
                if p.startswith("/feed/"):
                    kind = "feed_page"
                    m = re.search(r"paged=(\d+)", p)
                    page = int(m.group(1)) if m else 1
                    body = site.pages.get(page)
                    if body is None:
                        self.send(404, b"no such page", "text/plain")
                    else:
                        self.send(200, body, "application/rss+xml")
                elif p == "/robots.txt":
                    kind = "robots"
                    self.send(200, ("User-agent: *\nDisallow: /private/\nSitemap: http://%s/sitemap_index.xml\n" % self.headers.get("Host")).encode(), "text/plain")
                elif p == "/sitemap_index.xml":
                    kind = "sitemap"
                    self.send(200, site.index, "application/xml")
                elif p in site.sitemaps:
                    kind = "sitemap"
                    self.send(200, site.sitemaps[p], "application/x-gzip")
                else:
                    m = re.match(r"^/\d+/article-(\d+)\.html$", p)
                    if m:
                        kind = "article"
                        k = int(m.group(1))
                        self.send(200, (site.article_tmpl % (k, k)).encode(), "text/html; charset=utf-8")
                    else:
                        self.send(404, b"no", "text/plain")
                with site.lock:
                    site.counts[kind] += 1
                    if kind == "article":
                        site.counts["article:" + p] += 1

        return H


def run_timed(cmd, kill_when=None):
    """Runs cmd under /usr/bin/time -v; kill_when() -> True sends SIGKILL."""
    tf = tempfile.NamedTemporaryFile(delete=False, suffix=".time")
    t0 = time.time()
    proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", tf.name] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    killed = False
    if kill_when:
        while proc.poll() is None:
            if kill_when():
                # /usr/bin/time's child is the secwire process.
                child = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
                for c in child:
                    os.kill(int(c), signal.SIGKILL)
                killed = True
                break
            time.sleep(0.05)
    _, err = proc.communicate()
    wall = time.time() - t0
    txt = open(tf.name).read()
    os.unlink(tf.name)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", txt)
    return {"wall_s": round(wall, 2), "peak_rss_kib": int(m.group(1)) if m else None, "killed": killed,
            "summary": [l for l in err.decode(errors="replace").splitlines() if l.startswith(("summary", "history"))]}


def count(db, sql):
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        return con.execute(sql).fetchone()[0]
    except sqlite3.Error:
        return 0


def scenario(binary, site, port, interrupt):
    work = tempfile.mkdtemp(prefix="secwire-history-")
    db = os.path.join(work, "h.db")
    conf = os.path.join(work, "h.toml")
    with open(conf, "w") as f:
        f.write("\n".join([
            "[database]", 'path = "%s"' % db, "",
            "[fetch]", "timeout_secs = 20", "concurrency = 8", "per_host_concurrency = 4",
            "allow_private_addresses = true", 'min_host_delay = "0s"', "",
            "[[feeds]]", 'url = "http://127.0.0.1:%d/feed/"' % port, ""]))
    site.counts.clear()
    cmd = [binary, "--config", conf, "backfill", "--since", "2023-12-31"]
    runs = []
    if interrupt:
        half = site.n // 2
        runs.append(run_timed(cmd, kill_when=lambda: count(db, "SELECT count(*) FROM items") >= half))
    runs.append(run_timed(cmd))
    articles = [k for k in site.counts if k.startswith("article:")]
    refetched = sum(1 for k in articles if site.counts[k] > 1)
    return {
        "runs": runs,
        "wall_s_total": round(sum(r["wall_s"] for r in runs), 2),
        "peak_rss_kib_max": max(r["peak_rss_kib"] or 0 for r in runs),
        "requests": {k: v for k, v in site.counts.items() if not k.startswith("article:")},
        "articles_fetched_more_than_once": refetched,
        "items_stored": count(db, "SELECT count(*) FROM items"),
        "integrity": count(db, "PRAGMA integrity_check"),
        "workdir": work,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default="target/release/secwire")
    ap.add_argument("--articles", type=int, default=5000)
    ap.add_argument("--port", type=int, default=18181)
    a = ap.parse_args()
    site = Site(a.articles, a.port)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), site.handler())
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    report = {"articles": a.articles,
              "full": scenario(a.binary, site, a.port, interrupt=False),
              "interrupted_then_resumed": scenario(a.binary, site, a.port, interrupt=True)}
    print(json.dumps(report, indent=1))
    srv.shutdown()


if __name__ == "__main__":
    main()
