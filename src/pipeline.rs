//! The shared pipeline: fetch → parse → fetch article → extract → classify
//! → store, for one feed at a time. `backfill` runs it once over every
//! feed; `run` runs it on a schedule. Neither holds any domain logic of its
//! own.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use tracing::{Instrument, debug, info, info_span, warn};
use url::Url;

use crate::charset::{self, DocKind};
use crate::classify::{Classification, Classifier};
use crate::extract::{self, Extractor};
use crate::fetch::{self, FetchError, Fetcher, Kind, Validators};
use crate::parse::{self, Entry, ParseOptions, link::canonical_url};
use crate::store::archive::{RetryItem, StoredArticle};
use crate::store::writer::StoreHandle;
use crate::store::{FeedRow, FetchRecord, ItemRecord, Known, RawPage, Written};
use crate::timefmt::to_db;

/// Knobs of one pipeline run.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// Fetch and extract article pages (`false`: store feed content only).
    pub fetch_articles: bool,
    /// Skip entries dated before this.
    pub since: Option<DateTime<Utc>>,
    /// Article fetches that failed transiently are retried on later runs
    /// until an item has had this many attempts.
    pub max_article_attempts: i64,
    /// Wait before retrying a transiently failed article; doubles per attempt.
    pub article_retry_delay: Duration,
    /// Entries of one feed processed at once (HTTP concurrency is bounded
    /// separately by the fetcher).
    pub entry_concurrency: usize,
    /// Keep raw pages (mirrors `[store] keep_raw_pages`; the writer applies it
    /// to item writes, this to article retries).
    pub keep_raw_pages: bool,
    /// Fetch a feed without validators when its last such fetch is older
    /// than this (servers with broken ETag handling hide new entries).
    pub unconditional_every: Option<Duration>,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            fetch_articles: true,
            since: None,
            max_article_attempts: 3,
            article_retry_delay: Duration::from_secs(300),
            entry_concurrency: 4,
            keep_raw_pages: true,
            unconditional_every: Some(Duration::from_secs(12 * 3600)),
        }
    }
}

impl PipelineOptions {
    /// The options a configuration implies (front-ends may override some).
    pub fn from_config(cfg: &crate::config::Config) -> PipelineOptions {
        PipelineOptions {
            fetch_articles: true,
            since: None,
            max_article_attempts: i64::from(cfg.daemon.article_attempts),
            article_retry_delay: cfg.daemon.article_retry_delay.0,
            entry_concurrency: cfg.fetch.per_host_concurrency.clamp(1, 8),
            keep_raw_pages: cfg.store.keep_raw_pages,
            unconditional_every: Some(cfg.schedule.unconditional_every.0),
        }
    }
}

/// A failure is not counted against a feed when it looks like the network's
/// fault and no server at all has answered for this long.
const NETWORK_QUIET: Duration = Duration::from_secs(300);

/// The stage at which a feed failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Fetch,
    Parse,
    Store,
}

/// How the feed document itself went.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FeedOutcome {
    Fetched,
    NotModified,
    Failed { stage: Stage, error: String },
}

/// What one feed contributed to a run.
#[derive(Debug, Clone, Serialize)]
pub struct FeedReport {
    pub feed_id: i64,
    pub feed: String,
    pub outcome: FeedOutcome,
    pub entries: u64,
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub skipped_old: u64,
    pub articles_extracted: u64,
    pub articles_failed: u64,
    /// Items flagged in this run, by label.
    pub flagged: BTreeMap<String, u64>,
    /// Entries that could not be stored (database errors).
    pub store_errors: u64,
    /// What the fetch said about polling: used by the scheduler.
    #[serde(skip)]
    pub hints: FetchHints,
}

/// What one fetch of a feed tells the scheduler.
#[derive(Debug, Clone, Default)]
pub struct FetchHints {
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// `Retry-After` of a 429/503.
    pub retry_after: Option<Duration>,
    /// `Cache-Control: max-age`.
    pub max_age: Option<Duration>,
    /// RSS `<ttl>`.
    pub ttl: Option<Duration>,
    /// Publication dates of the entries in the document (all of them,
    /// including those skipped as unchanged).
    pub entry_dates: Vec<DateTime<Utc>>,
    /// The failure was recorded but not counted (the network looked down).
    pub failure_not_counted: bool,
    /// Short error class for metrics (`http_status`, `timeout`, `parse`...).
    pub error_class: Option<&'static str>,
    /// How long the feed request took (to the last body byte).
    pub fetch_duration: Option<Duration>,
    /// sy:updatePeriod × sy:updateFrequency, when the feed declares it.
    pub update_period: Option<Duration>,
}

impl FeedReport {
    fn new(feed: &FeedRow, outcome: FeedOutcome) -> FeedReport {
        FeedReport {
            feed_id: feed.id,
            feed: feed.url.clone(),
            outcome,
            entries: 0,
            new: 0,
            updated: 0,
            unchanged: 0,
            skipped_old: 0,
            articles_extracted: 0,
            articles_failed: 0,
            flagged: BTreeMap::new(),
            store_errors: 0,
            hints: FetchHints::default(),
        }
    }

    pub fn ok(&self) -> bool {
        !matches!(self.outcome, FeedOutcome::Failed { .. })
    }
}

/// What happened to one entry.
#[derive(Debug, Default)]
pub struct EntryOutcome {
    pub new: bool,
    pub updated: bool,
    /// Known and unchanged, or known through another feed (only linked).
    pub unchanged: bool,
    pub article_extracted: bool,
    pub article_failed: bool,
    pub flagged: Vec<String>,
    pub store_error: bool,
}

/// One async lock per item key, so two feeds carrying the same new article
/// in the same run do not fetch it twice: the second waits, then finds it.
#[derive(Default)]
struct KeyLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl KeyLocks {
    async fn lock(&self, key: &str) -> KeyGuard<'_> {
        let m = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(key.to_string()).or_default().clone()
        };
        let guard = m.clone().lock_owned().await;
        KeyGuard {
            owner: self,
            key: key.to_string(),
            _guard: guard,
        }
    }
}

struct KeyGuard<'a> {
    owner: &'a KeyLocks,
    key: String,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        let mut locks = self.owner.locks.lock().unwrap_or_else(|p| p.into_inner());
        // Drop the entry when nobody else holds or waits for it (the map
        // and this guard's mutex are the only two references).
        if locks
            .get(&self.key)
            .is_some_and(|m| Arc::strong_count(m) <= 2)
        {
            locks.remove(&self.key);
        }
    }
}

/// The pipeline, shared by all feed tasks of a run.
pub struct Pipeline {
    fetcher: Arc<Fetcher>,
    extractor: Arc<Extractor>,
    classifier: Arc<Classifier>,
    store: StoreHandle,
    opts: PipelineOptions,
    keys: KeyLocks,
}

/// The article-side fields of an item.
#[derive(Debug, Clone)]
pub struct ArticleOutcome {
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    pub body: String,
    /// `items.extraction_status`
    pub status: &'static str,
    /// `items.extraction_error`
    pub error: Option<String>,
    pub raw_page: Option<RawPage>,
}

impl Pipeline {
    pub fn new(
        fetcher: Arc<Fetcher>,
        extractor: Arc<Extractor>,
        classifier: Arc<Classifier>,
        store: StoreHandle,
        opts: PipelineOptions,
    ) -> Pipeline {
        Pipeline {
            fetcher,
            extractor,
            classifier,
            store,
            opts,
            keys: KeyLocks::default(),
        }
    }

    /// Processes one feed: fetches it, stores every new or changed entry
    /// with its article, labels and raw page, and records the fetch on the
    /// feed. Never panics and never returns an error: failures are recorded
    /// on the feed and reported.
    pub async fn process_feed(&self, feed: &FeedRow) -> FeedReport {
        let span = info_span!("feed", feed_id = feed.id, feed = %feed.url);
        self.process_feed_inner(feed).instrument(span).await
    }

    async fn process_feed_inner(&self, feed: &FeedRow) -> FeedReport {
        let url = match Url::parse(&feed.url) {
            Ok(u) => u,
            Err(e) => {
                let error = format!("invalid feed URL {}: {e}", feed.url);
                let hints = FetchHints {
                    error_class: Some("invalid_url"),
                    ..FetchHints::default()
                };
                return self
                    .fail(feed, Stage::Fetch, FetchRecord::failure(None, error), hints)
                    .await;
            }
        };
        let unconditional = self.opts.unconditional_every.is_some_and(|every| {
            feed.last_fetch_at.is_some()
                && feed
                    .last_unconditional_at
                    .as_deref()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .is_none_or(|t| {
                        (Utc::now() - t.with_timezone(&Utc))
                            .to_std()
                            .is_ok_and(|age| age >= every)
                    })
        });
        let validators = Validators {
            etag: feed.etag.clone(),
            last_modified: feed.last_modified.clone(),
        };
        let validators = (!unconditional).then_some(&validators);
        if unconditional {
            debug!("fetching without validators (periodic unconditional fetch)");
        }
        let started = std::time::Instant::now();
        let fetched = match self.fetcher.get(&url, Kind::Feed, validators).await {
            Ok(f) => f,
            Err(e) => {
                let mut report = self.fail_fetch(feed, e).await;
                report.hints.fetch_duration = Some(started.elapsed());
                return report;
            }
        };
        let fetch_duration = started.elapsed();
        let mut record = FetchRecord {
            status: Some(fetched.status),
            error: None,
            etag: fetched.etag.clone(),
            last_modified: fetched.last_modified.clone(),
            moved_to: fetched.moved_to.as_ref().map(Url::to_string),
            feed_title: None,
            site_url: None,
            count_failure: true,
            unconditional: unconditional || feed.last_fetch_at.is_none(),
        };
        let mut hints = FetchHints {
            status: Some(fetched.status),
            max_age: fetched.max_age,
            fetch_duration: Some(fetch_duration),
            ..FetchHints::default()
        };
        if fetched.not_modified() {
            debug!("not modified");
            self.record(feed, record).await;
            let mut report = FeedReport::new(feed, FeedOutcome::NotModified);
            report.hints = hints;
            return report;
        }

        let base = fetched.url.clone();
        let content_type = fetched.content_type.clone();
        let body = fetched.body;
        let parsed = tokio::task::spawn_blocking(move || {
            parse::parse_feed(
                &body,
                ParseOptions {
                    content_type: content_type.as_deref(),
                    base_url: Some(&base),
                },
            )
        })
        .await;
        let parsed = match parsed {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                let error = format!("{}: {e}", fetched.url);
                hints.error_class = Some("parse");
                let record = FetchRecord::failure(Some(fetched.status), error);
                return self.fail(feed, Stage::Parse, record, hints).await;
            }
            Err(join) => {
                let error = format!("{}: parser crashed: {join}", fetched.url);
                hints.error_class = Some("parse");
                let record = FetchRecord::failure(Some(fetched.status), error);
                return self.fail(feed, Stage::Parse, record, hints).await;
            }
        };
        for w in &parsed.warnings {
            warn!(warning = %w, "feed parsed with problems");
        }
        record.feed_title = parsed.title.clone();
        record.site_url = parsed.site_url.clone();
        self.record(feed, record).await;

        let mut report = FeedReport::new(feed, FeedOutcome::Fetched);
        hints.ttl = parsed.ttl;
        hints.update_period = parsed.update_interval;
        hints.entry_dates = parsed
            .entries
            .iter()
            .filter_map(|e| e.published.or(e.updated))
            .collect();
        report.hints = hints;
        report.entries = parsed.entries.len() as u64;
        let since = self.opts.since;
        let (old, current): (Vec<Entry>, Vec<Entry>) =
            parsed
                .entries
                .into_iter()
                .partition(|e| match (since, e.published.or(e.updated)) {
                    (Some(since), Some(date)) => date < since,
                    _ => false,
                });
        report.skipped_old = old.len() as u64;

        let mut outcomes = futures_util::stream::iter(current)
            .map(|entry| self.process_entry(feed, entry, None))
            .buffer_unordered(self.opts.entry_concurrency.max(1));
        while let Some(o) = outcomes.next().await {
            report.new += u64::from(o.new);
            report.updated += u64::from(o.updated);
            report.unchanged += u64::from(o.unchanged);
            report.articles_extracted += u64::from(o.article_extracted);
            report.articles_failed += u64::from(o.article_failed);
            report.store_errors += u64::from(o.store_error);
            for label in o.flagged {
                *report.flagged.entry(label).or_default() += 1;
            }
        }
        info!(
            entries = report.entries,
            new = report.new,
            updated = report.updated,
            unchanged = report.unchanged,
            "feed done"
        );
        report
    }

    async fn record(&self, feed: &FeedRow, record: FetchRecord) {
        let id = feed.id;
        if let Err(e) = self.store.call(move |s| s.record_fetch(id, &record)).await {
            warn!(error = %e, "could not record the fetch on the feed");
        }
    }

    async fn fail_fetch(&self, feed: &FeedRow, e: FetchError) -> FeedReport {
        let mut record = FetchRecord::failure(e.status(), e.to_string());
        let mut hints = FetchHints {
            status: e.status(),
            error_class: Some(e.class()),
            ..FetchHints::default()
        };
        if let FetchError::Status { retry_after, .. } = &e {
            hints.retry_after = *retry_after;
        }
        if e.is_network_suspect() && self.fetcher.no_response_within(NETWORK_QUIET) {
            // Nothing answers at all: the network is down, not this feed.
            record.count_failure = false;
            hints.failure_not_counted = true;
        }
        self.fail(feed, Stage::Fetch, record, hints).await
    }

    async fn fail(
        &self,
        feed: &FeedRow,
        stage: Stage,
        record: FetchRecord,
        hints: FetchHints,
    ) -> FeedReport {
        let error = record.error.clone().unwrap_or_default();
        warn!(stage = ?stage, error = %error, counted = record.count_failure, "feed failed");
        self.record(feed, record).await;
        let mut report = FeedReport::new(feed, FeedOutcome::Failed { stage, error });
        report.hints = hints;
        report
    }

    /// Stores one entry of `feed` (fetching, extracting and classifying its
    /// article) unless it is known and unchanged. `queue_id` is the history
    /// backfill queue row it came from, marked done with the write.
    pub async fn process_entry(
        &self,
        feed: &FeedRow,
        entry: Entry,
        queue_id: Option<i64>,
    ) -> EntryOutcome {
        let span = info_span!("item", entry = %entry.id);
        let out = self
            .process_entry_inner(feed, entry, queue_id)
            .instrument(span)
            .await;
        if let (Some(q), true) = (queue_id, out.unchanged)
            && let Err(e) = self.store.call(move |s| s.mark_queue_done(q)).await
        {
            warn!(error = %e, "marking a queued article done failed");
        }
        out
    }

    async fn process_entry_inner(
        &self,
        feed: &FeedRow,
        entry: Entry,
        queue_id: Option<i64>,
    ) -> EntryOutcome {
        let mut out = EntryOutcome::default();
        let canonical = entry.link.as_deref().and_then(canonical_url);
        let item_key = canonical
            .clone()
            .unwrap_or_else(|| format!("feed:{}:{}", feed.id, entry.id));
        let entry_hash = entry_hash(&entry);
        let _claim = self.keys.lock(&item_key).await;

        let (feed_id, entry_id, key) = (feed.id, entry.id.clone(), item_key.clone());
        let known = match self
            .store
            .call(move |s| s.lookup(feed_id, &entry_id, &key))
            .await
        {
            Ok(k) => k,
            Err(e) => {
                warn!(error = %e, "lookup failed");
                out.store_error = true;
                return out;
            }
        };
        match known {
            Known::InFeed {
                entry_hash: ref h,
                ref extraction_status,
                extraction_attempts,
                ..
            } if *h == entry_hash
                && !(self.opts.fetch_articles
                    && retryable(extraction_status)
                    && extraction_attempts < self.opts.max_article_attempts) =>
            {
                out.unchanged = true;
                return out;
            }
            Known::OtherFeed { item_id } => {
                let (entry_id, hash) = (entry.id.clone(), entry_hash.clone());
                if let Err(e) = self
                    .store
                    .call(move |s| s.link_item(item_id, feed_id, &entry_id, &hash))
                    .await
                {
                    warn!(error = %e, "linking item to feed failed");
                    out.store_error = true;
                } else {
                    out.unchanged = true;
                }
                return out;
            }
            _ => {}
        }
        let is_new = known == Known::New;
        let attempts_before = match known {
            Known::InFeed {
                extraction_attempts,
                ..
            } => extraction_attempts,
            _ => 0,
        };

        let feed_html = entry.content.as_deref().or(entry.summary.as_deref());
        let feed_text = feed_html
            .map(extract::html_fragment_to_text)
            .unwrap_or_default();
        let mut article = self.article(canonical.as_deref(), &feed_text).await;
        let next_retry_at = self.retry_policy(&mut article, attempts_before);
        match article.status {
            "ok" => out.article_extracted = true,
            "fetch_failed" | "fetch_retry" | "blocked" | "not_html" | "feed_content" => {
                out.article_failed = true
            }
            _ => {}
        }

        let title = entry.title.clone().or(article.title.clone());
        let classification: Classification = {
            let classifier = self.classifier.clone();
            let (t, b) = (title.clone().unwrap_or_default(), article.body.clone());
            match tokio::task::spawn_blocking(move || classifier.classify(&t, &b)).await {
                Ok(c) => c,
                Err(e) => {
                    warn!(error = %e, "classifier crashed");
                    out.store_error = true;
                    return out;
                }
            }
        };
        out.flagged = classification
            .flagged()
            .into_iter()
            .map(str::to_string)
            .collect();

        let record = ItemRecord {
            feed_id: feed.id,
            entry_id: entry.id.clone(),
            entry_hash,
            item_key,
            url: canonical.or(entry.link.clone()),
            guid: entry.guid.clone(),
            title,
            authors: if article.authors.is_empty() {
                entry.authors.clone()
            } else {
                article.authors.clone()
            },
            published_at: entry.published.or(article.published).map(to_db),
            updated_at: entry.updated.map(to_db),
            summary: entry
                .summary
                .as_deref()
                .map(extract::html_fragment_to_text)
                .filter(|s| !s.is_empty()),
            body: article.body,
            lang: article.lang,
            extraction_status: article.status.to_string(),
            extraction_error: article.error,
            raw_page: article.raw_page,
            classification: Some(classification),
            classifier_version: self.classifier.version().to_string(),
            next_retry_at,
            queue_id,
        };
        match self.store.write_item(record).await {
            Ok(Written::Inserted(_)) => {
                out.new = is_new;
                out.updated = !is_new;
            }
            Ok(Written::Updated(_)) => out.updated = true,
            Err(e) => {
                warn!(error = %e, "storing item failed");
                out.store_error = true;
                out.flagged.clear();
            }
        }
        out
    }

    /// Retries the article fetch of an item whose earlier attempt failed
    /// transiently; stores the outcome. Returns the new extraction status.
    pub async fn retry_article(&self, item: RetryItem) -> &'static str {
        let span = info_span!("item", item_id = item.article.item_id, url = %item.url);
        async move {
            let old = item.article;
            // While the fetch was failing, the body was the feed's text.
            let mut article = self.article(Some(&item.url), &old.body).await;
            let next_retry_at = self.retry_policy(&mut article, item.attempts);
            let new = StoredArticle {
                item_id: old.item_id,
                title: old.title.clone().or(article.title.clone()),
                authors: if article.authors.is_empty() {
                    old.authors.clone()
                } else {
                    article.authors.clone()
                },
                published_at: old.published_at.clone().or(article.published.map(to_db)),
                lang: article.lang.clone().or(old.lang.clone()),
                body: article.body.clone(),
                summary: old.summary.clone(),
                extraction_status: article.status.to_string(),
                extraction_error: article.error.clone(),
            };
            let classifier = self.classifier.clone();
            let (t, b) = (new.title.clone().unwrap_or_default(), new.body.clone());
            let Ok(classification) =
                tokio::task::spawn_blocking(move || classifier.classify(&t, &b)).await
            else {
                return "fetch_retry";
            };
            let version = self.classifier.version().to_string();
            let keep = self.opts.keep_raw_pages;
            let raw = article.raw_page.take();
            let status = article.status;
            let res = self
                .store
                .call(move |s| {
                    s.write_retry(
                        &new,
                        raw.as_ref(),
                        &classification,
                        &version,
                        next_retry_at.as_deref(),
                        keep,
                    )
                })
                .await;
            if let Err(e) = res {
                warn!(error = %e, "storing article retry failed");
            }
            debug!(status, "article retried");
            status
        }
        .instrument(span)
        .await
    }

    /// After a transient failure: when the next retry is due, or, once the
    /// attempts are used up, turns the failure into a permanent one.
    fn retry_policy(&self, article: &mut ArticleOutcome, attempts_before: i64) -> Option<String> {
        if article.status != "fetch_retry" {
            return None;
        }
        let attempt = attempts_before + 1;
        if attempt >= self.opts.max_article_attempts {
            article.status = "fetch_failed";
            article.error = article
                .error
                .take()
                .map(|e| format!("gave up after {attempt} attempts: {e}"));
            return None;
        }
        let factor = 1u32 << attempts_before.clamp(0, 16) as u32;
        let delay = self.opts.article_retry_delay.saturating_mul(factor);
        let delay = chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::days(1));
        Some(to_db(Utc::now() + delay))
    }

    /// Fetches and extracts the article page; falls back to the feed's own
    /// text when there is no page or it holds too little.
    async fn article(&self, link: Option<&str>, feed_text: &str) -> ArticleOutcome {
        let fallback = |status: &'static str, error: Option<String>| ArticleOutcome {
            title: None,
            authors: Vec::new(),
            published: None,
            lang: None,
            body: feed_text.to_string(),
            status,
            error,
            raw_page: None,
        };
        if !self.opts.fetch_articles {
            return fallback("skipped", None);
        }
        let Some(url) = link.and_then(|l| Url::parse(l).ok()) else {
            return fallback("no_link", None);
        };
        let page = match self.fetcher.get(&url, Kind::Page, None).await {
            Ok(p) => p,
            Err(e) => {
                let status = match e {
                    FetchError::NonPublic { .. } | FetchError::RobotsDisallowed { .. } => "blocked",
                    _ if e.is_transient() => "fetch_retry",
                    _ => "fetch_failed",
                };
                debug!(error = %e, status, "article fetch failed");
                return fallback(status, Some(e.to_string()));
            }
        };
        if !fetch::is_html(page.content_type.as_deref()) {
            let ct = page.content_type.clone().unwrap_or_default();
            return fallback(
                "not_html",
                Some(format!(
                    "{}: not an HTML page (Content-Type {ct})",
                    page.url
                )),
            );
        }
        let extractor = self.extractor.clone();
        let page_url = page.url.clone();
        let content_type = page.content_type.clone();
        let raw = page.body;
        let feed_text = feed_text.to_string();
        let result = tokio::task::spawn_blocking(move || {
            let fields = extract_page(
                &extractor,
                &raw,
                content_type.as_deref(),
                &page_url,
                &feed_text,
            );
            (fields, raw)
        })
        .await;
        let (mut fields, raw) = match result {
            Ok(r) => r,
            Err(e) => {
                return fallback(
                    "fetch_failed",
                    Some(format!("{url}: extractor crashed: {e}")),
                );
            }
        };
        fields.raw_page = Some(RawPage {
            url: page.url.to_string(),
            http_status: page.status,
            content_type: page.content_type.clone(),
            body: raw,
        });
        fields
    }
}

/// Extracts an HTML page fetched from `url` (pure: also used by
/// `reextract` on stored pages). When the page holds too little text and
/// the feed's own content is longer, the feed's content is the body and the
/// status says so.
pub fn extract_page(
    extractor: &Extractor,
    raw: &[u8],
    content_type: Option<&str>,
    url: &Url,
    feed_text: &str,
) -> ArticleOutcome {
    let text = charset::decode(raw, content_type, DocKind::Html).text;
    let article = extractor.extract(&text, Some(url));
    let too_little = article.body.chars().count() < extract::MIN_BODY_CHARS;
    let (body, status) = if too_little && feed_text.len() > article.body.len() {
        (feed_text.to_string(), "feed_content")
    } else {
        (article.body, "ok")
    };
    ArticleOutcome {
        title: article.title,
        authors: article.authors,
        published: article.published,
        lang: article.lang,
        body,
        status,
        error: (status == "feed_content")
            .then(|| format!("{url}: page text too short, kept the feed's content")),
        raw_page: None,
    }
}

/// Article outcomes worth trying again on a later run: transient fetch
/// failures (timeouts, 5xx, 429, connection errors).
fn retryable(extraction_status: &str) -> bool {
    extraction_status == "fetch_retry"
}

/// A hash of an entry as the feed gave it; a change means the entry was
/// edited and the item is updated.
fn entry_hash(e: &Entry) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let date = |d: Option<DateTime<Utc>>| d.map(to_db).unwrap_or_default();
    for part in [
        e.title.as_deref().unwrap_or(""),
        e.link.as_deref().unwrap_or(""),
        e.summary.as_deref().unwrap_or(""),
        e.content.as_deref().unwrap_or(""),
        &date(e.published),
        &date(e.updated),
        &e.authors.join("\u{1f}"),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}
