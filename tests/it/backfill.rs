//! `secwire backfill` against a real HTTP server on 127.0.0.1.

use crate::site;
use crate::support::{Env, FILLER, Reply, TestServer, article_page, stderr};

fn setup() -> (TestServer, Env) {
    let server = TestServer::start();
    site::serve(&server);
    let env = Env::new();
    let feeds = site::all_feed_urls(&server);
    let feeds: Vec<&str> = feeds.iter().map(String::as_str).collect();
    env.write_config(&feeds, "");
    (server, env)
}

#[test]
fn backfill_stores_every_working_feed_and_records_every_broken_one() {
    let (server, env) = setup();
    let out = env.run(&["backfill"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{err}");

    // Every entry of every working feed is one item.
    let items: i64 = env.scalar("SELECT count(*) FROM items");
    assert_eq!(items as usize, site::total_working_entries(), "{err}");

    // Every HTML article page was fetched and extracted.
    let ok: i64 = env.scalar("SELECT count(*) FROM items WHERE extraction_status = 'ok'");
    assert_eq!(
        ok as usize,
        site::total_working_entries() - 1,
        "all but the PDF: {err}"
    );
    let (status, error): (String, String) = env.pair(
        "SELECT extraction_status, extraction_error FROM items WHERE url LIKE '%patch.pdf'",
        [],
    );
    assert_eq!(status, "not_html");
    assert!(error.contains("application/pdf"), "{error}");
    // The PDF item keeps the feed's description as its body.
    let body: String = env.scalar("SELECT body FROM items WHERE url LIKE '%patch.pdf'");
    assert!(body.contains("fifty vulnerabilities"), "{body}");

    // Every broken feed is recorded with its cause; the others landed.
    for (path, cause) in site::BROKEN {
        let url = server.url(path);
        let (err_text, failures): (Option<String>, i64) = env.pair(
            "SELECT last_error, consecutive_failures FROM feeds WHERE url = ?1",
            [&url],
        );
        let err_text = err_text.unwrap_or_default();
        assert!(
            err_text.contains(cause),
            "{path}: error {err_text:?} should mention {cause:?}"
        );
        assert!(
            err_text.contains(path),
            "{path}: error should name the URL: {err_text:?}"
        );
        assert_eq!(failures, 1, "{path}");
    }
    assert!(err.contains("summary: feeds 7 ok"), "{err}");
    assert!(err.contains("4 failed"), "{err}");

    // The raw pages are kept, compressed.
    let raw: i64 = env.scalar("SELECT count(*) FROM raw_pages");
    assert_eq!(raw as usize, site::total_working_entries() - 1);
    let shrunk: i64 = env.scalar("SELECT count(*) FROM raw_pages WHERE length(body) < size");
    assert_eq!(shrunk, raw, "pages are stored compressed");
    assert_eq!(env.scalar::<String>("PRAGMA integrity_check"), "ok");
    assert_eq!(env.scalar::<String>("PRAGMA journal_mode"), "wal");
}

#[test]
fn entries_are_normalised() {
    let (server, env) = setup();
    env.run_ok(&["backfill"]);
    let conn = env.conn();
    let row = |sql: &str| -> (Option<String>, Option<String>, Option<String>, String) {
        conn.query_row(sql, [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap()
    };
    // Tracking parameters stripped; UTC RFC 3339; authors from the page.
    let (url, published, title, authors) = row(
        "SELECT url, published_at, title, authors FROM items WHERE title LIKE 'European Parliament%'",
    );
    assert_eq!(url.unwrap(), server.url("/articles/ep-kaspersky.html"));
    assert_eq!(published.unwrap(), "2018-06-14T09:30:00Z");
    assert!(title.is_some());
    assert_eq!(authors, "[\"Jane Analyst\"]");
    // Atom: offset converted to UTC.
    let (_, published, _, _) = row(
        "SELECT url, published_at, title, authors FROM items WHERE title LIKE 'Commerce bans%'",
    );
    assert_eq!(published.unwrap(), "2024-06-20T19:00:00Z");
    // windows-1251 decoded.
    let (url, _, title, _) =
        row("SELECT url, published_at, title, authors FROM items WHERE url LIKE '%/ru/%'");
    assert_eq!(title.unwrap(), "Регулятор ограничил продажи оборудования");
    assert!(url.is_some());
    // Relative links made absolute against the feed URL, ids stable.
    let (url, _, _, _) =
        row("SELECT url, published_at, title, authors FROM items WHERE title LIKE 'Conference%'");
    assert_eq!(url.unwrap(), server.url("/blog/recap.html"));
    let (url, _, _, _) = row(
        "SELECT url, published_at, title, authors FROM items WHERE title LIKE 'Notes on the DJI%'",
    );
    assert_eq!(url.unwrap(), server.url("/blog/dji-restrictions.html"));
    // RSS 1.0 and JSON Feed entries present.
    let n: i64 =
        env.scalar("SELECT count(*) FROM items WHERE url LIKE '%/rdf/%' OR url LIKE '%/json/%'");
    assert_eq!(n, 4);
}

#[test]
fn second_run_adds_nothing_and_uses_conditional_get() {
    let (server, env) = setup();
    env.run_ok(&["backfill"]);
    let snapshot = |env: &Env| -> Vec<(i64, String, String)> {
        let conn = env.conn();
        let mut stmt = conn
            .prepare("SELECT id, item_key, modified_at FROM items ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let before = snapshot(&env);
    let labels_before: i64 = env.scalar("SELECT count(*) FROM item_labels");
    server.clear_hits();

    let out = env.run_ok(&["backfill"]);
    let err = stderr(&out);
    assert_eq!(snapshot(&env), before, "second run changed items: {err}");
    assert_eq!(
        env.scalar::<i64>("SELECT count(*) FROM item_labels"),
        labels_before
    );
    assert!(err.contains("0 new, 0 updated"), "{err}");

    // The ETag from the first run was sent back and answered with 304.
    let hits = server.hits_for("/rss2.xml");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].if_none_match.as_deref(), Some("\"rss2-v1\""));
    assert_eq!(hits[0].status, 304);
    // No article page was fetched again.
    assert!(
        server.hits().iter().all(|h| !h.path.contains("/articles/")),
        "articles refetched: {:?}",
        server.hits()
    );
    // The honest User-Agent is sent.
    assert!(
        hits[0]
            .user_agent
            .as_deref()
            .unwrap_or("")
            .starts_with("secwire/")
    );
}

#[test]
fn validators_that_arrive_with_a_304_are_saved() {
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/feed.xml");
    env.write_config(&[&feed], "");
    let body = crate::support::fixture("feeds/rss2.xml");
    server.route(
        "/feed.xml",
        Reply::WithEtag {
            etag: "\"v1\"".into(),
            content_type: "application/rss+xml".into(),
            body: body.clone(),
        },
    );
    env.run_ok(&["backfill", "--no-articles"]);
    // The server now rotates its ETag on 304 responses.
    server.route(
        "/feed.xml",
        Reply::Func(std::sync::Arc::new(move |h| {
            if h.get("if-none-match").and_then(|v| v.to_str().ok()) == Some("\"v1\"") {
                Reply::Fixed {
                    status: 304,
                    headers: vec![("etag".into(), "\"v2\"".into())],
                    body: Vec::new(),
                }
            } else {
                Reply::rss(
                    b"<rss version=\"2.0\"><channel><title>x</title></channel></rss>".to_vec(),
                )
            }
        })),
    );
    env.run_ok(&["backfill", "--no-articles"]);
    let etag: String = env.scalar("SELECT etag FROM feeds");
    assert_eq!(etag, "\"v2\"");
}

#[test]
fn permanent_redirect_updates_the_feed_url_temporary_does_not() {
    let server = TestServer::start();
    let env = Env::new();
    let perm = server.url("/perm.xml");
    let temp = server.url("/temp.xml");
    env.write_config(&[&perm, &temp], "");
    server.route("/perm.xml", Reply::redirect(308, "/perm-new.xml"));
    server.route("/temp.xml", Reply::redirect(302, "/temp-target.xml"));
    let rss = |n: &str| {
        Reply::rss(format!(
            "<rss version=\"2.0\"><channel><title>{n}</title><item><title>t {n}</title><guid>{n}-1</guid><description>d</description></item></channel></rss>"
        ))
    };
    server.route("/perm-new.xml", rss("perm"));
    server.route("/temp-target.xml", rss("temp"));
    env.run_ok(&["backfill", "--no-articles"]);
    let urls: Vec<String> = {
        let conn = env.conn();
        let mut st = conn.prepare("SELECT url FROM feeds ORDER BY id").unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(urls, vec![server.url("/perm-new.xml"), temp.clone()]);
    // The next run fetches the new URL directly and keeps one feed row.
    server.clear_hits();
    env.run_ok(&["backfill", "--no-articles"]);
    assert_eq!(server.count("/perm.xml"), 0);
    assert_eq!(server.count("/perm-new.xml"), 1);
    assert_eq!(env.scalar::<i64>("SELECT count(*) FROM feeds"), 2);
    assert_eq!(env.scalar::<i64>("SELECT count(*) FROM items"), 2);
}

#[test]
fn same_article_in_two_feeds_is_one_item_remembering_both() {
    let server = TestServer::start();
    let env = Env::new();
    let a = server.url("/a.xml");
    let b = server.url("/b.xml");
    env.write_config(&[&a, &b], "");
    server.route(
        "/a.xml",
        Reply::rss(
            "<rss version=\"2.0\"><channel><title>A</title><item><title>Shared story</title>\
             <link>{{base}}/story.html?utm_source=a</link><guid>a-1</guid></item></channel></rss>",
        ),
    );
    server.route(
        "/b.xml",
        Reply::rss(
            "<rss version=\"2.0\"><channel><title>B</title><item><title>Shared story (B's headline)</title>\
             <link>{{base}}/story.html?utm_campaign=b#comments</link><guid>b-77</guid></item></channel></rss>",
        ),
    );
    server.route(
        "/story.html",
        Reply::html(article_page("Shared story", "X Y", &[FILLER, FILLER])),
    );
    env.run_ok(&["backfill"]);
    assert_eq!(env.scalar::<i64>("SELECT count(*) FROM items"), 1);
    assert_eq!(env.scalar::<i64>("SELECT count(*) FROM item_feeds"), 2);
    // Fetched once, even though both feeds carried it in the same run.
    assert_eq!(server.count("/story.html"), 1);
    let url: String = env.scalar("SELECT url FROM items");
    assert_eq!(url, server.url("/story.html"));
}

#[test]
fn exit_status_1_when_no_feed_could_be_fetched() {
    let server = TestServer::start();
    let env = Env::new();
    let a = server.url("/gone.xml");
    env.write_config(&[&a], "");
    let out = env.run(&["backfill"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no feed could be fetched"));
    // The failure is still recorded.
    let status: i64 = env.scalar("SELECT last_status FROM feeds");
    assert_eq!(status, 404);
}

#[test]
fn only_feeds_given_with_feed_option_are_fetched_and_added() {
    let (server, env) = setup();
    server.route(
        "/extra.xml",
        Reply::rss(crate::support::fixture("feeds/relative.xml")),
    );
    let extra = server.url("/extra.xml");
    env.run_ok(&["backfill", "--feed", &extra, "--no-articles"]);
    assert_eq!(server.count("/rss2.xml"), 0);
    assert_eq!(server.count("/extra.xml"), 1);
    let origin: String = env.scalar(&format!("SELECT origin FROM feeds WHERE url = '{extra}'"));
    assert_eq!(origin, "cli");
    let skipped: i64 = env.scalar("SELECT count(*) FROM items WHERE extraction_status = 'skipped'");
    assert_eq!(skipped, 2);
}

#[test]
fn since_skips_older_entries() {
    let (server, env) = setup();
    let rss2 = server.url("/rss2.xml");
    env.run_ok(&[
        "backfill",
        "--feed",
        &rss2,
        "--since",
        "2018-06-13",
        "--no-articles",
    ]);
    // The 2018-06-12 entry is older; the other two are kept.
    assert_eq!(env.scalar::<i64>("SELECT count(*) FROM items"), 2);
    assert!(env.scalar::<i64>("SELECT count(*) FROM items WHERE title LIKE 'Patch Tuesday%'") == 0);
}

#[test]
fn article_links_to_private_addresses_are_refused_by_default() {
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/feed.xml");
    // The operator's feed is on loopback (trusted), its article links too.
    let cfg = std::fs::read_to_string({
        env.write_config(&[&feed], "");
        env.config_path()
    })
    .unwrap()
    .replace(
        "allow_private_addresses = true",
        "allow_private_addresses = false",
    );
    std::fs::write(env.config_path(), cfg).unwrap();
    server.route(
        "/feed.xml",
        Reply::rss(
            "<rss version=\"2.0\"><channel><title>t</title><item><title>Internal</title>\
             <link>{{base}}/internal.html</link><guid>i1</guid><description>teaser text</description></item>\
             <item><title>Metadata</title><link>http://169.254.169.254/latest/meta-data/</link><guid>i2</guid></item>\
             </channel></rss>",
        ),
    );
    server.route(
        "/internal.html",
        Reply::html(article_page("x", "y", &[FILLER])),
    );
    env.run_ok(&["backfill"]);
    assert_eq!(
        server.count("/internal.html"),
        0,
        "must not fetch a loopback article link"
    );
    let blocked: i64 = env.scalar("SELECT count(*) FROM items WHERE extraction_status = 'blocked'");
    assert_eq!(blocked, 2);
    let err: String = env.scalar("SELECT extraction_error FROM items WHERE title = 'Internal'");
    assert!(
        err.contains("non-public") && err.contains("allow_private_addresses"),
        "{err}"
    );
    let body: String = env.scalar("SELECT body FROM items WHERE title = 'Internal'");
    assert_eq!(body, "teaser text");
}

#[test]
fn oversized_and_failing_article_pages_are_recorded_per_item() {
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/feed.xml");
    env.write_config(&[&feed], "");
    server.route(
        "/feed.xml",
        Reply::rss(
            "<rss version=\"2.0\"><channel><title>t</title>\
             <item><title>Big</title><link>{{base}}/big.html</link><guid>1</guid></item>\
             <item><title>Down</title><link>{{base}}/down.html</link><guid>2</guid></item>\
             <item><title>Gone</title><link>{{base}}/gone.html</link><guid>3</guid></item>\
             <item><title>Fine</title><link>{{base}}/fine.html</link><guid>4</guid></item>\
             </channel></rss>",
        ),
    );
    server.route(
        "/big.html",
        Reply::html(format!(
            "<html><body><p>{}</p></body></html>",
            "y ".repeat(200_000)
        )),
    );
    server.route("/down.html", Reply::status(503));
    server.route(
        "/fine.html",
        Reply::html(article_page("Fine", "A B", &[FILLER, FILLER])),
    );
    env.run_ok(&["backfill"]);
    let status = |t: &str| -> (String, Option<String>) {
        env.pair(
            "SELECT extraction_status, extraction_error FROM items WHERE title = ?1",
            [t],
        )
    };
    let (s, e) = status("Big");
    assert_eq!(s, "fetch_failed");
    assert!(e.unwrap().contains("limit"));
    let (s, e) = status("Down");
    assert_eq!(
        s, "fetch_retry",
        "a 503 is transient and retried on a later run"
    );
    assert!(e.unwrap().contains("503"));
    let (s, e) = status("Gone");
    assert_eq!(s, "fetch_failed");
    assert!(e.unwrap().contains("404"));
    assert_eq!(status("Fine").0, "ok");

    // A later run retries the transient failure only.
    server.route(
        "/down.html",
        Reply::html(article_page("Down", "A B", &[FILLER, FILLER])),
    );
    server.clear_hits();
    env.run_ok(&["backfill"]);
    assert_eq!(server.count("/down.html"), 1);
    assert_eq!(server.count("/gone.html"), 0);
    assert_eq!(server.count("/big.html"), 0);
    assert_eq!(status("Down").0, "ok");
}

#[test]
fn robots_txt_is_honoured_for_article_pages_and_fetched_once() {
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/feed.xml");
    env.write_config(&[&feed], "");
    let cfg = std::fs::read_to_string(env.config_path())
        .unwrap()
        .replace("respect_robots = false", "respect_robots = true");
    std::fs::write(env.config_path(), cfg).unwrap();
    server.route(
        "/robots.txt",
        Reply::ok("text/plain", "User-agent: *\nDisallow: /private/\n"),
    );
    server.route(
        "/feed.xml",
        Reply::rss(
            "<rss version=\"2.0\"><channel><title>t</title>\
             <item><title>Open 1</title><link>{{base}}/news/1.html</link><guid>1</guid></item>\
             <item><title>Open 2</title><link>{{base}}/news/2.html</link><guid>2</guid></item>\
             <item><title>Closed</title><link>{{base}}/private/3.html</link><guid>3</guid><description>teaser</description></item>\
             </channel></rss>",
        ),
    );
    for p in ["/news/1.html", "/news/2.html", "/private/3.html"] {
        server.route(p, Reply::html(article_page("x", "A B", &[FILLER, FILLER])));
    }
    env.run_ok(&["backfill"]);
    assert_eq!(server.count("/private/3.html"), 0);
    assert_eq!(server.count("/robots.txt"), 1, "cached per host");
    let (status, err): (String, String) = env.pair(
        "SELECT extraction_status, extraction_error FROM items WHERE title = 'Closed'",
        [],
    );
    assert_eq!(status, "blocked");
    assert!(err.contains("robots.txt"), "{err}");
    assert_eq!(
        env.scalar::<i64>("SELECT count(*) FROM items WHERE extraction_status = 'ok'"),
        2
    );
}

#[test]
fn requests_to_one_host_are_spaced_by_the_minimum_delay() {
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/feed.xml");
    env.write_config(&[&feed], "");
    let cfg = std::fs::read_to_string(env.config_path())
        .unwrap()
        .replace("min_host_delay = \"0s\"", "min_host_delay = \"300ms\"");
    std::fs::write(env.config_path(), cfg).unwrap();
    let mut rss = String::from("<rss version=\"2.0\"><channel><title>t</title>");
    for i in 0..5 {
        rss.push_str(&format!(
            "<item><title>S{i}</title><link>{{{{base}}}}/s{i}.html</link><guid>{i}</guid></item>"
        ));
        server.route(
            &format!("/s{i}.html"),
            Reply::html(article_page("x", "A B", &[FILLER, FILLER])),
        );
    }
    rss.push_str("</channel></rss>");
    server.route("/feed.xml", Reply::rss(rss));
    env.run_ok(&["backfill"]);
    let mut times: Vec<std::time::Instant> = server.hits().iter().map(|h| h.at).collect();
    times.sort();
    assert_eq!(times.len(), 6);
    for w in times.windows(2) {
        assert!(
            w[1] - w[0] >= std::time::Duration::from_millis(290),
            "requests {:?} apart",
            w[1] - w[0]
        );
    }
}

#[test]
fn compressed_responses_are_decoded_and_the_limit_applies_after_decompression() {
    use std::io::Write;
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/gz.xml");
    let bomb = server.url("/bomb.xml");
    env.write_config(&[&feed, &bomb], "");
    let gz = |bytes: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    };
    let body = crate::support::fixture("feeds/atom.xml");
    let body = String::from_utf8(body)
        .unwrap()
        .replace("{{base}}", &server.base());
    server.route(
        "/gz.xml",
        Reply::Fixed {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/atom+xml".into()),
                ("content-encoding".into(), "gzip".into()),
            ],
            body: gz(body.as_bytes()),
        },
    );
    // 2 MB of zeros compresses to a few kB: the limit (200 kB) counts the
    // decompressed bytes.
    let mut big = b"<rss version=\"2.0\"><channel><title>".to_vec();
    big.extend(std::iter::repeat_n(b'a', 2_000_000));
    server.route(
        "/bomb.xml",
        Reply::Fixed {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/rss+xml".into()),
                ("content-encoding".into(), "gzip".into()),
            ],
            body: gz(&big),
        },
    );
    env.run_ok(&["backfill", "--no-articles"]);
    assert_eq!(env.scalar::<i64>("SELECT count(*) FROM items"), 2);
    let err: String = env.scalar(&format!(
        "SELECT last_error FROM feeds WHERE url = '{bomb}'"
    ));
    assert!(err.contains("limit"), "{err}");
}
