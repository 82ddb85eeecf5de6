//! Re-running stages over the archive, without fetching anything: a better
//! extractor (`reextract`) or new classifier rules (`reclassify`) improve
//! every stored item, not just new ones.
//!
//! Work goes in batches: each batch is read, processed in memory, and
//! written in one transaction, so memory stays bounded and an interrupted
//! run leaves every item either old or new, never half-done.

use thiserror::Error;
use url::Url;

use crate::classify::Classifier;
use crate::extract::Extractor;
use crate::pipeline::extract_page;
use crate::store::archive::{Rework, ReworkCounts, StoredArticle};
use crate::store::{Store, StoreError};
use crate::timefmt::to_db;

#[derive(Debug, Error)]
pub enum ReworkError {
    #[error("unknown label {label:?}: the classifier rules define {known}")]
    UnknownLabel { label: String, known: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Items per transaction.
pub const BATCH: usize = 200;

/// Totals of a `reextract` or `reclassify` run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReworkReport {
    /// Items looked at.
    pub items: u64,
    /// Items skipped (page missing or unreadable).
    pub skipped: u64,
    pub counts: ReworkCounts,
}

fn host_matches(url: &str, host: &str) -> bool {
    let host = host.trim().trim_start_matches('.').to_ascii_lowercase();
    Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|h| h == host || h.ends_with(&format!(".{host}")))
}

/// Re-extracts (then re-classifies) every item with a stored page.
/// `progress(done, total)` is called after each batch.
pub fn reextract(
    store: &mut Store,
    extractor: &Extractor,
    classifier: &Classifier,
    since: Option<&str>,
    host: Option<&str>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ReworkReport, ReworkError> {
    let ids: Vec<i64> = store
        .raw_page_index(since)?
        .into_iter()
        .filter(|(_, url)| host.is_none_or(|h| host_matches(url, h)))
        .map(|(id, _)| id)
        .collect();
    in_batches(store, &ids, classifier.version(), progress, |store, id| {
        let (Some(old), Some(page)) = (store.stored_article(id)?, store.stored_page(id)?) else {
            return Ok(None);
        };
        let Ok(url) = Url::parse(&page.url) else {
            return Ok(None);
        };
        // The feed's text, for pages that hold too little: it is the
        // current body when that was the fallback already.
        let feed_text = if old.extraction_status == "feed_content" {
            old.body.clone()
        } else {
            old.summary.clone().unwrap_or_default()
        };
        let out = extract_page(
            extractor,
            &page.body,
            page.content_type.as_deref(),
            &url,
            &feed_text,
        );
        let new = StoredArticle {
            item_id: id,
            title: old.title.clone().or(out.title),
            authors: if out.authors.is_empty() {
                old.authors.clone()
            } else {
                out.authors
            },
            published_at: old.published_at.clone().or(out.published.map(to_db)),
            lang: out.lang,
            body: out.body,
            summary: old.summary.clone(),
            extraction_status: out.status.to_string(),
            extraction_error: out.error,
        };
        let classification = classifier.classify(new.title.as_deref().unwrap_or(""), &new.body);
        Ok(Some(Rework {
            item_id: id,
            article: Some(new),
            classification,
            only_label: None,
        }))
    })
}

/// Re-classifies stored items; with `label`, only that label is replaced.
pub fn reclassify(
    store: &mut Store,
    classifier: &Classifier,
    since: Option<&str>,
    label: Option<&str>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ReworkReport, ReworkError> {
    if let Some(l) = label {
        let names = classifier.label_names();
        if !names.contains(&l) {
            return Err(ReworkError::UnknownLabel {
                label: l.to_string(),
                known: names.join(", "),
            });
        }
    }
    let ids = store.item_ids(since)?;
    in_batches(store, &ids, classifier.version(), progress, |store, id| {
        let Some(item) = store.stored_article(id)? else {
            return Ok(None);
        };
        let classification = classifier.classify(item.title.as_deref().unwrap_or(""), &item.body);
        Ok(Some(Rework {
            item_id: id,
            article: None,
            classification,
            only_label: label.map(str::to_string),
        }))
    })
}

/// Builds a rework per item (`None`: skipped) and writes them in batches of
/// [`BATCH`], one transaction each.
fn in_batches(
    store: &mut Store,
    ids: &[i64],
    classifier_version: &str,
    progress: &mut dyn FnMut(u64, u64),
    mut rework: impl FnMut(&Store, i64) -> Result<Option<Rework>, StoreError>,
) -> Result<ReworkReport, ReworkError> {
    let total = ids.len() as u64;
    let mut report = ReworkReport::default();
    for chunk in ids.chunks(BATCH) {
        let mut batch = Vec::with_capacity(chunk.len());
        for &id in chunk {
            report.items += 1;
            match rework(store, id)? {
                Some(r) => batch.push(r),
                None => report.skipped += 1,
            }
        }
        let c = store.apply_reworks(&batch, classifier_version)?;
        add(&mut report.counts, c);
        progress(report.items, total);
    }
    Ok(report)
}

fn add(total: &mut ReworkCounts, c: ReworkCounts) {
    total.items_changed += c.items_changed;
    total.flags_changed += c.flags_changed;
    total.newly_flagged += c.newly_flagged;
    total.unflagged += c.unflagged;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert!(host_matches("https://www.example.com/a", "example.com"));
        assert!(host_matches("https://example.com/a", "Example.com"));
        assert!(!host_matches("https://badexample.com/a", "example.com"));
        assert!(!host_matches("not a url", "example.com"));
    }
}
