//! `secwire parse-feed`: how secwire reads feed documents, one JSON line each.

use std::io::{self, Write};
use std::process::ExitCode;

use serde_json::json;
use url::Url;

use secwire::fetch::{Fetcher, Kind};
use secwire::parse::{ParseOptions, ParsedFeed, parse_feed};
use secwire::timefmt::to_db;

use super::{Ctx, is_broken_pipe, is_url, print_jsonl};

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
    let needs_net = args.inputs.iter().any(|i| is_url(i));
    let net = if needs_net {
        let cfg = ctx.config()?;
        Some((super::runtime()?, Fetcher::new(&cfg.fetch)?))
    } else {
        None
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for input in &args.inputs {
        let v = match read_input(input, net.as_ref()) {
            Ok((bytes, ct, url)) => {
                let base = url.as_ref().or(base.as_ref());
                match parse_feed(
                    &bytes,
                    ParseOptions {
                        content_type: ct.as_deref(),
                        base_url: base,
                    },
                ) {
                    Ok(feed) => feed_json(input, &feed),
                    Err(e) => {
                        json!({"file": input, "title": null, "entries": [], "error": e.to_string()})
                    }
                }
            }
            Err(e) => json!({"file": input, "title": null, "entries": [], "error": e}),
        };
        match print_jsonl(&mut out, &v) {
            Ok(()) => {}
            Err(e) if is_broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
            Err(e) => return Err(e.into()),
        }
    }
    match out.flush() {
        Err(e) if !is_broken_pipe(&e) => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

type Input = (Vec<u8>, Option<String>, Option<Url>);

fn read_input(
    input: &str,
    net: Option<&(tokio::runtime::Runtime, Fetcher)>,
) -> Result<Input, String> {
    if is_url(input) {
        let url = Url::parse(input).map_err(|e| format!("invalid URL {input}: {e}"))?;
        let Some((rt, fetcher)) = net else {
            return Err("no network client".into());
        };
        let f = rt
            .block_on(fetcher.get(&url, Kind::Feed, None))
            .map_err(|e| e.to_string())?;
        Ok((f.body, f.content_type, Some(f.url)))
    } else {
        let bytes = std::fs::read(input).map_err(|e| format!("cannot read {input}: {e}"))?;
        Ok((bytes, None, None))
    }
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
