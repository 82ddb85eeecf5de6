//! `secwire run` against a test server whose feeds change while it runs.
//! Short intervals come from the config; every wait polls a condition with
//! a deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::{
    Env, FAST_DAEMON, FILLER, Reply, TestServer, article_page, stdout, wait_until,
};

const DEADLINE: Duration = Duration::from_secs(30);

fn rss(items: &[(&str, &str)]) -> String {
    let mut s =
        String::from("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>live</title>");
    for (guid, title) in items {
        s.push_str(&format!(
            "<item><title>{title}</title><guid>{guid}</guid><description>About {title}.</description></item>"
        ));
    }
    s.push_str("</channel></rss>");
    s
}

fn feed_with_etag(etag: &str, items: &[(&str, &str)]) -> Reply {
    Reply::WithEtag {
        etag: etag.into(),
        content_type: "application/rss+xml".into(),
        body: rss(items).into_bytes(),
    }
}

#[test]
fn new_entries_are_stored_within_one_poll_and_unchanged_feeds_get_304() {
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/live.xml");
    env.write_config(&[&feed], FAST_DAEMON);
    server.route(
        "/live.xml",
        feed_with_etag("\"v1\"", &[("a", "First story")]),
    );
    let d = env.daemon();
    wait_until("first entry stored", DEADLINE, || {
        env.count("SELECT count(*) FROM items") == 1
    });
    // Unchanged: conditional requests answered 304.
    wait_until("three polls", DEADLINE, || server.count("/live.xml") >= 3);
    let hits = server.hits_for("/live.xml");
    assert!(hits[0].if_none_match.is_none());
    for h in &hits[1..] {
        assert_eq!(h.if_none_match.as_deref(), Some("\"v1\""));
        assert_eq!(h.status, 304);
    }
    // A new entry appears: stored by the next poll.
    let polls_before = server.count("/live.xml");
    server.route(
        "/live.xml",
        feed_with_etag("\"v2\"", &[("b", "Second story"), ("a", "First story")]),
    );
    wait_until("second entry stored", DEADLINE, || {
        env.count("SELECT count(*) FROM items") == 2
    });
    assert!(
        server.count("/live.xml") <= polls_before + 1,
        "stored within one poll of the change"
    );
    drop(d);
}

#[test]
fn retry_after_is_obeyed_for_that_feed_only() {
    let server = TestServer::start();
    let env = Env::new();
    let limited = server.url("/limited.xml");
    let other = server.url("/other.xml");
    env.write_config(&[&limited, &other], FAST_DAEMON);
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    server.route(
        "/limited.xml",
        Reply::Func(Arc::new(move |_| {
            if n2.fetch_add(1, Ordering::SeqCst) == 0 {
                Reply::Fixed {
                    status: 429,
                    headers: vec![("retry-after".into(), "3".into())],
                    body: b"slow down".to_vec(),
                }
            } else {
                Reply::rss(rss(&[("x", "After the wait")]))
            }
        })),
    );
    server.route("/other.xml", Reply::rss(rss(&[("o", "Other host path")])));
    let _d = env.daemon();
    wait_until("second request to the limited feed", DEADLINE, || {
        server.count("/limited.xml") >= 2
    });
    let hits = server.hits_for("/limited.xml");
    assert_eq!(hits[0].status, 429);
    let gap = hits[1].at - hits[0].at;
    assert!(
        gap >= Duration::from_millis(2900),
        "Retry-After: 3 not obeyed, gap {gap:?}"
    );
    // The other feed on the same host kept its 1 s rhythm meanwhile.
    let others = server
        .hits_for("/other.xml")
        .into_iter()
        .filter(|h| h.at > hits[0].at && h.at < hits[1].at)
        .count();
    assert!(
        others >= 2,
        "Retry-After must not apply to the whole host ({others} polls)"
    );
    // The feed recovered.
    wait_until("item stored", DEADLINE, || {
        env.count("SELECT count(*) FROM items WHERE title = 'After the wait'") == 1
    });
}

#[test]
fn a_failing_feed_backs_off_and_recovers() {
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/flaky.xml");
    env.write_config(&[&feed], FAST_DAEMON);
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    server.route(
        "/flaky.xml",
        Reply::Func(Arc::new(move |_| {
            if n2.fetch_add(1, Ordering::SeqCst) < 3 {
                Reply::status(500)
            } else {
                Reply::rss(rss(&[("r", "Recovered")]))
            }
        })),
    );
    let _d = env.daemon();
    wait_until("recovery", Duration::from_secs(40), || {
        env.count("SELECT count(*) FROM items WHERE title = 'Recovered'") == 1
    });
    let hits = server.hits_for("/flaky.xml");
    assert!(hits.len() >= 4);
    let gaps: Vec<Duration> = hits.windows(2).map(|w| w[1].at - w[0].at).collect();
    // 1 s interval; after failures 1, 2, 3: 2 s, 4 s, then capped at max_interval (4 s).
    assert!(gaps[0] >= Duration::from_millis(1900), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(3900), "{gaps:?}");
    assert!(gaps[1] > gaps[0], "backoff grows: {gaps:?}");
    wait_until("failure count reset", DEADLINE, || {
        env.count("SELECT consecutive_failures FROM feeds") == 0
    });
    assert_eq!(
        env.count("SELECT count(*) FROM feeds WHERE last_error IS NULL"),
        1
    );
}

#[test]
fn a_410_disables_the_feed_until_it_is_enabled_again() {
    let server = TestServer::start();
    let env = Env::new();
    let gone = server.url("/gone.xml");
    let clock = server.url("/clock.xml");
    env.write_config(&[&gone, &clock], FAST_DAEMON);
    server.route("/gone.xml", Reply::status(410));
    server.route("/clock.xml", Reply::rss(rss(&[("c", "Clock")])));
    let d = env.daemon();
    wait_until("feed disabled", DEADLINE, || {
        env.count(&format!(
            "SELECT count(*) FROM feeds WHERE url = '{gone}' AND enabled = 0"
        )) == 1
    });
    let gone_hits = server.count("/gone.xml");
    let clock_hits = server.count("/clock.xml");
    // While the other feed is polled three more times, the gone one is not.
    wait_until("clock ticks", DEADLINE, || {
        server.count("/clock.xml") >= clock_hits + 3
    });
    assert_eq!(
        server.count("/gone.xml"),
        gone_hits,
        "a disabled feed must not be polled"
    );
    let listing = stdout(&env.run_ok(&["feeds", "--format", "jsonl"]));
    let row: serde_json::Value = listing
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|f| f["url"] == gone.as_str())
        .unwrap();
    assert_eq!(row["enabled"], false);
    assert!(row["disabled_reason"].as_str().unwrap().contains("410"));

    // Re-enabled from the command line; SIGHUP makes the daemon notice now.
    server.route("/gone.xml", Reply::rss(rss(&[("g", "Back again")])));
    env.run_ok(&["feeds", "enable", &gone]);
    d.signal("HUP");
    wait_until("feed polled again", DEADLINE, || {
        env.count("SELECT count(*) FROM items WHERE title = 'Back again'") == 1
    });
}

#[test]
fn sigterm_during_heavy_work_exits_in_time_with_a_consistent_file() {
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/heavy.xml");
    env.write_config(&[&feed], FAST_DAEMON);
    let n = 40;
    let mut items = String::from("<rss version=\"2.0\"><channel><title>heavy</title>");
    for i in 0..n {
        items.push_str(&format!(
            "<item><title>Heavy {i}</title><link>{{{{base}}}}/h/{i}.html</link><guid>h{i}</guid></item>"
        ));
        server.route(
            &format!("/h/{i}.html"),
            Reply::delayed(
                Duration::from_millis(400),
                Reply::html(article_page(
                    &format!("Heavy {i}"),
                    "A B",
                    &[FILLER, FILLER],
                )),
            ),
        );
    }
    items.push_str("</channel></rss>");
    server.route("/heavy.xml", Reply::rss(items));
    let d = env.daemon();
    wait_until("work under way", DEADLINE, || {
        env.count("SELECT count(*) FROM items") >= 3
    });
    d.signal("TERM");
    let (code, err, took) = d.wait(Duration::from_secs(15));
    assert_eq!(code, Some(0), "{err}");
    // shutdown_timeout is 3 s; allow start-up of the shutdown and the final commit.
    assert!(took < Duration::from_secs(6), "took {took:?}");
    assert!(err.contains("stopped"), "{err}");
    let stored = env.count("SELECT count(*) FROM items");
    assert!(stored < n, "stopped before finishing ({stored} of {n})");
    assert_eq!(env.scalar::<String>("PRAGMA integrity_check"), "ok");
    let incomplete = env.count(
        "SELECT count(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM item_labels l WHERE l.item_id = i.id)",
    );
    assert_eq!(incomplete, 0);
    // A restart completes the work.
    let _d2 = env.daemon();
    wait_until("all items", Duration::from_secs(60), || {
        env.count("SELECT count(*) FROM items") == n
    });
}

#[test]
fn a_second_daemon_on_the_same_database_is_refused() {
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/f.xml");
    env.write_config(&[&feed], FAST_DAEMON);
    server.route("/f.xml", Reply::rss(rss(&[("a", "One")])));
    let _first = env.daemon();
    wait_until("first daemon working", DEADLINE, || {
        env.count("SELECT count(*) FROM items") == 1
    });
    let out = env.run(&["run"]);
    assert_eq!(out.status.code(), Some(2));
    let err = crate::support::stderr(&out);
    assert!(err.contains("another `secwire run` is using"), "{err}");
    assert!(err.contains("by process"), "{err}");
}

#[test]
fn sighup_adds_a_feed_and_a_bad_config_keeps_the_old_one() {
    let server = TestServer::start();
    let env = Env::new();
    let a = server.url("/a.xml");
    let b = server.url("/b.xml");
    env.write_config(&[&a], FAST_DAEMON);
    server.route("/a.xml", Reply::rss(rss(&[("a1", "From A")])));
    server.route("/b.xml", Reply::rss(rss(&[("b1", "From B")])));
    let d = env.daemon();
    wait_until("feed A stored", DEADLINE, || {
        env.count("SELECT count(*) FROM items") == 1
    });

    // A broken config is refused; the daemon keeps polling A.
    std::fs::write(env.config_path(), "[fetch]\nbogus = 1\n").unwrap();
    d.signal("HUP");
    let polls = server.count("/a.xml");
    wait_until("still polling A", DEADLINE, || {
        server.count("/a.xml") >= polls + 2
    });

    env.write_config(&[&a, &b], FAST_DAEMON);
    d.signal("HUP");
    wait_until("feed B stored", DEADLINE, || {
        env.count("SELECT count(*) FROM items WHERE title = 'From B'") == 1
    });
    d.signal("TERM");
    let (code, err, _) = d.wait(Duration::from_secs(15));
    assert_eq!(code, Some(0));
    assert!(err.contains("keeping the old one"), "{err}");
    assert!(err.contains("configuration reloaded"), "{err}");
}

#[test]
fn query_reads_while_the_daemon_writes() {
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/growing.xml");
    env.write_config(&[&feed], FAST_DAEMON);
    // Every poll shows one more entry.
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    server.route(
        "/growing.xml",
        Reply::Func(Arc::new(move |_| {
            let k = n2.fetch_add(1, Ordering::SeqCst) + 1;
            let items: Vec<(String, String)> = (0..k)
                .map(|i| (format!("g{i}"), format!("Growing {i}")))
                .collect();
            let refs: Vec<(&str, &str)> = items
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            Reply::rss(rss(&refs))
        })),
    );
    let _d = env.daemon();
    wait_until("writes under way", DEADLINE, || {
        env.count("SELECT count(*) FROM items") >= 1
    });
    let mut seen = Vec::new();
    for _ in 0..6 {
        let out = env.run_ok(&["query", "--format", "jsonl"]);
        let rows = stdout(&out).lines().count();
        seen.push(rows);
        let target = rows + 1;
        wait_until("daemon writes more", DEADLINE, || {
            env.count("SELECT count(*) FROM items") as usize >= target
        });
    }
    assert!(
        seen.windows(2).all(|w| w[1] > w[0]),
        "reads see progress: {seen:?}"
    );
}

#[test]
fn metrics_and_health_endpoints() {
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/m.xml");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    env.write_config(
        &[&feed],
        &format!("{FAST_DAEMON}\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    server.route("/m.xml", Reply::rss(rss(&[("m", "Metered")])));
    let _d = env.daemon();
    wait_until("item stored", DEADLINE, || {
        env.count("SELECT count(*) FROM items") == 1
    });
    let get = |path: &str| -> Option<(u16, String)> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        let status = text.split_whitespace().nth(1)?.parse().ok()?;
        Some((status, text))
    };
    wait_until("metrics show the fetch", DEADLINE, || {
        get("/metrics")
            .is_some_and(|(s, t)| s == 200 && t.contains("secwire_items_ingested_total 1"))
    });
    let (_, text) = get("/metrics").unwrap();
    assert!(
        text.contains("secwire_feed_fetches_total{status=\"200\"}"),
        "{text}"
    );
    assert!(
        text.contains("secwire_fetch_duration_seconds_count"),
        "{text}"
    );
    assert!(text.contains("secwire_feeds_in_backoff"), "{text}");
    assert_eq!(get("/healthz").unwrap().0, 200);
    assert_eq!(get("/readyz").unwrap().0, 200);
}

#[test]
fn a_restart_resumes_the_schedule_instead_of_fetching_everything() {
    let server = TestServer::start();
    let env = Env::new();
    let slow = server.url("/slow-feed.xml");
    let clock = server.url("/clock.xml");
    env.write_config(&[&clock], FAST_DAEMON);
    // The slow feed has its own long interval.
    let cfg = std::fs::read_to_string(env.config_path()).unwrap()
        + &format!("[[feeds]]\nurl = {slow:?}\ninterval = \"1h\"\n");
    std::fs::write(env.config_path(), cfg).unwrap();
    server.route("/slow-feed.xml", Reply::rss(rss(&[("s", "Slow")])));
    server.route("/clock.xml", Reply::rss(rss(&[("c", "Clock")])));
    let d = env.daemon();
    wait_until("both fetched", DEADLINE, || {
        server.count("/slow-feed.xml") == 1 && server.count("/clock.xml") >= 2
    });
    d.signal("TERM");
    let (code, _, _) = d.wait(Duration::from_secs(15));
    assert_eq!(code, Some(0));
    let next: String = env.scalar(&format!(
        "SELECT next_fetch_at FROM feeds WHERE url = '{slow}'"
    ));
    assert!(next.ends_with('Z'));
    let clock_hits = server.count("/clock.xml");
    let _d2 = env.daemon();
    wait_until("clock polled after restart", DEADLINE, || {
        server.count("/clock.xml") >= clock_hits + 3
    });
    assert_eq!(
        server.count("/slow-feed.xml"),
        1,
        "the 1h feed is not due yet"
    );
}

#[test]
fn transient_article_failures_are_retried_and_permanent_ones_recorded_once() {
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/arts.xml");
    env.write_config(&[&feed], FAST_DAEMON);
    server.route(
        "/arts.xml",
        Reply::rss(
            "<rss version=\"2.0\"><channel><title>t</title>\
             <item><title>Flaky page</title><link>{{base}}/flaky.html</link><guid>1</guid><description>teaser one</description></item>\
             <item><title>Missing page</title><link>{{base}}/missing.html</link><guid>2</guid><description>teaser two</description></item>\
             </channel></rss>",
        ),
    );
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    server.route(
        "/flaky.html",
        Reply::Func(Arc::new(move |_| {
            if n2.fetch_add(1, Ordering::SeqCst) < 2 {
                Reply::status(503)
            } else {
                Reply::html(article_page("Flaky page", "A B", &[FILLER, FILLER]))
            }
        })),
    );
    let _d = env.daemon();
    wait_until(
        "flaky page extracted after retries",
        Duration::from_secs(60),
        || {
            env.count("SELECT count(*) FROM items WHERE title = 'Flaky page' AND extraction_status = 'ok'") == 1
        },
    );
    assert_eq!(server.count("/flaky.html"), 3);
    assert_eq!(
        env.count("SELECT extraction_attempts FROM items WHERE title = 'Flaky page'"),
        3
    );
    // The 404 was recorded once and never retried.
    assert_eq!(server.count("/missing.html"), 1);
    assert_eq!(
        env.count("SELECT count(*) FROM items WHERE title = 'Missing page' AND extraction_status = 'fetch_failed'"),
        1
    );
}

#[test]
fn a_feed_is_fetched_without_validators_every_so_often() {
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/etag.xml");
    env.write_config(&[&feed], FAST_DAEMON);
    let cfg = std::fs::read_to_string(env.config_path()).unwrap().replace(
        "jitter = 0.0\n",
        "jitter = 0.0\nunconditional_every = \"3s\"\n",
    );
    std::fs::write(env.config_path(), cfg).unwrap();
    server.route("/etag.xml", feed_with_etag("\"e1\"", &[("a", "One")]));
    let _d = env.daemon();
    wait_until("several polls", DEADLINE, || server.count("/etag.xml") >= 7);
    let hits = server.hits_for("/etag.xml");
    let unconditional: Vec<usize> = hits
        .iter()
        .enumerate()
        .filter(|(_, h)| h.if_none_match.is_none())
        .map(|(i, _)| i)
        .collect();
    assert!(unconditional.len() >= 2, "{unconditional:?}");
    assert!(
        unconditional.len() < hits.len() / 2 + 1,
        "most polls stay conditional: {unconditional:?}"
    );
}

#[test]
fn a_dead_network_does_not_count_against_the_feeds() {
    let server = TestServer::start();
    let env = Env::new();
    // Nothing ever answers: every request times out.
    let a = server.url("/a.xml");
    let b = server.url("/b.xml");
    env.write_config(&[&a, &b], FAST_DAEMON);
    let hang = || Reply::delayed(Duration::from_secs(30), Reply::rss(rss(&[("x", "never")])));
    server.route("/a.xml", hang());
    server.route("/b.xml", hang());
    let _d = env.daemon();
    wait_until(
        "two timed-out polls per feed",
        Duration::from_secs(40),
        || server.count("/a.xml") >= 2 && server.count("/b.xml") >= 2,
    );
    wait_until("errors recorded", DEADLINE, || {
        env.count("SELECT count(*) FROM feeds WHERE last_error LIKE '%timed out%'") == 2
    });
    assert_eq!(env.count("SELECT sum(consecutive_failures) FROM feeds"), 0);
}

#[test]
fn a_timeout_counts_when_other_hosts_answer() {
    let server = TestServer::start();
    let env = Env::new();
    let slow = server.url("/slow.xml");
    let fine = server.url("/fine.xml");
    env.write_config(&[&slow, &fine], FAST_DAEMON);
    server.route(
        "/slow.xml",
        Reply::delayed(Duration::from_secs(30), Reply::rss(rss(&[]))),
    );
    server.route("/fine.xml", Reply::rss(rss(&[("f", "Fine")])));
    let _d = env.daemon();
    wait_until(
        "the slow feed's failure counted",
        Duration::from_secs(40),
        || {
            env.count(&format!(
                "SELECT consecutive_failures FROM feeds WHERE url = '{slow}'"
            )) >= 1
        },
    );
}

#[test]
fn systemd_notify_ready_watchdog_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/n.xml");
    env.write_config(&[&feed], FAST_DAEMON);
    server.route("/n.xml", Reply::rss(rss(&[("n", "Notified")])));
    let sock_path = env.path("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let child = env
        .cmd(&["run"])
        .env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_USEC", "400000")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let d = crate::support::Daemon { child: Some(child) };
    let mut messages: Vec<String> = Vec::new();
    let mut buf = [0u8; 512];
    wait_until("READY=1 then WATCHDOG=1 twice", DEADLINE, || {
        if let Ok(n) = sock.recv(&mut buf) {
            messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        let ready = messages.iter().position(|m| m.contains("READY=1"));
        ready.is_some_and(|r| {
            messages[r..]
                .iter()
                .filter(|m| m.contains("WATCHDOG=1"))
                .count()
                >= 2
        })
    });
    d.signal("TERM");
    wait_until("STOPPING=1", DEADLINE, || {
        if let Ok(n) = sock.recv(&mut buf) {
            messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        messages.iter().any(|m| m.contains("STOPPING=1"))
    });
    let (code, _, _) = d.wait(Duration::from_secs(15));
    assert_eq!(code, Some(0));
}
