//! `secwire parse-feed`: how secwire reads feed documents, one JSON line each.

use std::process::ExitCode;

use serde_json::json;
use url::Url;

use secwire::fetch::Kind;
use secwire::parse::{ParseOptions, ParsedFeed, parse_feed};
use secwire::timefmt::to_db;

use super::{Ctx, Inputs, JsonLines};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Base URL for relative links in files (URL arguments use their own address)
    #[arg(long, value_name = "BASE")]
    url: Option<String>,
    /// Feed files or http(s) URLs
    #[arg(required = true, value_name = "FILE_OR_URL")]
    inputs: Vec<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let base = args
        .url
        .as_deref()
        .map(Url::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--url: {e}"))?;
    let inputs = Inputs::new(ctx, &args.inputs)?;
    let mut out = JsonLines::new();
    for input in &args.inputs {
        let v = match inputs.read(input, Kind::Feed) {
            Ok(i) => {
                let opts = ParseOptions {
                    content_type: i.content_type.as_deref(),
                    base_url: i.url.as_ref().or(base.as_ref()),
                };
                match parse_feed(&i.bytes, opts) {
                    Ok(feed) => feed_json(input, &feed),
                    Err(e) => error_json(input, &e.to_string()),
                }
            }
            Err(e) => error_json(input, &e),
        };
        if !out.write(&v)? {
            break;
        }
    }
    out.finish()
}

fn error_json(file: &str, error: &str) -> serde_json::Value {
    json!({"file": file, "title": null, "entries": [], "error": error})
}

fn feed_json(file: &str, feed: &ParsedFeed) -> serde_json::Value {
    let entries: Vec<serde_json::Value> = feed
        .entries
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "title": e.title,
                "link": e.link,
                "published": e.published.map(to_db),
                "updated": e.updated.map(to_db),
                "authors": e.authors,
                "summary": e.summary,
            })
        })
        .collect();
    json!({"file": file, "title": feed.title, "entries": entries, "error": null})
}
