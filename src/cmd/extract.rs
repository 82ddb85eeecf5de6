//! `secwire extract`: articles from HTML files or URLs, one JSON line each.

use std::collections::HashMap;
use std::io::{self, Write};
use std::process::ExitCode;

use serde_json::json;
use url::Url;

use secwire::charset::{self, DocKind};
use secwire::fetch::{Fetcher, Kind};
use secwire::timefmt::to_db;

use super::{Ctx, is_broken_pipe, is_url, print_jsonl};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The page's address, for files (site rules, dates in the URL, relative links)
    #[arg(long, value_name = "BASE")]
    url: Option<String>,
    /// HTML files or http(s) URLs
    #[arg(required = true, value_name = "FILE_OR_URL")]
    inputs: Vec<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let cfg = ctx.config()?;
    let extractor = ctx.extractor(&cfg)?;
    let base = args
        .url
        .as_deref()
        .map(Url::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--url: {e}"))?;
    let net = if args.inputs.iter().any(|i| is_url(i)) {
        Some((super::runtime()?, Fetcher::new(&cfg.fetch)?))
    } else {
        None
    };
    let url_map = eval_urls()?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for input in &args.inputs {
        let v = match read_page(input, net.as_ref()) {
            Ok((bytes, content_type, page_url)) => {
                let url = page_url
                    .or_else(|| url_map.get(input).cloned())
                    .or_else(|| base.clone());
                let text = charset::decode(&bytes, content_type.as_deref(), DocKind::Html).text;
                let a = extractor.extract(&text, url.as_ref());
                json!({
                    "file": input,
                    "url": url.map(|u| u.to_string()),
                    "title": a.title,
                    "authors": a.authors,
                    "published": if std::env::var_os("SECWIRE_LOCAL_DATES").is_some() { a.published_local.map(|d| d.to_rfc3339()) } else { a.published.map(to_db) },
                    "lang": a.lang,
                    "body": a.body,
                })
            }
            Err(e) => {
                json!({"file": input, "url": null, "title": null, "authors": [], "published": null, "lang": null, "body": "", "error": e})
            }
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

/// `EXTRACTION_EVAL_URLS`: a JSON file `{file: url}` naming the original
/// address of each input file (set by the extraction evaluation tool).
/// Entries that are not absolute URLs are ignored.
fn eval_urls() -> anyhow::Result<HashMap<String, Url>> {
    let Some(path) = std::env::var_os("EXTRACTION_EVAL_URLS") else {
        return Ok(HashMap::new());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("EXTRACTION_EVAL_URLS {}: {e}", path.to_string_lossy()))?;
    let raw: HashMap<String, serde_json::Value> = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("EXTRACTION_EVAL_URLS {}: {e}", path.to_string_lossy()))?;
    Ok(raw
        .into_iter()
        .filter_map(|(k, v)| Some((k, Url::parse(v.as_str()?).ok()?)))
        .collect())
}

type Page = (Vec<u8>, Option<String>, Option<Url>);

fn read_page(
    input: &str,
    net: Option<&(tokio::runtime::Runtime, Fetcher)>,
) -> Result<Page, String> {
    if is_url(input) {
        let url = Url::parse(input).map_err(|e| format!("invalid URL {input}: {e}"))?;
        let Some((rt, fetcher)) = net else {
            return Err("no network client".into());
        };
        let f = rt
            .block_on(fetcher.get(&url, Kind::Page, None))
            .map_err(|e| e.to_string())?;
        Ok((f.body, f.content_type, Some(f.url)))
    } else {
        let bytes = std::fs::read(input).map_err(|e| format!("cannot read {input}: {e}"))?;
        Ok((bytes, None, None))
    }
}
