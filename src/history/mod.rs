//! History backfills: reaching back through the archives news sites
//! publish, for `secwire backfill --since DATE` and `--urls FILE`.
//!
//! Two steps, both resumable:
//! 1. **Discover**: walk each feed's older pages (RFC 5005 `next` /
//!    `prev-archive`, WordPress `?paged=N`), read its sitemaps (configured,
//!    or named by robots.txt), read URL lists. Each page or sitemap, once
//!    read, is recorded as done together with the articles it lists, which
//!    go into a queue (one transaction).
//! 2. **Drain**: process the queue through the ordinary pipeline; an item
//!    write marks its queue row done in the same transaction.
//!
//! A run killed at any moment restarts where it stopped: finished pages and
//! sitemaps are not fetched again, stored articles are not fetched again.

pub mod paging;
pub mod sitemap;
pub mod urls;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tracing::{debug, info, warn};
use url::Url;

use crate::config::FeedConfig;
use crate::fetch::robots::Rules;
use crate::fetch::{Fetcher, Kind};
use crate::parse::link::canonical_url;
use crate::parse::{self, Entry, ParseOptions};
use crate::pipeline::Pipeline;
use crate::store::FeedRow;
use crate::store::backfill::{NewQueued, SourceDone};
use crate::store::writer::StoreHandle;
use crate::timefmt::to_db;

use sitemap::{Sitemap, SitemapUrl, UrlFilter};

/// Sitemap indexes nest at most this deep.
const MAX_SITEMAP_DEPTH: usize = 4;

/// An entry for a page known only by its URL (sitemaps, URL lists).
fn entry_from_url(url: &str, title: Option<String>, published: Option<DateTime<Utc>>) -> Entry {
    Entry {
        id: url.to_string(),
        title,
        link: Some(url.to_string()),
        published,
        ..Entry::default()
    }
}

/// Candidates as queue rows of `feed`.
fn to_queued(feed_id: i64, fresh: Vec<Found>) -> Vec<NewQueued> {
    fresh
        .into_iter()
        .filter_map(|f| {
            Some(NewQueued {
                feed_id,
                item_key: f.key,
                entry: serde_json::to_string(&f.entry).ok()?,
            })
        })
        .collect()
}

/// One history backfill: its scope and limits.
#[derive(Debug, Clone)]
pub struct Job {
    /// Progress is recorded under this key: the same `--since` resumes.
    pub key: String,
    pub since: Option<DateTime<Utc>>,
    pub max_pages: usize,
    pub dry_run: bool,
}

impl Job {
    pub fn new(since: Option<DateTime<Utc>>, max_pages: usize, dry_run: bool) -> Job {
        Job {
            key: match since {
                Some(s) => format!("since:{}", to_db(s)),
                None => "all".into(),
            },
            since,
            max_pages,
            dry_run,
        }
    }

    fn too_old(&self, date: Option<DateTime<Utc>>) -> bool {
        matches!((self.since, date), (Some(s), Some(d)) if d < s)
    }
}

/// What discovery found.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    pub pages: u64,
    pub pages_resumed: u64,
    pub sitemaps: u64,
    pub sitemaps_resumed: u64,
    pub queued: u64,
    pub skipped_old: u64,
    pub skipped_filtered: u64,
    pub skipped_robots: u64,
    pub errors: Vec<String>,
    /// With `dry_run`: the article URLs that would be fetched.
    pub would_fetch: Vec<String>,
}

impl Discovery {
    pub fn add(&mut self, o: Discovery) {
        self.pages += o.pages;
        self.pages_resumed += o.pages_resumed;
        self.sitemaps += o.sitemaps;
        self.sitemaps_resumed += o.sitemaps_resumed;
        self.queued += o.queued;
        self.skipped_old += o.skipped_old;
        self.skipped_filtered += o.skipped_filtered;
        self.skipped_robots += o.skipped_robots;
        self.errors.extend(o.errors);
        self.would_fetch.extend(o.would_fetch);
    }
}

/// Finds archived articles and queues them.
pub struct Discoverer<'a> {
    pub fetcher: &'a Fetcher,
    pub store: &'a StoreHandle,
    pub job: &'a Job,
    pub respect_robots: bool,
    /// Sitemaps taken by one feed of this run: feeds of the same site name
    /// the same sitemaps, which are read once.
    pub claimed: std::sync::Mutex<HashSet<String>>,
}

impl<'a> Discoverer<'a> {
    pub fn new(
        fetcher: &'a Fetcher,
        store: &'a StoreHandle,
        job: &'a Job,
        respect_robots: bool,
    ) -> Self {
        Discoverer {
            fetcher,
            store,
            job,
            respect_robots,
            claimed: std::sync::Mutex::new(HashSet::new()),
        }
    }

    fn claim(&self, url: &Url) -> bool {
        self.claimed
            .lock()
            .map(|mut c| c.insert(url.to_string()))
            .unwrap_or(true)
    }
}

/// A candidate article found by discovery.
struct Found {
    key: String,
    entry: Entry,
}

impl Discoverer<'_> {
    /// Walks a feed's older pages, newest first, queueing their entries.
    /// Stops at `--since`, at a page with nothing new, at a page that
    /// repeats the previous one, at a page that does not load, or after
    /// `max_pages` pages.
    pub async fn feed_pages(&self, feed: &FeedRow) -> Discovery {
        let mut out = Discovery::default();
        let Ok(first) = Url::parse(&feed.url) else {
            return out;
        };
        let mut url = first.clone();
        let mut wordpress_page: Option<usize> = None;
        let mut previous_ids: Option<Vec<String>> = None;
        for page_no in 1..=self.job.max_pages {
            // Finished in an earlier run: continue from its recorded next link.
            if !self.job.dry_run {
                let (job, u) = (self.job.key.clone(), url.to_string());
                match self
                    .store
                    .call(move |s| s.source_record(&job, "page", &u))
                    .await
                {
                    Ok(Some(rec)) => {
                        out.pages_resumed += 1;
                        previous_ids = None;
                        match rec.next_url.and_then(|n| Url::parse(&n).ok()) {
                            Some(next) => {
                                wordpress_page = wp_page_number(&next, &first);
                                url = next;
                                continue;
                            }
                            None => break,
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        out.errors.push(format!("{url}: {e}"));
                        break;
                    }
                }
            }
            let fetched = match self.fetcher.get(&url, Kind::Feed, None).await {
                Ok(f) if !f.not_modified() => f,
                Ok(_) => break,
                Err(e) => {
                    // Page 1 failing is reported by the feed pass; past the
                    // last WordPress page the site answers 404: the end.
                    if page_no > 1 && wordpress_page.is_none() {
                        out.errors.push(e.to_string());
                    }
                    self.record("page", feed, &url, Some(e.to_string())).await;
                    break;
                }
            };
            out.pages += 1;
            let base = fetched.url.clone();
            let ct = fetched.content_type.clone();
            let body = fetched.body;
            let parsed = tokio::task::spawn_blocking(move || {
                parse::parse_feed(
                    &body,
                    ParseOptions {
                        content_type: ct.as_deref(),
                        base_url: Some(&base),
                    },
                )
            })
            .await;
            let (entries, older, wordpress) = match parsed {
                Ok(Ok(p)) => {
                    let wordpress = p
                        .generator
                        .as_deref()
                        .is_some_and(|g| g.to_ascii_lowercase().contains("wordpress"));
                    (p.entries, p.next_page.or(p.prev_archive), wordpress)
                }
                Ok(Err(e)) => {
                    out.errors.push(format!("{url}: {e}"));
                    self.record("page", feed, &url, Some(e.to_string())).await;
                    break;
                }
                Err(e) => {
                    out.errors.push(format!("{url}: parser crashed: {e}"));
                    break;
                }
            };
            let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
            if entries.is_empty() || previous_ids.as_ref() == Some(&ids) {
                debug!(page = %url, "empty or repeated page: end of the archive");
                self.record("page", feed, &url, None).await;
                break;
            }
            previous_ids = Some(ids);
            let dated: Vec<_> = entries
                .iter()
                .filter_map(|e| e.published.or(e.updated))
                .collect();
            let all_old = !dated.is_empty() && dated.iter().all(|d| self.job.too_old(Some(*d)));
            let mut found = Vec::new();
            for e in &entries {
                if self.job.too_old(e.published.or(e.updated)) {
                    out.skipped_old += 1;
                    continue;
                }
                let key = e
                    .link
                    .as_deref()
                    .and_then(canonical_url)
                    .unwrap_or_else(|| format!("feed:{}:{}", feed.id, e.id));
                found.push(Found {
                    key,
                    entry: e.clone(),
                });
            }
            let fresh = self.fresh(found, &mut out).await;
            let nothing_new = fresh.is_empty() && page_no > 1;
            // Where to go next: the document's own link, else WordPress paging.
            let next = older
                .as_deref()
                .and_then(|n| Url::parse(n).ok())
                .or_else(|| {
                    let wp = wordpress_page
                        .map(|n| n + 1)
                        .or(if wordpress && page_no == 1 {
                            Some(2)
                        } else {
                            None
                        })?;
                    wordpress_page = Some(wp);
                    Some(paging::wordpress_page(&first, wp))
                });
            let stop = all_old || nothing_new || next.is_none() || page_no == self.job.max_pages;
            let next_rec = if stop { None } else { next.clone() };
            let n = self
                .enqueue(feed, "page", &url, next_rec.as_ref(), fresh, &mut out)
                .await;
            info!(feed = %feed.url, page = %url, queued = n, "archive page read");
            if stop {
                break;
            }
            if let Some(next) = next {
                if older.is_some() {
                    wordpress_page = None;
                }
                url = next;
            }
        }
        out
    }

    /// Reads a feed's sitemaps (configured, else named by its site's
    /// robots.txt) and queues the articles they list.
    pub async fn feed_sitemaps(
        &self,
        feed: &FeedRow,
        site_url: Option<&str>,
        cfg: Option<&FeedConfig>,
    ) -> Discovery {
        let mut out = Discovery::default();
        let filter = match UrlFilter::new(
            cfg.map(|c| c.include.as_slice()).unwrap_or_default(),
            cfg.map(|c| c.exclude.as_slice()).unwrap_or_default(),
        ) {
            Ok(f) => f,
            Err(e) => {
                out.errors.push(format!("{}: {e}", feed.url));
                return out;
            }
        };
        let roots: Vec<Url> = match cfg.and_then(|c| c.sitemap.as_ref()) {
            Some(s) => vec![s.0.clone()],
            None => {
                let site = site_url
                    .and_then(|s| Url::parse(s).ok())
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .or_else(|| Url::parse(&feed.url).ok());
                let Some(site) = site else { return out };
                self.fetcher
                    .robots_rules(&site)
                    .await
                    .sitemaps()
                    .iter()
                    .filter_map(|s| Url::parse(s).ok())
                    .collect()
            }
        };
        for root in roots {
            let r = Box::pin(self.sitemap(feed, &root, &filter, 0)).await;
            out.add(r);
        }
        out
    }

    async fn sitemap(
        &self,
        feed: &FeedRow,
        url: &Url,
        filter: &UrlFilter,
        depth: usize,
    ) -> Discovery {
        let mut out = Discovery::default();
        if depth > MAX_SITEMAP_DEPTH {
            out.errors
                .push(format!("{url}: sitemap indexes nested too deep"));
            return out;
        }
        if !self.claim(url) {
            return out;
        }
        if !self.job.dry_run {
            let (job, u) = (self.job.key.clone(), url.to_string());
            if let Ok(Some(_)) = self
                .store
                .call(move |s| s.source_record(&job, "sitemap", &u))
                .await
            {
                out.sitemaps_resumed += 1;
                return out;
            }
        }
        let fetched = match self.fetcher.get(url, Kind::Feed, None).await {
            Ok(f) => f,
            Err(e) => {
                out.errors.push(e.to_string());
                self.record("sitemap", feed, url, Some(e.to_string())).await;
                return out;
            }
        };
        out.sitemaps += 1;
        let body = fetched.body;
        let parsed = tokio::task::spawn_blocking(move || sitemap::parse(&body)).await;
        let parsed = match parsed {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                out.errors.push(format!("{url}: {e}"));
                self.record("sitemap", feed, url, Some(e.to_string())).await;
                return out;
            }
            Err(e) => {
                out.errors
                    .push(format!("{url}: sitemap parser crashed: {e}"));
                return out;
            }
        };
        match parsed {
            Sitemap::Index(children) => {
                for c in children {
                    if self.job.too_old(c.lastmod) {
                        // Nothing in a sitemap last changed before --since is newer.
                        continue;
                    }
                    let Ok(child) = fetched.url.join(&c.loc) else {
                        out.errors
                            .push(format!("{url}: invalid child sitemap {:?}", c.loc));
                        continue;
                    };
                    let r = Box::pin(self.sitemap(feed, &child, filter, depth + 1)).await;
                    out.add(r);
                }
                self.enqueue(feed, "sitemap", url, None, Vec::new(), &mut out)
                    .await;
            }
            Sitemap::Urls(list) => {
                let found = self
                    .sitemap_urls(&fetched.url, list, filter, &mut out)
                    .await;
                let fresh = self.fresh(found, &mut out).await;
                let n = self
                    .enqueue(feed, "sitemap", url, None, fresh, &mut out)
                    .await;
                info!(feed = %feed.url, sitemap = %url, queued = n, "sitemap read");
            }
        }
        out
    }

    async fn sitemap_urls(
        &self,
        base: &Url,
        list: Vec<SitemapUrl>,
        filter: &UrlFilter,
        out: &mut Discovery,
    ) -> Vec<Found> {
        let mut found = Vec::new();
        for u in list {
            if self.job.too_old(u.date()) {
                out.skipped_old += 1;
                continue;
            }
            let Some(abs) = base.join(&u.loc).ok() else {
                out.skipped_filtered += 1;
                continue;
            };
            let Some(key) = canonical_url(abs.as_str()) else {
                out.skipped_filtered += 1;
                continue;
            };
            if !filter.accepts(&key) {
                out.skipped_filtered += 1;
                continue;
            }
            if !self.robots_allow(&abs).await {
                out.skipped_robots += 1;
                continue;
            }
            found.push(Found {
                entry: entry_from_url(abs.as_str(), u.title.clone(), u.date()),
                key,
            });
        }
        found
    }

    async fn robots_allow(&self, url: &Url) -> bool {
        if !self.respect_robots {
            return true;
        }
        match &*self.fetcher.robots_rules(url).await {
            Rules::Parsed(r) => r.allowed(url.as_str()),
            // An unreadable robots.txt defers the decision to fetch time.
            Rules::AllowAll | Rules::Unreachable(_) => true,
        }
    }

    /// Queues the articles of a URL list, each attributed to the feed of
    /// its site, else to the synthetic "manual" feed.
    pub async fn url_list(
        &self,
        list: &[Url],
        feeds: &[(FeedRow, Option<String>)],
        manual: &FeedRow,
        source: &str,
    ) -> Discovery {
        let mut out = Discovery::default();
        let host_of = |u: &str| {
            Url::parse(u).ok().and_then(|u| {
                u.host_str()
                    .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
            })
        };
        let mut by_host: HashMap<String, &FeedRow> = HashMap::new();
        for (f, site) in feeds {
            for h in [host_of(&f.url), site.as_deref().and_then(host_of)]
                .into_iter()
                .flatten()
            {
                by_host.entry(h).or_insert(f);
            }
        }
        let mut groups: HashMap<i64, (FeedRow, Vec<Found>)> = HashMap::new();
        for u in list {
            let Some(key) = canonical_url(u.as_str()) else {
                continue;
            };
            if self.job.dry_run || self.robots_allow(u).await {
                let feed = host_of(u.as_str())
                    .and_then(|h| by_host.get(&h).copied())
                    .unwrap_or(manual);
                groups
                    .entry(feed.id)
                    .or_insert_with(|| (feed.clone(), Vec::new()))
                    .1
                    .push(Found {
                        key,
                        entry: entry_from_url(u.as_str(), None, None),
                    });
            } else {
                out.skipped_robots += 1;
            }
        }
        for (_, (feed, found)) in groups {
            let fresh = self.fresh(found, &mut out).await;
            if self.job.dry_run {
                out.would_fetch
                    .extend(fresh.into_iter().map(|f| f.entry.link.unwrap_or(f.key)));
                continue;
            }
            let queued = to_queued(feed.id, fresh);
            let job = self.job.key.clone();
            let src = source.to_string();
            match self
                .store
                .call(move |s| {
                    // A URL list is not a source that is "done": adding the
                    // same list again only queues what is not queued yet.
                    s.queue_only(&job, &src, &queued)
                })
                .await
            {
                Ok(n) => out.queued += n as u64,
                Err(e) => out.errors.push(format!("{source}: {e}")),
            }
        }
        out
    }

    /// Keeps the candidates that are neither stored nor queued already
    /// (and not twice the same).
    async fn fresh(&self, found: Vec<Found>, _out: &mut Discovery) -> Vec<Found> {
        let mut seen = HashSet::new();
        let found: Vec<Found> = found
            .into_iter()
            .filter(|f| seen.insert(f.key.clone()))
            .collect();
        let keys: Vec<String> = found.iter().map(|f| f.key.clone()).collect();
        let job = self.job.key.clone();
        let known = match self.store.call(move |s| s.known_keys(&job, &keys)).await {
            Ok(k) => k,
            Err(e) => {
                warn!(error = %e, "checking known articles failed");
                HashSet::new()
            }
        };
        found
            .into_iter()
            .filter(|f| !known.contains(&f.key))
            .collect()
    }

    /// Records a source as done and queues its fresh articles (or, in a dry
    /// run, lists them). Returns how many were queued.
    async fn enqueue(
        &self,
        feed: &FeedRow,
        kind: &'static str,
        url: &Url,
        next: Option<&Url>,
        fresh: Vec<Found>,
        out: &mut Discovery,
    ) -> usize {
        if self.job.dry_run {
            let n = fresh.len();
            out.would_fetch
                .extend(fresh.into_iter().map(|f| f.entry.link.unwrap_or(f.key)));
            return n;
        }
        let queued = to_queued(feed.id, fresh);
        match self
            .finish(kind, feed, url, next.map(Url::to_string), None, queued)
            .await
        {
            Ok(n) => {
                out.queued += n as u64;
                n
            }
            Err(e) => {
                out.errors.push(format!("{url}: {e}"));
                0
            }
        }
    }

    /// Records a page or sitemap that ended without queueing anything
    /// (the end of an archive, or a failure).
    async fn record(&self, kind: &'static str, feed: &FeedRow, url: &Url, failed: Option<String>) {
        if !self.job.dry_run
            && let Err(e) = self.finish(kind, feed, url, None, failed, Vec::new()).await
        {
            warn!(error = %e, %url, "recording backfill progress failed");
        }
    }

    /// Records a source of this job as finished, with the articles it
    /// queues, in one transaction.
    async fn finish(
        &self,
        kind: &'static str,
        feed: &FeedRow,
        url: &Url,
        next_url: Option<String>,
        failed: Option<String>,
        queued: Vec<NewQueued>,
    ) -> Result<usize, crate::store::StoreError> {
        let (job, url, feed_id) = (self.job.key.clone(), url.to_string(), feed.id);
        self.store
            .call(move |s| {
                let done = SourceDone {
                    job: &job,
                    kind,
                    url: &url,
                    feed_id: Some(feed_id),
                    failed,
                    next_url,
                };
                s.finish_source(&done, &queued)
            })
            .await
    }
}

/// The page number of a WordPress `?paged=N` URL of `feed`, if it is one.
fn wp_page_number(url: &Url, feed: &Url) -> Option<usize> {
    if url.path() != feed.path() || url.host_str() != feed.host_str() {
        return None;
    }
    url.query_pairs()
        .find(|(k, _)| k == "paged")
        .and_then(|(_, v)| v.parse().ok())
}

/// What draining the queue did.
#[derive(Debug, Clone, Default)]
pub struct Drained {
    pub processed: u64,
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub articles_extracted: u64,
    pub articles_failed: u64,
    pub flagged: u64,
    pub store_errors: u64,
}

/// Processes a job's queued articles through the pipeline, `concurrency`
/// at a time; `progress(done, total)` after each.
pub async fn drain(
    pipeline: &Pipeline,
    store: &StoreHandle,
    job: &Job,
    feeds: &HashMap<i64, FeedRow>,
    concurrency: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Drained {
    let mut out = Drained::default();
    let key = job.key.clone();
    let total = match store.call(move |s| s.queue_counts(&key)).await {
        Ok((pending, _)) => pending.max(0) as u64,
        Err(e) => {
            warn!(error = %e, "reading the backfill queue failed");
            return out;
        }
    };
    let mut after = 0i64;
    loop {
        let key = job.key.clone();
        let rows = match store.call(move |s| s.pending_queue(&key, after, 256)).await {
            Ok(r) => r,
            Err(e) => {
                warn!(error = %e, "reading the backfill queue failed");
                break;
            }
        };
        let Some(last) = rows.last() else { break };
        after = last.id;
        let mut results = futures_util::stream::iter(rows)
            .map(|row| async move {
                let feed = feeds.get(&row.feed_id)?;
                let entry: Entry = match serde_json::from_str(&row.entry) {
                    Ok(e) => e,
                    Err(e) => {
                        warn!(queue_id = row.id, error = %e, "unreadable queue entry skipped");
                        return None;
                    }
                };
                Some(pipeline.process_entry(feed, entry, Some(row.id)).await)
            })
            .buffer_unordered(concurrency.max(1));
        while let Some(r) = results.next().await {
            out.processed += 1;
            if let Some(o) = r {
                out.new += u64::from(o.new);
                out.updated += u64::from(o.updated);
                out.unchanged += u64::from(o.unchanged);
                out.articles_extracted += u64::from(o.article_extracted);
                out.articles_failed += u64::from(o.article_failed);
                out.flagged += u64::from(!o.flagged.is_empty());
                out.store_errors += u64::from(o.store_error);
            }
            progress(out.processed, total);
        }
    }
    out
}
