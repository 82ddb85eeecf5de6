//! `secwire query`: stored items, filtered, as a table, JSON, JSON lines or CSV.

use std::io::{self, Write};
use std::process::ExitCode;

use secwire::store::query::{FeedSelector, ItemQuery, ItemRow, query_items};
use secwire::timefmt::{parse_user_date, to_db};

use super::{Ctx, Format, is_broken_pipe};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only items flagged with this label (e.g. vendor_ban, ppp_change)
    #[arg(long)]
    label: Option<String>,
    /// Only items published on or after this date (YYYY-MM-DD, RFC 3339, or an age like 7d)
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Only items published before this date
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
    /// Only items carried by this feed (id or URL, see `secwire feeds`)
    #[arg(long, value_name = "URL|ID")]
    feed: Option<String>,
    /// Full-text search over title and body (SQLite FTS5 syntax)
    #[arg(long, value_name = "QUERY")]
    search: Option<String>,
    /// At most this many items (newest first)
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Output format [default: table on a terminal, jsonl otherwise]
    #[arg(long, value_enum)]
    format: Option<Format>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let date = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<String>> {
        v.as_deref()
            .map(|s| {
                parse_user_date(s)
                    .map(to_db)
                    .map_err(|e| anyhow::anyhow!("{flag}: {e}"))
            })
            .transpose()
    };
    let q = ItemQuery {
        label: args.label.clone(),
        since: date("--since", &args.since)?,
        until: date("--until", &args.until)?,
        feed: args.feed.as_deref().map(FeedSelector::parse),
        search: args.search.clone().filter(|s| !s.trim().is_empty()),
        limit: args.limit,
    };
    let cfg = ctx.config()?;
    let store = ctx.open_store_read_only(&cfg)?;
    let rows = query_items(&store, &q)?;
    let format = args.format.unwrap_or_else(Format::default_for_stdout);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match write_rows(&mut out, &rows, format).and_then(|_| out.flush()) {
        Ok(()) => {}
        Err(e) if is_broken_pipe(&e) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(ExitCode::SUCCESS)
}

fn write_rows(out: &mut impl Write, rows: &[ItemRow], format: Format) -> io::Result<()> {
    match format {
        Format::Jsonl => {
            for r in rows {
                serde_json::to_writer(&mut *out, r)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, rows)?;
            out.write_all(b"\n")?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "id",
                "published",
                "feed",
                "title",
                "url",
                "authors",
                "labels",
                "lang",
                "extraction_status",
            ])?;
            for r in rows {
                w.write_record([
                    r.id.to_string(),
                    r.published.clone().unwrap_or_default(),
                    r.feed.clone(),
                    r.title.clone().unwrap_or_default(),
                    r.url.clone().unwrap_or_default(),
                    r.authors.join("; "),
                    labels_text(r),
                    r.lang.clone().unwrap_or_default(),
                    r.extraction_status.clone(),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => write_table(out, rows)?,
    }
    Ok(())
}

fn labels_text(r: &ItemRow) -> String {
    r.labels
        .iter()
        .map(|l| format!("{}:{:.2}", l.label, l.score))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A fixed-width table; long titles are cut to keep one item per line.
fn write_table(out: &mut impl Write, rows: &[ItemRow]) -> io::Result<()> {
    const TITLE: usize = 70;
    const FEED: usize = 22;
    writeln!(
        out,
        "{:>6}  {:<10}  {:<FEED$}  {:<TITLE$}  labels",
        "id", "published", "feed", "title"
    )?;
    for r in rows {
        let day = r
            .published
            .as_deref()
            .map(|p| p.get(..10).unwrap_or(p))
            .unwrap_or("");
        writeln!(
            out,
            "{:>6}  {:<10}  {:<FEED$}  {:<TITLE$}  {}",
            r.id,
            day,
            cut(&r.feed, FEED),
            cut(r.title.as_deref().unwrap_or(""), TITLE),
            labels_text(r)
        )?;
    }
    writeln!(out, "({} items)", rows.len())
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
    t.push('…');
    t
}
