//! `reextract` and `reclassify`: re-running stages over the stored archive
//! without fetching anything.

use crate::site;
use crate::support::{Env, TestServer, stderr};

fn flagged(env: &Env) -> i64 {
    env.scalar("SELECT count(*) FROM flagged_items")
}

#[test]
fn reclassify_after_a_rule_change_updates_flags_and_the_view() {
    let server = TestServer::start();
    site::serve(&server);
    let env = Env::new();
    let feeds = [server.url("/rss2.xml"), server.url("/atom.xml")];
    // Nothing can reach a threshold of 1.0 with the default rules' weights.
    env.write_config(&[&feeds[0], &feeds[1]], "[classifier]\nthreshold = 1.0\n");
    env.run_ok(&["backfill"]);
    assert_eq!(flagged(&env), 0);
    let labelled: i64 = env.scalar("SELECT count(DISTINCT item_id) FROM item_labels");
    assert_eq!(
        labelled, 5,
        "every item has its labels stored, flagged or not"
    );

    env.write_config(&[&feeds[0], &feeds[1]], "[classifier]\nthreshold = 0.5\n");
    server.clear_hits();
    let out = env.run_ok(&["reclassify"]);
    let err = stderr(&out);
    let now_flagged = flagged(&env);
    assert!(
        now_flagged >= 2,
        "the Kaspersky items are vendor bans: {err}"
    );
    assert!(
        err.contains(&format!("{now_flagged} flags changed")),
        "{err}"
    );
    assert!(server.hits().is_empty(), "reclassify must not fetch");

    // Re-running changes nothing more.
    let out = env.run_ok(&["reclassify"]);
    assert!(stderr(&out).contains("0 flags changed"), "{}", stderr(&out));

    // --label restricts the work to one label; an unknown label is an error.
    env.write_config(&[&feeds[0], &feeds[1]], "[classifier]\nthreshold = 1.0\n");
    env.run_ok(&["reclassify", "--label", "ppp_change"]);
    let vb: i64 = env.scalar("SELECT count(*) FROM flagged_items WHERE label = 'vendor_ban'");
    assert!(vb >= 2, "vendor_ban flags were not touched");
    let pc: i64 = env.scalar("SELECT count(*) FROM flagged_items WHERE label = 'ppp_change'");
    assert_eq!(pc, 0);
    let out = env.run(&["reclassify", "--label", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown label \"nope\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn reextract_applies_a_new_site_rule_to_stored_pages_without_fetching() {
    let server = TestServer::start();
    site::serve(&server);
    let env = Env::new();
    let feed = server.url("/atom.xml");
    // A bad site rule: it removes the article, so only the feed text is kept.
    let bad_rule = "[[sites]]\nhost = \"127.0.0.1\"\nremove = [\"article\", \"main\"]\n";
    env.write_config(&[&feed], bad_rule);
    env.run_ok(&["backfill"]);
    let fallback: i64 =
        env.scalar("SELECT count(*) FROM items WHERE extraction_status = 'feed_content'");
    assert_eq!(fallback, 2, "the rule left too little text on both pages");

    env.write_config(&[&feed], "");
    server.clear_hits();
    let out = env.run_ok(&["reextract"]);
    assert!(
        server.hits().is_empty(),
        "reextract must not fetch: {:?}",
        server.hits()
    );
    let err = stderr(&out);
    assert!(err.contains("2 pages, 2 items changed"), "{err}");
    let ok: i64 = env.scalar("SELECT count(*) FROM items WHERE extraction_status = 'ok'");
    assert_eq!(ok, 2);
    let body: String = env.scalar("SELECT body FROM items WHERE title LIKE 'Commerce bans%'");
    assert!(
        body.contains("banned sales of Kaspersky antivirus"),
        "{body}"
    );
    // FTS follows the new bodies.
    let hits: i64 = env.scalar("SELECT count(*) FROM items_fts WHERE items_fts MATCH 'antivirus'");
    assert!(hits >= 1);

    // Nothing changes the second time; --host filters.
    let out = env.run_ok(&["reextract"]);
    assert!(
        stderr(&out).contains("2 pages, 0 items changed"),
        "{}",
        stderr(&out)
    );
    let out = env.run_ok(&["reextract", "--host", "example.org"]);
    assert!(stderr(&out).contains("0 pages"), "{}", stderr(&out));
}

/// A small rule file: `kit_ban` flags a ban on any vendor in `kit`.
fn kit_rules(version: &str, vendors: &[&str]) -> String {
    let list: Vec<String> = vendors.iter().map(|v| format!("{v:?}")).collect();
    format!(
        r#"version = "{version}"

[lexicons]
kit = [{}]
ban = ["ban{{,s,ned,ning}}"]

[[labels]]
name = "kit_ban"

[[labels.rules]]
name = "bans-kit"
weight = 0.9
trigger = "ban"
near = {{ kit = 8 }}
target = "kit"
"#,
        list.join(", ")
    )
}

#[test]
fn reclassify_after_a_rules_file_change_updates_flags_and_the_view() {
    let server = TestServer::start();
    site::serve(&server);
    let env = Env::new();
    let feeds = [server.url("/rss2.xml"), server.url("/atom.xml")];
    env.write_config(
        &[&feeds[0], &feeds[1]],
        "[classifier]\nrules = \"kit.toml\"\n",
    );
    // Version 1 knows no vendor that the fixture feeds ban.
    std::fs::write(env.path("kit.toml"), kit_rules("kit-1", &["Acme"])).unwrap();
    env.run_ok(&["backfill"]);
    assert_eq!(flagged(&env), 0);
    let version: String = env.scalar("SELECT DISTINCT classifier_version FROM item_labels");
    assert_eq!(version, "kit-1");

    // Version 2 adds Kaspersky: the two Kaspersky ban items get flagged.
    std::fs::write(
        env.path("kit.toml"),
        kit_rules("kit-2", &["Acme", "Kaspersky"]),
    )
    .unwrap();
    server.clear_hits();
    let out = env.run_ok(&["reclassify"]);
    assert!(server.hits().is_empty(), "reclassify must not fetch");
    assert!(stderr(&out).contains("2 flags changed"), "{}", stderr(&out));
    let titles: Vec<String> = {
        let conn = env.conn();
        let mut st = conn
            .prepare("SELECT title FROM flagged_items WHERE label = 'kit_ban' ORDER BY title")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles.iter().all(|t| t.contains("Kaspersky")), "{titles:?}");
    let versions: i64 = env.scalar("SELECT count(DISTINCT classifier_version) FROM item_labels");
    assert_eq!(versions, 1, "every item carries the new version");
    let events: String = env.scalar("SELECT events FROM flagged_items LIMIT 1");
    assert!(events.contains("\"target\":\"Kaspersky\""), "{events}");
}
