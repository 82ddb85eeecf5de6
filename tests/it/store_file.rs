//! The SQLite file itself: migrations, crash safety, unusable files.

use std::time::Duration;

use secwire::store::schema::{MIGRATIONS, latest_version};

use crate::site;
use crate::support::{Env, FILLER, Reply, TestServer, article_page, stderr, wait_until};

#[test]
fn empty_file_is_migrated_to_the_latest_schema() {
    let env = Env::new();
    env.write_config(&[], "");
    std::fs::write(env.db(), b"").unwrap();
    let out = env.run_ok(&["feeds"]);
    assert!(stderr(&out).is_empty() || !stderr(&out).contains("error"));
    assert_eq!(env.scalar::<i64>("PRAGMA user_version"), latest_version());
    assert_eq!(env.scalar::<i64>("SELECT count(*) FROM flagged_items"), 0);
}

#[test]
fn previous_schema_version_is_upgraded_in_place_keeping_its_rows() {
    let env = Env::new();
    env.write_config(&[], "");
    {
        // A file as the previous release wrote it.
        let conn = rusqlite::Connection::open(env.db()).unwrap();
        for (i, sql) in MIGRATIONS[..MIGRATIONS.len() - 1].iter().enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", i as i64 + 1)
                .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO feeds (url, origin, name, created_at) VALUES ('http://old.example/feed', 'cli', 'Old', '2023-01-01T00:00:00Z');
             INSERT INTO items (item_key, url, feed_id, title, fetched_at, body, extraction_status,
                                content_hash, created_at, modified_at, published_at)
             VALUES ('http://old.example/1', 'http://old.example/1', 1, 'Old Huawei story', '2023-01-01T00:00:00Z',
                     'An older body that mentions Huawei.', 'ok', 'h', '2023-01-01T00:00:00Z', '2023-01-01T00:00:00Z',
                     '2023-01-01T00:00:00Z');
             INSERT INTO item_feeds VALUES (1, 1, 'e1', 'h', '2023-01-01T00:00:00Z');",
        )
        .unwrap();
    }
    // A read-only query refuses to work on an old file, with a clear message.
    let out = env.run(&["query"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("older than this secwire"),
        "{}",
        stderr(&out)
    );
    // Any writing command upgrades it; the old rows are kept and searchable.
    env.run_ok(&["feeds"]);
    assert_eq!(env.scalar::<i64>("PRAGMA user_version"), latest_version());
    let out = env.run_ok(&["query", "--format", "jsonl", "--search", "huawei"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("Old Huawei story"));
    assert_eq!(env.scalar::<String>("PRAGMA integrity_check"), "ok");
}

#[test]
fn a_newer_file_is_refused_not_damaged() {
    let env = Env::new();
    env.write_config(&[], "");
    env.run_ok(&["feeds"]);
    rusqlite::Connection::open(env.db())
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let out = env.run(&["backfill"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("newer than this secwire"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.scalar::<i64>("PRAGMA user_version"), 999);
}

#[test]
fn a_file_that_is_not_a_database_is_exit_status_2() {
    let env = Env::new();
    env.write_config(&["http://127.0.0.1:9/feed"], "");
    std::fs::write(env.db(), b"this is a text file, not SQLite, and it is long enough to have a header.....................................").unwrap();
    let out = env.run(&["backfill"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.starts_with("error: cannot open database"), "{err}");
    let out = env.run(&["--db", "/nonexistent-dir/x.db", "backfill"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_sigkilled_backfill_leaves_a_file_the_next_run_completes() {
    let server = TestServer::start();
    let env = Env::new();
    let feed = server.url("/many.xml");
    env.write_config(&[&feed], "");
    let n = 60;
    let mut rss = String::from("<rss version=\"2.0\"><channel><title>many</title>");
    for i in 0..n {
        rss.push_str(&format!(
            "<item><title>Story {i}</title><link>{{{{base}}}}/s/{i}.html</link><guid>s{i}</guid><description>teaser {i}</description></item>"
        ));
        // Each article is slow enough that the run is still busy when killed.
        server.route(
            &format!("/s/{i}.html"),
            Reply::delayed(
                Duration::from_millis(40),
                Reply::html(article_page(
                    &format!("Story {i}"),
                    "A B",
                    &[FILLER, FILLER],
                )),
            ),
        );
    }
    rss.push_str("</channel></rss>");
    server.route("/many.xml", Reply::rss(rss));

    let mut child = env.spawn(&["backfill"]);
    // Kill it once some, but not all, items are stored.
    wait_until("some items stored", Duration::from_secs(60), || {
        env.db().exists()
            && rusqlite::Connection::open_with_flags(
                env.db(),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .and_then(|c| c.query_row("SELECT count(*) FROM items", [], |r| r.get::<_, i64>(0)))
            .is_ok_and(|c| c >= 5)
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let partial: i64 = env.scalar("SELECT count(*) FROM items");
    assert!(
        partial < n,
        "killed too late to prove anything ({partial} items)"
    );
    assert_eq!(env.scalar::<String>("PRAGMA integrity_check"), "ok");
    // Every stored item is complete: labels and raw page written with it.
    let incomplete: i64 = env.scalar(
        "SELECT count(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM item_labels l WHERE l.item_id = i.id)
            OR NOT EXISTS (SELECT 1 FROM raw_pages p WHERE p.item_id = i.id)
            OR NOT EXISTS (SELECT 1 FROM item_feeds x WHERE x.item_id = i.id)",
    );
    assert_eq!(incomplete, 0);

    env.run_ok(&["backfill"]);
    assert_eq!(env.scalar::<i64>("SELECT count(*) FROM items"), n);
    assert_eq!(
        env.scalar::<i64>("SELECT count(DISTINCT item_key) FROM items"),
        n
    );
    assert_eq!(env.scalar::<String>("PRAGMA integrity_check"), "ok");
    // The FTS index agrees with the items table (the check needs a writable handle).
    rusqlite::Connection::open(env.db())
        .unwrap()
        .execute(
            "INSERT INTO items_fts(items_fts) VALUES ('integrity-check')",
            [],
        )
        .expect("FTS index agrees with items");
    // Each article page was fetched at most twice (once per run at most).
    for i in 0..n {
        assert!(server.count(&format!("/s/{i}.html")) <= 2);
    }
}

#[test]
fn site_fixture_sanity() {
    // Guards the fixtures the other tests rely on.
    assert_eq!(site::total_working_entries(), 12);
}
