//! The shared pipeline: fetch → parse → fetch article → extract → classify
//! → store, for one feed at a time. `backfill` runs it once over every
//! feed; `run` runs it on a schedule. Neither holds any domain logic of its
//! own.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

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
    /// Entries of one feed processed at once (HTTP concurrency is bounded
    /// separately by the fetcher).
    pub entry_concurrency: usize,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            fetch_articles: true,
            since: None,
            max_article_attempts: 3,
            entry_concurrency: 4,
        }
    }
}

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
        }
    }

    pub fn ok(&self) -> bool {
        !matches!(self.outcome, FeedOutcome::Failed { .. })
    }
}

/// What happened to one entry.
#[derive(Debug, Default)]
struct EntryOutcome {
    new: bool,
    updated: bool,
    unchanged: bool,
    article_extracted: bool,
    article_failed: bool,
    flagged: Vec<String>,
    store_error: bool,
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
                return self.fail(feed, Stage::Fetch, None, error).await;
            }
        };
        let validators = Validators {
            etag: feed.etag.clone(),
            last_modified: feed.last_modified.clone(),
        };
        let fetched = match self.fetcher.get(&url, Kind::Feed, Some(&validators)).await {
            Ok(f) => f,
            Err(e) => {
                let status = e.status();
                return self.fail(feed, Stage::Fetch, status, e.to_string()).await;
            }
        };
        let mut record = FetchRecord {
            status: Some(fetched.status),
            error: None,
            etag: fetched.etag.clone(),
            last_modified: fetched.last_modified.clone(),
            moved_to: fetched.moved_to.as_ref().map(Url::to_string),
            feed_title: None,
            site_url: None,
        };
        if fetched.not_modified() {
            debug!("not modified");
            self.record(feed, record).await;
            return FeedReport::new(feed, FeedOutcome::NotModified);
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
                return self
                    .fail(feed, Stage::Parse, Some(fetched.status), error)
                    .await;
            }
            Err(join) => {
                let error = format!("{}: parser crashed: {join}", fetched.url);
                return self
                    .fail(feed, Stage::Parse, Some(fetched.status), error)
                    .await;
            }
        };
        for w in &parsed.warnings {
            warn!(warning = %w, "feed parsed with problems");
        }
        record.feed_title = parsed.title.clone();
        record.site_url = parsed.site_url.clone();
        self.record(feed, record).await;

        let mut report = FeedReport::new(feed, FeedOutcome::Fetched);
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
            .map(|entry| self.process_entry(feed, entry))
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

    async fn fail(
        &self,
        feed: &FeedRow,
        stage: Stage,
        status: Option<u16>,
        error: String,
    ) -> FeedReport {
        warn!(stage = ?stage, error = %error, "feed failed");
        let record = FetchRecord {
            status,
            error: Some(error.clone()),
            ..Default::default()
        };
        self.record(feed, record).await;
        FeedReport::new(feed, FeedOutcome::Failed { stage, error })
    }

    async fn process_entry(&self, feed: &FeedRow, entry: Entry) -> EntryOutcome {
        let span = info_span!("item", entry = %entry.id);
        self.process_entry_inner(feed, entry).instrument(span).await
    }

    async fn process_entry_inner(&self, feed: &FeedRow, entry: Entry) -> EntryOutcome {
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

        let feed_html = entry.content.as_deref().or(entry.summary.as_deref());
        let feed_text = feed_html
            .map(extract::html_fragment_to_text)
            .unwrap_or_default();
        let article = self.article(canonical.as_deref(), &feed_text).await;
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
                    FetchError::NonPublic { .. } => "blocked",
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
