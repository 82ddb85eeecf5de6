//! `secwire backfill`: every configured feed once, then exit; with
//! `--since`, also the feeds' archives and sitemaps back to that date; with
//! `--urls`, a list of article URLs.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use futures_util::StreamExt;

use secwire::config::{Config, parse_http_url};
use secwire::fetch::Fetcher;
use secwire::history::{self, Discoverer, Discovery, Drained, Job};
use secwire::pipeline::{FeedOutcome, FeedReport, Pipeline, PipelineOptions};
use secwire::store::FeedRow;
use secwire::store::writer::{StoreHandle, StoreWriter};
use secwire::timefmt::parse_user_date;

use super::{Ctx, progress};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this feed (repeatable); added to the database if new
    #[arg(long = "feed", value_name = "URL")]
    feeds: Vec<String>,
    /// Reach back to this date: skip older entries, and also walk the feeds'
    /// archive pages and sitemaps (YYYY-MM-DD, RFC 3339, or an age like 90d)
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Store the feeds' own content only; do not fetch article pages
    #[arg(long)]
    no_articles: bool,
    /// Archive pages walked per feed at most
    #[arg(long, value_name = "N", default_value_t = 50)]
    max_pages: usize,
    /// Ingest the article URLs listed in FILE (one a line, # comments)
    /// instead of the feeds
    #[arg(long, value_name = "FILE")]
    urls: Option<PathBuf>,
    /// List what would be fetched (one article URL a line) and exit;
    /// reads feeds, archive pages and sitemaps but fetches no article
    #[arg(long)]
    dry_run: bool,
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
    let url_list = match &args.urls {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let list = history::urls::parse(&text);
            for (line, e) in &list.rejected {
                eprintln!("skipped {}:{line}: {e}", path.display());
            }
            Some(list.urls)
        }
        None => None,
    };
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
    if feeds.is_empty() && url_list.is_none() {
        anyhow::bail!(
            "no feeds to fetch: add [[feeds]] to {} or pass --feed URL",
            cfg.source
        );
    }
    let feed_sites = store.feed_sites()?;
    let manual = if url_list.is_some() {
        Some(store.manual_feed()?)
    } else {
        None
    };

    let fetcher = Arc::new(Fetcher::new(&cfg.fetch)?);
    let rt = super::runtime()?;
    let writer = StoreWriter::spawn(store, cfg.store.keep_raw_pages, 256);
    let handle = writer.handle();
    let pipeline = Pipeline::new(
        fetcher.clone(),
        extractor,
        classifier,
        handle.clone(),
        PipelineOptions {
            fetch_articles: !args.no_articles,
            since,
            ..PipelineOptions::from_config(&cfg)
        },
    );
    let job = match url_list {
        Some(_) => Job {
            key: "urls".into(),
            ..Job::new(since, args.max_pages, args.dry_run)
        },
        None => Job::new(since, args.max_pages, args.dry_run),
    };
    let history_wanted = since.is_some() && url_list.is_none();

    let outcome = rt.block_on(async {
        // Owned here: every store handle must be dropped before the writer
        // can finish.
        let (pipeline, handle) = (pipeline, handle);
        let run = Run {
            cfg: &cfg,
            fetcher: &fetcher,
            store: &handle,
            pipeline: &pipeline,
            job: &job,
        };
        let reports = if url_list.is_some() || args.dry_run {
            Vec::new()
        } else {
            run.feed_pass(&feeds).await
        };
        let mut discovery = Discovery::default();
        if history_wanted {
            discovery.add(run.discover_archives(&feeds, &feed_sites).await);
        }
        if let (Some(list), Some(manual)) = (&url_list, &manual) {
            let source = args
                .urls
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let d = Discoverer::new(&fetcher, &handle, &job, cfg.fetch.respect_robots);
            discovery.add(d.url_list(list, &feed_sites, manual, &source).await);
        }
        let drained = if job.dry_run || (!history_wanted && url_list.is_none()) {
            Drained::default()
        } else {
            let mut all: HashMap<i64, FeedRow> =
                feed_sites.iter().map(|(f, _)| (f.id, f.clone())).collect();
            if let Some(m) = &manual {
                all.insert(m.id, m.clone());
            }
            run.drain(&all).await
        };
        let _ = run;
        drop(pipeline);
        drop(handle);
        writer.shutdown().await;
        (reports, discovery, drained)
    });
    let (reports, discovery, drained) = outcome;

    if job.dry_run {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        for u in &discovery.would_fetch {
            let _ = writeln!(out, "{u}");
        }
        let _ = out.flush();
        eprintln!(
            "dry run: {} articles would be fetched ({} archive pages and {} sitemaps read; skipped {} older than --since, {} not articles, {} disallowed by robots.txt)",
            discovery.would_fetch.len(),
            discovery.pages,
            discovery.sitemaps,
            discovery.skipped_old,
            discovery.skipped_filtered,
            discovery.skipped_robots
        );
        return Ok(ExitCode::SUCCESS);
    }

    let summary = Summary::of(&reports);
    for r in reports.iter().filter(|r| !r.ok()) {
        if let FeedOutcome::Failed { stage, error } = &r.outcome {
            eprintln!("failed: {} ({stage:?}): {error}", r.feed);
        }
    }
    for e in &discovery.errors {
        eprintln!("history: {e}");
    }
    if !reports.is_empty() {
        eprintln!("{summary}");
    }
    if history_wanted || job.key == "urls" {
        eprintln!(
            "history: {} archive pages read ({} done earlier), {} sitemaps read ({} done earlier); {} articles queued; skipped {} older than --since, {} not articles, {} disallowed by robots.txt",
            discovery.pages,
            discovery.pages_resumed,
            discovery.sitemaps,
            discovery.sitemaps_resumed,
            discovery.queued,
            discovery.skipped_old,
            discovery.skipped_filtered,
            discovery.skipped_robots
        );
        eprintln!(
            "history articles: {} processed: {} new, {} updated, {} already stored; articles {} extracted, {} failed; {} flagged{}",
            drained.processed,
            drained.new,
            drained.updated,
            drained.unchanged,
            drained.articles_extracted,
            drained.articles_failed,
            drained.flagged,
            if drained.store_errors > 0 {
                format!("; {} could not be stored", drained.store_errors)
            } else {
                String::new()
            }
        );
    }
    if !reports.is_empty() && summary.feeds_ok == 0 {
        eprintln!("error: no feed could be fetched");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The parts a backfill run works with.
struct Run<'a> {
    cfg: &'a Config,
    fetcher: &'a Fetcher,
    store: &'a StoreHandle,
    pipeline: &'a Pipeline,
    job: &'a Job,
}

impl Run<'_> {
    /// Phase 1: every feed document once, with its new entries.
    async fn feed_pass(&self, feeds: &[FeedRow]) -> Vec<FeedReport> {
        let total = feeds.len();
        let bar = progress::start(total as u64, "feeds");
        let mut reports = Vec::with_capacity(total);
        let mut stream = futures_util::stream::iter(feeds)
            .map(|f| self.pipeline.process_feed(f))
            .buffer_unordered(self.cfg.fetch.concurrency);
        while let Some(r) = stream.next().await {
            if let Some(b) = &bar {
                b.inc(1);
            }
            reports.push(r);
        }
        progress::finish(bar);
        reports
    }

    /// Phase 2: archive pages and sitemaps of every feed, into the queue.
    async fn discover_archives(
        &self,
        feeds: &[FeedRow],
        sites: &[(FeedRow, Option<String>)],
    ) -> Discovery {
        let bar = progress::start(feeds.len() as u64, "feeds' archives and sitemaps");
        let d = Discoverer::new(
            self.fetcher,
            self.store,
            self.job,
            self.cfg.fetch.respect_robots,
        );
        let site_of: HashMap<i64, Option<String>> =
            sites.iter().map(|(f, s)| (f.id, s.clone())).collect();
        let mut total = Discovery::default();
        let mut stream = futures_util::stream::iter(feeds)
            .map(|f| {
                let d = &d;
                let site = site_of.get(&f.id).cloned().flatten();
                let fcfg = self.cfg.feeds.iter().find(|c| {
                    c.url.0.as_str() == f.url || Some(c.url.0.as_str()) == Some(f.url.as_str())
                });
                async move {
                    let mut r = d.feed_pages(f).await;
                    r.add(d.feed_sitemaps(f, site.as_deref(), fcfg).await);
                    r
                }
            })
            .buffer_unordered(self.cfg.fetch.concurrency);
        while let Some(r) = stream.next().await {
            if let Some(b) = &bar {
                b.inc(1);
                b.set_message(format!(
                    "feeds' archives and sitemaps: {} pages, {} sitemaps, {} queued",
                    total.pages + r.pages,
                    total.sitemaps + r.sitemaps,
                    total.queued + r.queued
                ));
            }
            total.add(r);
        }
        progress::finish(bar);
        total
    }

    /// Phase 3: the queued articles.
    async fn drain(&self, feeds: &HashMap<i64, FeedRow>) -> Drained {
        let bar = progress::start_eta(0, "archived articles");
        let tick = |done: u64, total: u64| {
            if let Some(b) = &bar {
                b.set_length(total);
                b.set_position(done);
            } else if done.is_multiple_of(100) || done == total {
                tracing::info!(done, total, "archived articles");
            }
        };
        let r = history::drain(
            self.pipeline,
            self.store,
            self.job,
            feeds,
            self.cfg.fetch.concurrency,
            &tick,
        )
        .await;
        progress::finish(bar);
        r
    }
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
