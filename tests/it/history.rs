//! `secwire backfill --since` through archives and sitemaps, `--urls`,
//! `--dry-run`, and resuming after SIGKILL.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::{Env, FILLER, Reply, TestServer, article_page, stderr, stdout, wait_until};

/// Day `d` of 2024 as an RSS date and as a W3C date.
fn rss_date(d: u32) -> String {
    let date = chrono::NaiveDate::from_yo_opt(2024, d).unwrap();
    date.format("%a, %d %b %Y 10:00:00 +0000").to_string()
}
fn w3c(d: u32) -> String {
    chrono::NaiveDate::from_yo_opt(2024, d)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string()
}

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

/// The test site. Returns the article paths that a backfill `--since`
/// day 100 of 2024 must store.
struct Site {
    expected: BTreeSet<String>,
    /// Every article page path on the site.
    articles: Vec<String>,
}

const SINCE_DAY: u32 = 100;
const SINCE: &str = "2024-04-09"; // day 100 of 2024

fn build_site(server: &TestServer) -> Site {
    let mut expected = BTreeSet::new();
    let mut articles = Vec::new();
    let mut article = |path: String, day: u32, expect: bool| {
        server.route(
            &path,
            Reply::html(article_page(
                &format!("Story at {path}"),
                "A B",
                &[FILLER, FILLER],
            )),
        );
        if expect {
            expected.insert(path.clone());
        }
        articles.push(path);
        let _ = day;
    };

    // WordPress-style paged feed: 6 pages of 5 entries, newest first, one
    // entry every 5 days going back from day 180; ?paged=7 is a 404.
    for page in 1..=6u32 {
        let mut items = String::new();
        for k in 0..5u32 {
            let n = (page - 1) * 5 + k;
            let day = 180 - n * 5;
            let path = format!("/wp/2024/story-{n}.html");
            items.push_str(&format!(
                "<item><title>WP story {n}</title><link>{{{{base}}}}{path}</link><guid isPermaLink=\"false\">{{{{base}}}}/?p={n}</guid>\
                 <pubDate>{}</pubDate><description>Teaser {n}</description></item>",
                rss_date(day)
            ));
            article(path, day, day >= SINCE_DAY);
        }
        let doc = format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>WP blog</title><link>{{{{base}}}}/wp/</link>\
             <generator>https://wordpress.org/?v=6.6</generator>{items}</channel></rss>"
        );
        let path = if page == 1 {
            "/wp/feed/".to_string()
        } else {
            format!("/wp/feed/?paged={page}")
        };
        server.route(&path, Reply::rss(doc));
    }

    // Atom with RFC 5005 archives: current (days 170-168), archive 2
    // (days 120-118), archive 1 (days 60-58, all before --since).
    let atom = |name: &str, days: [u32; 3], prev: Option<&str>| {
        let mut s = format!(
            "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Atom {name}</title><id>urn:{name}</id><updated>2024-07-01T00:00:00Z</updated>"
        );
        if let Some(p) = prev {
            s.push_str(&format!("<link rel=\"prev-archive\" href=\"{p}\"/>"));
        }
        for d in days {
            s.push_str(&format!(
                "<entry><title>Atom day {d}</title><id>urn:atom:{d}</id><link href=\"/atom/day-{d}.html\"/>\
                 <published>{}T12:00:00Z</published><updated>{}T12:00:00Z</updated><summary>s</summary></entry>",
                w3c(d),
                w3c(d)
            ));
        }
        s.push_str("</feed>");
        s
    };
    server.route(
        "/atom/feed.xml",
        Reply::ok(
            "application/atom+xml",
            atom("current", [170, 169, 168], Some("/atom/archive-2.xml")),
        ),
    );
    server.route(
        "/atom/archive-2.xml",
        Reply::ok(
            "application/atom+xml",
            atom("a2", [120, 119, 118], Some("/atom/archive-1.xml")),
        ),
    );
    server.route(
        "/atom/archive-1.xml",
        Reply::ok("application/atom+xml", atom("a1", [60, 59, 58], None)),
    );
    for d in [170, 169, 168, 120, 119, 118, 60, 59, 58] {
        article(format!("/atom/day-{d}.html"), d, d >= SINCE_DAY);
    }

    // robots.txt names the sitemap index and the news sitemap, and
    // disallows /private/.
    server.route(
        "/robots.txt",
        Reply::ok(
            "text/plain",
            "User-agent: *\nDisallow: /private/\n\nSitemap: {{base}}/sitemap_index.xml\nSitemap: {{base}}/news-sitemap.xml\n",
        ),
    );
    server.route(
        "/sitemap_index.xml",
        Reply::ok(
            "application/xml",
            format!(
                "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
                 <sitemap><loc>{{{{base}}}}/sitemaps/articles.xml.gz</loc><lastmod>{}</lastmod></sitemap>\
                 <sitemap><loc>{{{{base}}}}/sitemaps/tags.xml.gz</loc><lastmod>{}</lastmod></sitemap>\
                 </sitemapindex>",
                w3c(175),
                w3c(175)
            ),
        ),
    );
    let mut urls = String::new();
    for (i, day) in [150u32, 140, 130, 90, 80].iter().enumerate() {
        let path = format!("/archive/article-{i}.html");
        urls.push_str(&format!(
            "<url><loc>{{{{base}}}}{path}</loc><lastmod>{}</lastmod>\
             <image:image><image:loc>{{{{base}}}}/img/photo-{i}.jpg</image:loc></image:image></url>",
            w3c(*day)
        ));
        article(path, *day, *day >= SINCE_DAY);
    }
    // Disallowed by robots.txt, recent: must not be stored.
    urls.push_str(&format!(
        "<url><loc>{{{{base}}}}/private/secret.html</loc><lastmod>{}</lastmod></url>",
        w3c(160)
    ));
    article("/private/secret.html".into(), 160, false);
    let articles_xml = format!(
        "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:image=\"http://www.google.com/schemas/sitemap-image/1.1\">{urls}</urlset>"
    );
    let tags_xml = format!(
        "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
         <url><loc>{{{{base}}}}/tag/huawei/</loc><lastmod>{0}</lastmod></url>\
         <url><loc>{{{{base}}}}/author/jane/</loc><lastmod>{0}</lastmod></url>\
         <url><loc>{{{{base}}}}/category/policy/</loc><lastmod>{0}</lastmod></url>\
         <url><loc>{{{{base}}}}/wp-content/uploads/chart.png</loc><lastmod>{0}</lastmod></url>\
         </urlset>",
        w3c(170)
    );
    // The server substitutes {{base}} in bodies, but not inside gzip:
    // compress after substituting.
    let base = server.base();
    server.route(
        "/sitemaps/articles.xml.gz",
        Reply::ok(
            "application/x-gzip",
            gz(&articles_xml.replace("{{base}}", &base)),
        ),
    );
    server.route(
        "/sitemaps/tags.xml.gz",
        Reply::ok(
            "application/x-gzip",
            gz(&tags_xml.replace("{{base}}", &base)),
        ),
    );
    // Google News sitemap: two recent, one old.
    let mut news = String::from(
        "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">",
    );
    for (i, day) in [178u32, 176, 20].iter().enumerate() {
        let path = format!("/news/item-{i}.html");
        news.push_str(&format!(
            "<url><loc>{{{{base}}}}{path}</loc><news:news><news:publication><news:name>Test</news:name><news:language>en</news:language></news:publication>\
             <news:publication_date>{}T08:00:00Z</news:publication_date><news:title>News item {i}</news:title></news:news></url>",
            w3c(*day)
        ));
        article(path, *day, *day >= SINCE_DAY);
    }
    news.push_str("</urlset>");
    server.route("/news-sitemap.xml", Reply::ok("application/xml", news));
    Site { expected, articles }
}

fn config(env: &Env, server: &TestServer, extra_fetch: &str) {
    let feeds = [server.url("/wp/feed/"), server.url("/atom/feed.xml")];
    env.write_config(&[&feeds[0], &feeds[1]], "");
    let cfg = std::fs::read_to_string(env.config_path()).unwrap().replace(
        "respect_robots = false",
        &format!("respect_robots = true\n{extra_fetch}"),
    );
    std::fs::write(env.config_path(), cfg).unwrap();
}

fn stored_paths(env: &Env, server: &TestServer) -> BTreeSet<String> {
    let conn = env.conn();
    let mut st = conn.prepare("SELECT url FROM items").unwrap();
    st.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|u| u.unwrap().trim_start_matches(&server.base()).to_string())
        .collect()
}

#[test]
fn since_walks_paged_feeds_archives_and_sitemaps_exactly() {
    let server = TestServer::start();
    let site = build_site(&server);
    let env = Env::new();
    config(&env, &server, "");
    let out = env.run_ok(&["backfill", "--since", SINCE]);
    let err = stderr(&out);
    let stored = stored_paths(&env, &server);
    assert_eq!(stored, site.expected, "stderr:\n{err}");
    // Nothing before --since, nothing disallowed, no tag/author/image pages.
    assert_eq!(server.count("/private/secret.html"), 0);
    assert!(
        server
            .hits()
            .iter()
            .all(|h| !h.path.starts_with("/tag/") && !h.path.ends_with(".png"))
    );
    // The walk stopped: page 5 holds the oldest entries still needed (days
    // 100-80); page 6 is entirely older, and ?paged=7 was never asked for.
    assert_eq!(server.count("/wp/feed/?paged=7"), 0);
    assert_eq!(
        server.count("/atom/archive-1.xml"),
        1,
        "read, found all too old"
    );
    assert!(err.contains("history:"), "{err}");
    // Articles found in an archive and in the live feed are one item each.
    assert_eq!(
        env.scalar::<i64>("SELECT count(*) FROM items"),
        env.scalar::<i64>("SELECT count(DISTINCT item_key) FROM items")
    );
    let _ = site.articles;
}

#[test]
fn a_killed_backfill_resumes_fetching_each_article_page_exactly_once() {
    let server = TestServer::start();
    let site = build_site(&server);
    // Gate: after 12 article pages have been answered, hold every further
    // article request (never answer it) until the gate opens.
    let answered = Arc::new(AtomicUsize::new(0));
    let open = Arc::new(AtomicBool::new(false));
    for path in &site.articles {
        let page = article_page(&format!("Story at {path}"), "A B", &[FILLER, FILLER]);
        let (answered, open) = (answered.clone(), open.clone());
        server.route(
            path,
            Reply::Func(Arc::new(move |_| {
                if open.load(Ordering::SeqCst) || answered.fetch_add(1, Ordering::SeqCst) < 12 {
                    Reply::html(page.clone())
                } else {
                    Reply::delayed(Duration::from_secs(600), Reply::status(503))
                }
            })),
        );
    }
    let env = Env::new();
    // A long timeout keeps held requests pending until the kill.
    config(&env, &server, "");
    let cfg = std::fs::read_to_string(env.config_path())
        .unwrap()
        .replace("timeout_secs = 2\n", "timeout_secs = 60\n");
    std::fs::write(env.config_path(), cfg).unwrap();

    let mut child = env.spawn(&["backfill", "--since", SINCE]);
    let completed = |s: &TestServer| {
        s.hits()
            .iter()
            .filter(|h| site.articles.contains(&h.path) && h.status != 0)
            .count() as i64
    };
    // Halfway: 12 pages answered and every answered page stored.
    wait_until(
        "12 articles stored, the rest held",
        Duration::from_secs(60),
        || completed(&server) == 12 && env.count("SELECT count(*) FROM items") == 12,
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(env.scalar::<String>("PRAGMA integrity_check"), "ok");
    let pending: i64 = env.scalar("SELECT count(*) FROM backfill_queue WHERE state = 'pending'");
    assert!(pending > 0, "work was left in the queue");

    open.store(true, Ordering::SeqCst);
    env.run_ok(&["backfill", "--since", SINCE]);
    assert_eq!(stored_paths(&env, &server), site.expected);
    for path in &site.articles {
        let n = server
            .hits_for(path)
            .iter()
            .filter(|h| h.status != 0)
            .count();
        let want = usize::from(site.expected.contains(path));
        assert_eq!(n, want, "{path} answered {n} times");
    }
    // Finished archive pages and sitemaps were not fetched again.
    for p in 2..=5 {
        assert_eq!(server.count(&format!("/wp/feed/?paged={p}")), 1, "page {p}");
    }
    assert_eq!(server.count("/sitemaps/articles.xml.gz"), 1);
    assert_eq!(server.count("/news-sitemap.xml"), 1);
    assert_eq!(server.count("/atom/archive-2.xml"), 1);
}

#[test]
fn dry_run_lists_what_would_be_fetched_and_fetches_no_article() {
    let server = TestServer::start();
    let site = build_site(&server);
    let env = Env::new();
    config(&env, &server, "");
    let out = env.run_ok(&["backfill", "--since", SINCE, "--dry-run"]);
    let listed: BTreeSet<String> = stdout(&out)
        .lines()
        .map(|l| l.trim_start_matches(&server.base()).to_string())
        .collect();
    // The live feeds' entries are listed too (nothing is stored yet).
    assert_eq!(listed, site.expected, "{}", stderr(&out));
    assert!(
        server
            .hits()
            .iter()
            .all(|h| !site.articles.contains(&h.path))
    );
    assert_eq!(env.scalar::<i64>("SELECT count(*) FROM items"), 0);
    assert_eq!(env.scalar::<i64>("SELECT count(*) FROM backfill_queue"), 0);
}

#[test]
fn url_lists_are_attributed_to_their_site_or_to_manual() {
    let server = TestServer::start();
    build_site(&server);
    let env = Env::new();
    config(&env, &server, "");
    env.run_ok(&["backfill", "--no-articles"]);
    std::fs::write(
        env.path("urls.txt"),
        format!(
            "# articles to add\n{base}/archive/article-3.html\n\n{base}/news/item-2.html  # an old one\nnot a url\nhttp://other.invalid/x.html\n",
            base = server.base()
        ),
    )
    .unwrap();
    let out = env.run_ok(&["backfill", "--urls", "urls.txt"]);
    let err = stderr(&out);
    assert!(
        err.contains("urls.txt:5"),
        "the bad line is reported: {err}"
    );
    let feed_of = |path: &str| -> String {
        env.scalar(&format!(
            "SELECT f.url FROM items i JOIN feeds f ON f.id = i.feed_id WHERE i.url = '{}{path}'",
            server.base()
        ))
    };
    assert_eq!(
        feed_of("/archive/article-3.html"),
        server.url("/wp/feed/"),
        "same site as the feeds"
    );
    assert_eq!(feed_of("/news/item-2.html"), server.url("/wp/feed/"));
    let manual: String = env.scalar("SELECT f.url FROM items i JOIN feeds f ON f.id = i.feed_id WHERE i.url LIKE 'http://other.invalid/%'");
    assert_eq!(manual, "secwire:manual");
    // Not a feed to poll, and not listed as one.
    let listing = stdout(&env.run_ok(&["feeds", "--format", "jsonl"]));
    assert!(!listing.contains("secwire:manual"));
    // Running the same list again adds nothing.
    let before: i64 = env.scalar("SELECT count(*) FROM items");
    env.run_ok(&["backfill", "--urls", "urls.txt"]);
    assert_eq!(env.scalar::<i64>("SELECT count(*) FROM items"), before);
}
