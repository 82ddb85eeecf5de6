//! `secwire classify`: labels for items given as JSON lines.

use std::collections::BTreeMap;
use std::io::{self, BufRead};
use std::process::ExitCode;

use anyhow::Context;
use serde::Deserialize;
use serde_json::json;

use super::{Ctx, JsonLines};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// JSONL file of {"id", "title", "text"}, or - for stdin
    #[arg(value_name = "FILE")]
    input: String,

    /// Also print, per item, which rule matched which sentence ("rules")
    #[arg(long)]
    explain: bool,
}

#[derive(Deserialize)]
struct InputItem {
    #[serde(default)]
    id: serde_json::Value,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let cfg = ctx.config()?;
    let classifier = ctx.classifier(&cfg)?;
    let reader: Box<dyn BufRead> = if args.input == "-" {
        Box::new(io::BufReader::new(io::stdin()))
    } else {
        Box::new(io::BufReader::new(
            std::fs::File::open(&args.input).with_context(|| format!("opening {}", args.input))?,
        ))
    };
    let mut out = JsonLines::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {} line {}", args.input, n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let v = match serde_json::from_str::<InputItem>(&line) {
            Ok(item) => {
                let c = classifier.classify(
                    item.title.as_deref().unwrap_or(""),
                    item.text.as_deref().unwrap_or(""),
                );
                let scores: BTreeMap<&str, f64> = c
                    .labels
                    .iter()
                    .map(|l| (l.label.as_str(), round3(l.score)))
                    .collect();
                let evidence: BTreeMap<&str, _> = c
                    .labels
                    .iter()
                    .map(|l| (l.label.as_str(), &l.evidence))
                    .collect();
                let mut v = json!({
                    "id": item.id,
                    "labels": c.flagged(),
                    "scores": scores,
                    "evidence": evidence,
                    "events": c.events,
                });
                if args.explain {
                    v["rules"] = json!(classifier.explain(
                        item.title.as_deref().unwrap_or(""),
                        item.text.as_deref().unwrap_or(""),
                    ));
                }
                v
            }
            Err(e) => {
                json!({"id": null, "line": n + 1, "error": format!("invalid input line: {e}")})
            }
        };
        if !out.write(&v)? {
            break;
        }
    }
    out.finish()
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
