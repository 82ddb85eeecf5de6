//! `secwire classify` through the real binary: the output format, a custom
//! label added in a temporary rule file, and a bad rule file refused at start.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn secwire(config: Option<&Path>, args: &[&str], stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_secwire"));
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.args(args)
        .env_remove("SECWIRE_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("secwire runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("secwire finishes")
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// Runs `secwire --config CFG classify -` on `input`; it must succeed.
fn classify_ok(cfg: &Path, input: &str) -> Vec<serde_json::Value> {
    let out = secwire(Some(cfg), &["classify", "-"], input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    lines(&out)
}

const CUSTOM_RULES: &str = r#"
version = "test-1"

[lexicons]
carmaker = ["Volvo", "Tesla"]
recall = ["recall{,s,ed,ing}"]
regulator = ["NHTSA", "regulator"]

[[labels]]
name = "vehicle_recall"

[[labels.rules]]
name = "regulator-recalls"
weight = 0.9
trigger = "recall"
near = { carmaker = 6 }
sentence = ["regulator"]
actor = "regulator"
target = "carmaker"
"#;

#[test]
fn custom_label_from_a_temporary_rule_file_works_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("my-rules.toml"), CUSTOM_RULES).unwrap();
    let cfg = dir.path().join("secwire.toml");
    std::fs::write(
        &cfg,
        "[classifier]\nrules = \"my-rules.toml\"\nthreshold = 0.5\n",
    )
    .unwrap();
    let input = concat!(
        r#"{"id": "a", "title": "NHTSA orders Tesla to recall 2 million cars", "text": ""}"#,
        "\n",
        r#"{"id": "b", "title": "Tesla reports record deliveries", "text": "No recall was mentioned by the regulator."}"#,
        "\n"
    );
    let v = classify_ok(&cfg, input);
    assert_eq!(v.len(), 2);
    assert_eq!(v[0]["labels"], serde_json::json!(["vehicle_recall"]));
    assert!(v[0]["scores"]["vehicle_recall"].as_f64().unwrap() >= 0.5);
    assert_eq!(v[0]["events"][0]["actor"], "NHTSA");
    assert_eq!(v[0]["events"][0]["target"], "Tesla");
    assert_eq!(v[0]["events"][0]["action"], "recall");
    // The default labels are not there: the rule file defines the labels.
    assert!(v[0]["scores"].get("vendor_ban").is_none());
    assert_eq!(v[1]["labels"], serde_json::json!([]));
}

#[test]
fn bad_rule_file_is_a_clear_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let broken = CUSTOM_RULES.replace("sentence = [\"regulator\"]", "sentence = [\"regulators\"]");
    std::fs::write(dir.path().join("bad-rules.toml"), broken).unwrap();
    let cfg = dir.path().join("secwire.toml");
    std::fs::write(&cfg, "[classifier]\nrules = \"bad-rules.toml\"\n").unwrap();
    let out = secwire(Some(&cfg), &["classify", "-"], "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad-rules.toml"), "{err}");
    assert!(
        err.contains("regulator-recalls") && err.contains("regulators"),
        "{err}"
    );

    // A syntax error names the line.
    std::fs::write(
        dir.path().join("bad-rules.toml"),
        "version = \"x\"\n[lexicons]\na = [\"x\"\n",
    )
    .unwrap();
    let out = secwire(Some(&cfg), &["classify", "-"], "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad-rules.toml") && err.contains("line"),
        "{err}"
    );
}

#[test]
fn default_rules_output_has_labels_scores_evidence_and_events() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("secwire.toml");
    std::fs::write(&cfg, "").unwrap();
    let input = concat!(
        r#"{"id": "s1", "title": "Dutch government stops using Kaspersky antivirus", "text": "The justice minister told parliament the decision was a precaution."}"#,
        "\n",
        "not json\n",
        r#"{"id": 7, "title": "Patch Tuesday fixes 60 bugs"}"#,
        "\n"
    );
    let v = classify_ok(&cfg, input);
    assert_eq!(v.len(), 3);
    assert_eq!(v[0]["id"], "s1");
    assert_eq!(v[0]["labels"], serde_json::json!(["vendor_ban"]));
    let ev = &v[0]["evidence"]["vendor_ban"][0];
    assert_eq!(
        ev["sentence"],
        "Dutch government stops using Kaspersky antivirus"
    );
    assert_eq!(ev["start"], 0);
    let e = &v[0]["events"][0];
    assert_eq!(e["label"], "vendor_ban");
    assert_eq!(e["target"], "Kaspersky Lab");
    assert!(v[0]["scores"]["ppp_change"].as_f64().unwrap() < 0.5);
    assert!(
        v[1]["error"]
            .as_str()
            .unwrap()
            .contains("invalid input line")
    );
    assert_eq!(v[2]["id"], 7);
    assert_eq!(v[2]["labels"], serde_json::json!([]));
}
