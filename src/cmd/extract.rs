//! `secwire extract`: articles from HTML files or URLs, one JSON line each.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use serde_json::json;
use url::Url;

use secwire::charset::{self, DocKind};
use secwire::extract::Extractor;
use secwire::fetch::{Fetcher, Kind};
use secwire::timefmt::to_db;

use super::{Ctx, is_broken_pipe, is_url, print_jsonl};

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
    let net = if args.inputs.iter().any(|i| is_url(i)) {
        Some((super::runtime()?, Fetcher::new(&cfg.fetch)?))
    } else {
        None
    };
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
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = if net.is_some() || jobs == 1 {
        args.inputs
            .iter()
            .try_for_each(|input| write_line(&mut out, &one(&shared, input, net.as_ref())))
    } else {
        parallel(&shared, &args.inputs, jobs, &mut out)
    };
    match result.and_then(|()| out.flush()) {
        Err(e) if !is_broken_pipe(&e) => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn write_line(out: &mut impl Write, v: &serde_json::Value) -> io::Result<()> {
    print_jsonl(out, v)
}

/// Extracts files on `jobs` threads; lines come out in input order.
fn parallel(
    shared: &Shared,
    inputs: &[String],
    jobs: usize,
    out: &mut impl Write,
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
                    if tx.send((i, one(shared, input, None))).is_err() {
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
                // On error, returning drops the receiver, which stops the
                // workers.
                write_line(out, &v)?;
                due += 1;
            }
        }
        Ok(())
    })
}

/// The JSON line for one input.
fn one(
    shared: &Shared,
    input: &str,
    net: Option<&(tokio::runtime::Runtime, Fetcher)>,
) -> serde_json::Value {
    match read_page(input, net) {
        Ok((bytes, content_type, page_url)) => {
            let url = page_url
                .or_else(|| shared.url_map.get(input).cloned())
                .or_else(|| shared.base.clone());
            let text = charset::decode(&bytes, content_type.as_deref(), DocKind::Html).text;
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
