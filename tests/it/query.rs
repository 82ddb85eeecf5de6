//! `secwire query` output formats and filters, and the SQL surface people
//! query directly (the `flagged_items` view, FTS5).

use crate::site;
use crate::support::{Env, TestServer, stderr, stdout};

fn filled() -> (TestServer, Env) {
    let server = TestServer::start();
    site::serve(&server);
    let env = Env::new();
    let feeds = [
        server.url("/rss2.xml"),
        server.url("/atom.xml"),
        server.url("/feed.json"),
    ];
    let feeds: Vec<&str> = feeds.iter().map(String::as_str).collect();
    env.write_config(&feeds, "");
    env.run_ok(&["backfill"]);
    (server, env)
}

fn jsonl(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

#[test]
fn search_jsonl_finds_the_kaspersky_items() {
    let (_server, env) = filled();
    let out = env.run_ok(&["query", "--format", "jsonl", "--search", "kaspersky"]);
    let rows = jsonl(&stdout(&out));
    assert_eq!(rows.len(), 2, "{rows:?}");
    for r in &rows {
        let title = r["title"].as_str().unwrap();
        assert!(title.to_lowercase().contains("kaspersky"), "{title}");
        assert!(r["snippet"].as_str().unwrap().contains('['));
        assert!(r["url"].as_str().unwrap().starts_with("http://127.0.0.1"));
    }
    // Newest first.
    assert!(rows[0]["published"].as_str() > rows[1]["published"].as_str());
}

#[test]
fn every_format_prints_the_same_items() {
    let (_server, env) = filled();
    let n = site::WORKING
        .iter()
        .filter(|(p, _)| ["/rss2.xml", "/atom.xml", "/feed.json"].contains(p))
        .map(|(_, n)| n)
        .sum::<usize>();

    let rows = jsonl(&stdout(&env.run_ok(&["query", "--format", "jsonl"])));
    assert_eq!(rows.len(), n);

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&env.run_ok(&["query", "--format", "json"]))).unwrap();
    assert_eq!(json.as_array().unwrap().len(), n);
    assert_eq!(json[0]["id"], rows[0]["id"]);

    let csv = stdout(&env.run_ok(&["query", "--format", "csv"]));
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(rdr.headers().unwrap().get(0), Some("id"));
    let records: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), n);
    assert_eq!(records[0].get(0).unwrap(), rows[0]["id"].to_string());

    let table = stdout(&env.run_ok(&["query", "--format", "table"]));
    assert!(table.lines().next().unwrap().contains("title"));
    assert!(table.contains(&format!("({n} items)")), "{table}");

    // Not a terminal: JSON lines by default.
    let default = stdout(&env.run_ok(&["query"]));
    assert_eq!(jsonl(&default).len(), n);
}

#[test]
fn filters_combine() {
    let (server, env) = filled();
    let atom = server.url("/atom.xml");
    let rows = jsonl(&stdout(&env.run_ok(&["query", "--feed", &atom])));
    assert_eq!(rows.len(), 2);
    let rows = jsonl(&stdout(&env.run_ok(&[
        "query",
        "--since",
        "2024-01-01",
        "--until",
        "2024-06-20",
    ])));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0]["title"]
            .as_str()
            .unwrap()
            .contains("No More Ransom")
    );
    let rows = jsonl(&stdout(&env.run_ok(&["query", "--limit", "2"])));
    assert_eq!(rows.len(), 2);
    // By feed id.
    let id: i64 = env.scalar(&format!("SELECT id FROM feeds WHERE url = '{atom}'"));
    let rows = jsonl(&stdout(&env.run_ok(&["query", "--feed", &id.to_string()])));
    assert_eq!(rows.len(), 2);
}

#[test]
fn label_filter_and_flagged_items_view_agree() {
    let (_server, env) = filled();
    let rows = jsonl(&stdout(&env.run_ok(&["query", "--label", "vendor_ban"])));
    assert!(
        !rows.is_empty(),
        "the European Parliament item is a vendor ban"
    );
    assert!(rows.iter().any(|r| {
        r["title"]
            .as_str()
            .unwrap()
            .starts_with("European Parliament")
    }));
    for r in &rows {
        assert!(
            r["labels"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["label"] == "vendor_ban")
        );
    }
    // The same items through the view, as `sqlite3 secwire.db 'SELECT * FROM flagged_items'`.
    let conn = env.conn();
    let mut st = conn
        .prepare("SELECT item_id, label, score, title, url, feed, evidence FROM flagged_items WHERE label = 'vendor_ban'")
        .unwrap();
    let view: Vec<(i64, String, f64, String, String, String, String)> = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(view.len(), rows.len());
    for (_, _, score, _, _, _, evidence) in &view {
        assert!(*score >= 0.5 && *score <= 1.0);
        let ev: serde_json::Value = serde_json::from_str(evidence).unwrap();
        assert!(
            !ev.as_array().unwrap().is_empty(),
            "evidence sentences are stored"
        );
    }
}

#[test]
fn malformed_search_and_dates_are_one_line_errors() {
    let (_server, env) = filled();
    for args in [
        vec!["query", "--search", "\"unterminated"],
        vec!["query", "--search", "AND OR"],
        vec!["query", "--since", "last tuesday"],
        vec!["query", "--until", "2024-13-45"],
        vec!["query", "--feed", "http://nowhere.example/feed"],
    ] {
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: one line expected, got:\n{err}");
        assert!(lines[0].starts_with("error: "), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(stdout(&out).is_empty());
    }
}

#[test]
fn query_without_a_database_says_how_to_make_one() {
    let env = Env::new();
    env.write_config(&[], "");
    let out = env.run(&["query"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no database at"), "{err}");
    assert!(err.contains("hint: run `secwire backfill`"), "{err}");
    assert!(!env.db().exists(), "query must not create the file");
}
