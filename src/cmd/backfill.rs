//! `secwire backfill`: every configured feed once, then exit.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use futures_util::StreamExt;

use secwire::config::parse_http_url;
use secwire::fetch::Fetcher;
use secwire::pipeline::{FeedOutcome, FeedReport, Pipeline, PipelineOptions};
use secwire::store::writer::StoreWriter;
use secwire::timefmt::parse_user_date;

use super::{Ctx, progress};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this feed (repeatable); added to the database if new
    #[arg(long = "feed", value_name = "URL")]
    feeds: Vec<String>,
    /// Skip entries published before this date (YYYY-MM-DD, RFC 3339, or an age like 30d)
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Store the feeds' own content only; do not fetch article pages
    #[arg(long)]
    no_articles: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let cfg = ctx.config()?;
    let since = args
        .since
        .as_deref()
        .map(parse_user_date)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--since: {e}"))?;
    let cli_feeds = args
        .feeds
        .iter()
        .map(|f| parse_http_url(f).map_err(|e| anyhow::anyhow!("--feed: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let classifier = ctx.classifier(&cfg)?;
    let extractor = ctx.extractor(&cfg)?;

    let mut store = ctx.open_store(&cfg)?;
    store
        .sync_config_feeds(&cfg.feeds)
        .context("recording the configured feeds")?;
    let feeds = if cli_feeds.is_empty() {
        store.feeds_to_poll()?
    } else {
        let mut v = Vec::new();
        for u in &cli_feeds {
            let (row, added) = store.add_feed(u.as_str(), None, "cli")?;
            if added {
                tracing::info!(feed = %u, "feed added");
            }
            v.push(row);
        }
        v
    };
    if feeds.is_empty() {
        anyhow::bail!(
            "no feeds to fetch: add [[feeds]] to {} or pass --feed URL",
            cfg.source
        );
    }

    let fetcher = Arc::new(Fetcher::new(&cfg.fetch)?);
    let rt = super::runtime()?;
    let writer = StoreWriter::spawn(store, cfg.store.keep_raw_pages, 256);
    let pipeline = Pipeline::new(
        fetcher,
        extractor,
        classifier,
        writer.handle(),
        PipelineOptions {
            fetch_articles: !args.no_articles,
            since,
            ..PipelineOptions::from_config(&cfg)
        },
    );
    let concurrency = cfg.fetch.concurrency;
    let total = feeds.len();
    let reports: Vec<FeedReport> = rt.block_on(async {
        let bar = progress::start(total as u64, "feeds");
        let mut reports = Vec::with_capacity(total);
        let mut stream = futures_util::stream::iter(&feeds)
            .map(|f| pipeline.process_feed(f))
            .buffer_unordered(concurrency);
        while let Some(r) = stream.next().await {
            if let Some(b) = &bar {
                b.inc(1);
            }
            reports.push(r);
        }
        drop(stream);
        drop(pipeline);
        progress::finish(bar);
        writer.shutdown().await;
        reports
    });

    let summary = Summary::of(&reports);
    for r in reports.iter().filter(|r| !r.ok()) {
        if let FeedOutcome::Failed { stage, error } = &r.outcome {
            eprintln!("failed: {} ({stage:?}): {error}", r.feed);
        }
    }
    eprintln!("{summary}");
    if summary.feeds_ok == 0 {
        eprintln!("error: no feed could be fetched");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The one summary printed at the end of a run.
#[derive(Debug, Default)]
struct Summary {
    feeds_ok: u64,
    feeds_not_modified: u64,
    feeds_failed: u64,
    new: u64,
    updated: u64,
    unchanged: u64,
    skipped_old: u64,
    extracted: u64,
    extract_failed: u64,
    flagged: BTreeMap<String, u64>,
    store_errors: u64,
}

impl Summary {
    fn of(reports: &[FeedReport]) -> Summary {
        let mut s = Summary::default();
        for r in reports {
            match r.outcome {
                FeedOutcome::Fetched => s.feeds_ok += 1,
                FeedOutcome::NotModified => {
                    s.feeds_ok += 1;
                    s.feeds_not_modified += 1;
                }
                FeedOutcome::Failed { .. } => s.feeds_failed += 1,
            }
            s.new += r.new;
            s.updated += r.updated;
            s.unchanged += r.unchanged;
            s.skipped_old += r.skipped_old;
            s.extracted += r.articles_extracted;
            s.extract_failed += r.articles_failed;
            s.store_errors += r.store_errors;
            for (l, n) in &r.flagged {
                *s.flagged.entry(l.clone()).or_default() += n;
            }
        }
        s
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let flagged: u64 = self.flagged.values().sum();
        write!(
            f,
            "summary: feeds {} ok ({} not modified), {} failed; items {} new, {} updated, {} unchanged",
            self.feeds_ok,
            self.feeds_not_modified,
            self.feeds_failed,
            self.new,
            self.updated,
            self.unchanged
        )?;
        if self.skipped_old > 0 {
            write!(f, ", {} older than --since", self.skipped_old)?;
        }
        write!(
            f,
            "; articles {} extracted, {} failed; items flagged {}",
            self.extracted, self.extract_failed, flagged
        )?;
        if !self.flagged.is_empty() {
            let parts: Vec<String> = self
                .flagged
                .iter()
                .map(|(l, n)| format!("{l} {n}"))
                .collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        if self.store_errors > 0 {
            write!(f, "; {} items could not be stored", self.store_errors)?;
        }
        Ok(())
    }
}
