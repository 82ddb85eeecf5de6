//! Configuration errors, `secwire feeds`, OPML import, parse-feed/classify smoke tests.

use crate::site;
use crate::support::{Env, TestServer, stderr, stdout};

#[test]
fn unknown_config_key_is_exit_2_naming_key_and_line() {
    let env = Env::new();
    std::fs::write(
        env.config_path(),
        "[database]\npath = \"x.db\"\n\n[fetch]\ntimeout_secs = 5\nconcurency = 3\n",
    )
    .unwrap();
    let out = env.run(&["backfill"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("line 6") && err.contains("concurency"),
        "{err}"
    );
    assert!(err.contains("secwire.toml"), "{err}");
    assert!(!env.path("x.db").exists());
}

#[test]
fn bad_value_is_exit_2() {
    let env = Env::new();
    std::fs::write(env.config_path(), "[[feeds]]\nurl = \"not a url\"\n").unwrap();
    let out = env.run(&["backfill"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 2"), "{}", stderr(&out));
}

#[test]
fn missing_config_file_is_exit_2_with_hint() {
    let env = Env::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_secwire"))
        .args(["--config", "/nonexistent/secwire.toml", "feeds"])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("/nonexistent/secwire.toml"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn secwire_config_environment_variable_is_used() {
    let env = Env::new();
    env.write_config(&["http://127.0.0.1:9/a.xml"], "");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_secwire"))
        .args(["feeds", "--format", "jsonl"])
        .env("SECWIRE_CONFIG", env.config_path())
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("http://127.0.0.1:9/a.xml"));
}

#[test]
fn feeds_lists_state_after_a_run() {
    let server = TestServer::start();
    site::serve(&server);
    let env = Env::new();
    let ok = server.url("/atom.xml");
    let bad = server.url("/missing.xml");
    env.write_config(&[&ok, &bad], "");
    env.run(&["backfill", "--no-articles"]);
    let out = env.run_ok(&["feeds", "--format", "jsonl"]);
    let feeds: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(feeds.len(), 2);
    let by_url = |u: &str| feeds.iter().find(|f| f["url"] == u).unwrap().clone();
    let okf = by_url(&ok);
    assert_eq!(okf["last_status"], 200);
    assert_eq!(okf["consecutive_failures"], 0);
    assert_eq!(okf["items"], 2);
    assert!(okf["last_fetch_at"].as_str().unwrap().ends_with('Z'));
    let badf = by_url(&bad);
    assert_eq!(badf["last_status"], 404);
    assert_eq!(badf["consecutive_failures"], 1);
    assert!(badf["last_error"].as_str().unwrap().contains("404"));
    let table = stdout(&env.run_ok(&["feeds", "--format", "table"]));
    assert!(table.contains("FAIL") && table.contains(&bad), "{table}");
}

#[test]
fn opml_import_adds_feeds_that_backfill_then_fetches() {
    let server = TestServer::start();
    site::serve(&server);
    let env = Env::new();
    env.write_config(&[], "");
    let opml = format!(
        r#"<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>
        <outline text="News"><outline type="rss" text="Atom wire" xmlUrl="{}"/>
        <outline type="rss" text="JSON" xmlUrl="{}"/><outline text="bad" xmlUrl="gopher://x/"/></outline></body></opml>"#,
        server.url("/atom.xml"),
        server.url("/feed.json")
    );
    std::fs::write(env.path("list.opml"), opml).unwrap();
    let out = env.run_ok(&["feeds", "import", "list.opml"]);
    assert!(stderr(&out).contains("2 feeds added"), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 skipped"), "{}", stderr(&out));
    // Importing again adds nothing.
    let out = env.run_ok(&["feeds", "import", "list.opml"]);
    assert!(
        stderr(&out).contains("0 feeds added, 2 already known"),
        "{}",
        stderr(&out)
    );
    env.run_ok(&["backfill", "--no-articles"]);
    assert_eq!(env.scalar::<i64>("SELECT count(*) FROM items"), 4);
    let name: String = env.scalar(&format!(
        "SELECT name FROM feeds WHERE url = '{}'",
        server.url("/atom.xml")
    ));
    assert_eq!(name, "Atom wire");
}

#[test]
fn opml_that_is_not_opml_is_a_clear_error() {
    let env = Env::new();
    env.write_config(&[], "");
    std::fs::write(env.path("x.opml"), "<html><body>no</body></html>").unwrap();
    let out = env.run(&["feeds", "import", "x.opml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("x.opml"), "{}", stderr(&out));
}

#[test]
fn parse_feed_prints_one_line_per_input_including_errors() {
    let env = Env::new();
    env.write_config(&[], "");
    std::fs::write(env.path("a.xml"), crate::support::fixture("feeds/atom.xml")).unwrap();
    std::fs::write(env.path("b.xml"), b"\x00\x01 not xml at all").unwrap();
    let out = env.run_ok(&["parse-feed", "a.xml", "b.xml", "missing.xml"]);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["file"], "a.xml");
    assert_eq!(lines[0]["entries"].as_array().unwrap().len(), 2);
    assert_eq!(lines[0]["error"], serde_json::Value::Null);
    assert!(lines[1]["error"].as_str().is_some());
    assert!(lines[2]["error"].as_str().unwrap().contains("missing.xml"));
}

#[test]
fn classify_reads_jsonl_and_survives_bad_lines() {
    let env = Env::new();
    env.write_config(&[], "");
    std::fs::write(
        env.path("in.jsonl"),
        "{\"id\":\"a\",\"title\":\"DHS bans Kaspersky\",\"text\":\"The Department of Homeland Security banned Kaspersky Lab products from federal systems.\"}\nnot json\n{\"id\":\"b\",\"title\":\"Weather\",\"text\":\"Sunny.\"}\n",
    )
    .unwrap();
    let out = env.run_ok(&["classify", "in.jsonl"]);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[0]["labels"], serde_json::json!(["vendor_ban"]));
    assert!(lines[1]["error"].as_str().is_some());
    assert_eq!(lines[2]["labels"], serde_json::json!([]));
}
