//! `secwire extract`: articles from HTML files or URLs, one JSON line each.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use serde_json::json;
use url::Url;

use secwire::charset::{self, DocKind};
use secwire::extract::Extractor;
use secwire::fetch::Kind;
use secwire::timefmt::to_db;

use super::{Ctx, Inputs, JsonLines, is_url};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The page's address, for files (site rules, dates in the URL, relative links)
    #[arg(long, value_name = "BASE")]
    url: Option<String>,
    /// Print `published` with the page's own UTC offset (its calendar day)
    /// instead of in UTC
    #[arg(long)]
    local_time: bool,
    /// Files extracted in parallel [default: the number of CPUs, at most 8];
    /// URLs are always fetched one after the other
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// HTML files or http(s) URLs
    #[arg(required = true, value_name = "FILE_OR_URL")]
    inputs: Vec<String>,
}

/// What every input needs besides its own bytes.
struct Shared {
    extractor: std::sync::Arc<Extractor>,
    base: Option<Url>,
    url_map: HashMap<String, Url>,
    local_time: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let cfg = ctx.config()?;
    let shared = Shared {
        extractor: ctx.extractor(&cfg)?,
        base: args
            .url
            .as_deref()
            .map(Url::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--url: {e}"))?,
        url_map: eval_urls()?,
        local_time: args.local_time,
    };
    let inputs = Inputs::new(ctx, &args.inputs)?;
    let any_url = args.inputs.iter().any(|i| is_url(i));
    let jobs = args
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .min(8)
        })
        .clamp(1, 64)
        .min(args.inputs.len().max(1));
    let mut out = JsonLines::new();
    if any_url || jobs == 1 {
        for input in &args.inputs {
            if !out.write(&one(&shared, input, &inputs))? {
                break;
            }
        }
    } else {
        parallel(&shared, &inputs, &args.inputs, jobs, &mut out)?;
    }
    out.finish()
}

/// Extracts files on `jobs` threads; lines come out in input order.
fn parallel(
    shared: &Shared,
    reader: &Inputs,
    inputs: &[String],
    jobs: usize,
    out: &mut JsonLines,
) -> io::Result<()> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::sync_channel::<(usize, serde_json::Value)>(jobs * 4);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(i) else { break };
                    if tx.send((i, one(shared, input, reader))).is_err() {
                        break; // the writer stopped (closed pipe)
                    }
                }
            });
        }
        drop(tx);
        let mut pending: BTreeMap<usize, serde_json::Value> = BTreeMap::new();
        let mut due = 0;
        for (i, v) in rx {
            pending.insert(i, v);
            while let Some(v) = pending.remove(&due) {
                // Returning (error or closed stdout) drops the receiver,
                // which stops the workers.
                if !out.write(&v)? {
                    return Ok(());
                }
                due += 1;
            }
        }
        Ok(())
    })
}

/// The JSON line for one input.
fn one(shared: &Shared, input: &str, reader: &Inputs) -> serde_json::Value {
    match reader.read(input, Kind::Page) {
        Ok(page) => {
            let url = page
                .url
                .or_else(|| shared.url_map.get(input).cloned())
                .or_else(|| shared.base.clone());
            let text =
                charset::decode(&page.bytes, page.content_type.as_deref(), DocKind::Html).text;
            let a = shared.extractor.extract(&text, url.as_ref());
            let published = if shared.local_time {
                a.published_local.map(|d| d.to_rfc3339())
            } else {
                a.published.map(to_db)
            };
            json!({
                "file": input,
                "url": url.map(|u| u.to_string()),
                "title": a.title,
                "authors": a.authors,
                "published": published,
                "lang": a.lang,
                "body": a.body,
            })
        }
        Err(e) => {
            json!({"file": input, "url": null, "title": null, "authors": [], "published": null, "lang": null, "body": "", "error": e})
        }
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
