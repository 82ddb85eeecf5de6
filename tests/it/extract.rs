//! `secwire extract` through the real binary: the seed article page, the
//! JSON-lines contract, and hostile inputs (no panic, every input answered).

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/extract")
        .join(name)
}

/// Runs `secwire extract ARGS...` (with the embedded default configuration)
/// and parses its JSON lines.
fn extract(args: &[&str], envs: &[(&str, &str)]) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::cargo_bin("secwire").expect("binary");
    cmd.current_dir(dir.path())
        .env_remove("SECWIRE_CONFIG")
        .arg("extract");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().expect("run secwire");
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn seed_article_page_gives_its_body_and_author() {
    let page = fixture("darkreading-kaspersky.html");
    let want = std::fs::read_to_string(fixture("darkreading-kaspersky.body.txt")).expect("fixture");
    let out = extract(&[path_str(&page)], &[]);
    assert_eq!(out.len(), 1);
    let a = &out[0];
    assert_eq!(a["file"], path_str(&page));
    assert_eq!(a["body"].as_str().expect("body"), want.trim());
    assert_eq!(a["authors"], serde_json::json!(["Kelly Jackson Higgins"]));
    assert_eq!(
        a["title"],
        "Kaspersky Lab Halts Europol Work After EU Parliament Vote"
    );
    assert_eq!(a["published"], "2018-06-14T14:30:00Z");
    assert_eq!(a["lang"], "en");
    let body = a["body"].as_str().expect("body");
    for boiler in [
        "Related Content",
        "About the Author",
        "Editor-in-Chief",
        "Keep up with the latest",
        "You May Also Like",
        "More Insights",
        "Share on Twitter",
        "cookies",
        "Alamy",
        "Copyright",
    ] {
        assert!(!body.contains(boiler), "body contains {boiler:?}");
    }
}

#[test]
fn fixture_pages_give_their_bodies_in_one_run() {
    let names = ["blog-wordpress", "news-de", "darkreading-kaspersky"];
    let pages: Vec<PathBuf> = names
        .iter()
        .map(|n| fixture(&format!("{n}.html")))
        .collect();
    let args: Vec<&str> = pages.iter().map(|p| path_str(p)).collect();
    let out = extract(&args, &[]);
    assert_eq!(out.len(), names.len());
    for (n, o) in names.iter().zip(&out) {
        let want = std::fs::read_to_string(fixture(&format!("{n}.body.txt"))).expect("fixture");
        assert_eq!(o["body"].as_str().expect("body"), want.trim(), "{n}");
    }
    // WordPress: byline element, date with its offset (stored in UTC).
    assert_eq!(out[0]["authors"], serde_json::json!(["Sam Rivera"]));
    assert_eq!(out[0]["published"], "2024-03-02T14:15:00Z");
    assert_eq!(out[0]["title"], "Why the procurement rules changed");
    // German news: JSON-LD names an organisation, the byline two people.
    assert_eq!(
        out[1]["authors"],
        serde_json::json!(["Anna Schäfer", "Jonas Weber"])
    );
    assert_eq!(out[1]["lang"], "de");
    assert_eq!(out[1]["published"], "2023-10-18T15:45:00Z");
}

#[test]
fn url_from_the_evaluation_map_and_errors_per_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("p.html");
    std::fs::write(
        &page,
        "<html><body><article><p>A paragraph long enough to count as the article text, with a comma, and more words.</p></article></body></html>",
    )
    .expect("write");
    let map = dir.path().join("urls.json");
    let page_s = path_str(&page).to_string();
    std::fs::write(
        &map,
        serde_json::json!({ page_s.clone(): "https://news.example.com/2019/10/18/story.html" })
            .to_string(),
    )
    .expect("write");
    let missing = dir.path().join("missing.html");
    let out = extract(
        &[path_str(&missing), &page_s],
        &[("EXTRACTION_EVAL_URLS", path_str(&map))],
    );
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["file"], path_str(&missing));
    assert!(
        out[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot read"))
    );
    assert_eq!(
        out[1]["url"],
        "https://news.example.com/2019/10/18/story.html"
    );
    // The date comes from the URL.
    assert_eq!(out[1]["published"], "2019-10-18T00:00:00Z");
    assert!(
        out[1]["body"]
            .as_str()
            .is_some_and(|b| b.starts_with("A paragraph"))
    );
}

/// Writes hostile pages to a temporary folder.
fn hostile_pages(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut pages = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>| {
        let p = dir.join(name);
        std::fs::File::create(&p)
            .and_then(|mut f| f.write_all(&bytes))
            .expect("write fixture");
        pages.push((name.to_string(), p));
    };
    add("empty.html", Vec::new());
    // Binary garbage: every byte value, NULs, broken UTF-8, stray '<' and '&'.
    let mut garbage = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..200_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        garbage.push((x >> 16) as u8);
    }
    garbage.extend_from_slice(b"<<<&&&#x;&#99999999;<!--<script><svg/><a href='");
    add("garbage.html", garbage);
    // A 5 MB text node.
    let mut big = b"<html><body><p>".to_vec();
    big.extend(std::iter::repeat_n(b"word ".as_slice(), 1_000_000).flatten());
    big.extend_from_slice(b"</p></body></html>");
    add("big-text.html", big);
    // 100,000 nested elements.
    let mut deep = b"<html><body>".to_vec();
    for _ in 0..100_000 {
        deep.extend_from_slice(b"<div>");
    }
    deep.extend_from_slice(b"<p>The text at the bottom of a very deep page, with commas, and enough words to count.</p>");
    for _ in 0..100_000 {
        deep.extend_from_slice(b"</div>");
    }
    add("deep.html", deep);
    // 100,000 unclosed inline elements.
    add("unclosed.html", "<b><i>x".repeat(50_000).into_bytes());
    // 50,000 sibling paragraphs.
    let mut wide = b"<html><body><div>".to_vec();
    for i in 0..50_000 {
        wide.extend_from_slice(
            format!("<p>Paragraph number {i}, with a comma, and some words.</p>").as_bytes(),
        );
    }
    wide.extend_from_slice(b"</div></body></html>");
    add("wide.html", wide);
    pages
}

#[test]
fn hostile_inputs_do_not_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pages = hostile_pages(dir.path());
    let args: Vec<&str> = pages.iter().map(|(_, p)| path_str(p)).collect();
    let out = extract(&args, &[]);
    assert_eq!(out.len(), pages.len(), "one line per input");
    let by_name = |n: &str| {
        let (_, p) = pages.iter().find(|(name, _)| name == n).expect("page");
        out.iter()
            .find(|o| o["file"] == path_str(p))
            .expect("output for page")
    };
    for o in &out {
        assert!(o.get("error").is_none(), "{o}");
    }
    assert_eq!(by_name("empty.html")["body"], "");
    assert!(
        by_name("big-text.html")["body"]
            .as_str()
            .is_some_and(|b| b.len() > 4_000_000)
    );
    assert!(
        by_name("deep.html")["body"]
            .as_str()
            .is_some_and(|b| b.contains("The text at the bottom"))
    );
    let wide = by_name("wide.html")["body"]
        .as_str()
        .expect("body")
        .to_string();
    assert_eq!(wide.split("\n\n").count(), 50_000);
    assert!(wide.ends_with("Paragraph number 49999, with a comma, and some words."));
}
