//! Reading the archive back for re-processing (`reextract`, `reclassify`)
//! and writing the results, in batches, one transaction per batch.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError, decompress_page, write_labels_tx};
use crate::classify::Classification;
use crate::timefmt::now_db;

/// An item's stored article-side fields.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredArticle {
    pub item_id: i64,
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub published_at: Option<String>,
    pub lang: Option<String>,
    pub body: String,
    pub summary: Option<String>,
    pub extraction_status: String,
    pub extraction_error: Option<String>,
}

/// A stored raw page, decompressed.
#[derive(Debug, Clone)]
pub struct StoredPage {
    pub url: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// An item whose article fetch failed transiently and is due for a retry.
#[derive(Debug, Clone)]
pub struct RetryItem {
    pub article: StoredArticle,
    pub url: String,
    pub attempts: i64,
}

/// `raw_pages` columns: url, content_type, encoding, size, body.
type RawRow = (String, Option<String>, String, i64, Vec<u8>);

/// New article-side fields for an item, with its new labels.
#[derive(Debug, Clone)]
pub struct Rework {
    pub item_id: i64,
    pub article: Option<StoredArticle>,
    pub classification: Classification,
    /// Only these labels are replaced; `None`: all of them.
    pub only_label: Option<String>,
}

/// What a batch of reworks changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReworkCounts {
    /// Items whose article fields changed.
    pub items_changed: u64,
    /// (item, label) pairs whose flag changed.
    pub flags_changed: u64,
    /// Items newly flagged / no longer flagged for some label.
    pub newly_flagged: u64,
    pub unflagged: u64,
}

fn date_filter(since: Option<&str>) -> (&'static str, Option<String>) {
    (
        "(?1 IS NULL OR coalesce(i.published_at, i.updated_at, i.fetched_at) >= ?1)",
        since.map(str::to_string),
    )
}

impl Store {
    /// Items with a stored raw page, with the page URL: `(item id, url)`.
    pub fn raw_page_index(&self, since: Option<&str>) -> Result<Vec<(i64, String)>> {
        let (cond, since) = date_filter(since);
        let mut st = self.conn().prepare(&format!(
            "SELECT p.item_id, p.url FROM raw_pages p JOIN items i ON i.id = p.item_id
             WHERE {cond} ORDER BY p.item_id"
        ))?;
        let rows = st.query_map(params![since], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Ids of stored items, oldest first.
    pub fn item_ids(&self, since: Option<&str>) -> Result<Vec<i64>> {
        let (cond, since) = date_filter(since);
        let mut st = self.conn().prepare(&format!(
            "SELECT i.id FROM items i WHERE {cond} ORDER BY i.id"
        ))?;
        let rows = st.query_map(params![since], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// An item's article-side fields.
    pub fn stored_article(&self, item_id: i64) -> Result<Option<StoredArticle>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, title, authors, published_at, lang, body, summary, extraction_status,
                        extraction_error
                 FROM items WHERE id = ?1",
                [item_id],
                |r| {
                    let authors: String = r.get(2)?;
                    Ok(StoredArticle {
                        item_id: r.get(0)?,
                        title: r.get(1)?,
                        authors: serde_json::from_str(&authors).unwrap_or_default(),
                        published_at: r.get(3)?,
                        lang: r.get(4)?,
                        body: r.get(5)?,
                        summary: r.get(6)?,
                        extraction_status: r.get(7)?,
                        extraction_error: r.get(8)?,
                    })
                },
            )
            .optional()?)
    }

    /// An item's raw page, decompressed.
    pub fn stored_page(&self, item_id: i64) -> Result<Option<StoredPage>> {
        let row: Option<RawRow> = self
            .conn()
            .query_row(
                "SELECT url, content_type, encoding, size, body FROM raw_pages WHERE item_id = ?1",
                [item_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((url, content_type, encoding, size, body)) = row else {
            return Ok(None);
        };
        let body = match encoding.as_str() {
            "zstd" => decompress_page(&body, size.max(0) as usize)
                .map_err(|e| StoreError::Invalid(format!("raw page of item {item_id}: {e}")))?,
            "identity" => body,
            other => {
                return Err(StoreError::Invalid(format!(
                    "raw page of item {item_id}: unknown encoding {other:?}"
                )));
            }
        };
        Ok(Some(StoredPage {
            url,
            content_type,
            body,
        }))
    }

    /// Items whose transient article failure is due for a retry at `now`.
    pub fn due_retries(&self, now: &str, limit: usize) -> Result<Vec<RetryItem>> {
        let mut st = self.conn().prepare(
            "SELECT id, url, extraction_attempts FROM items
             WHERE extraction_status = 'fetch_retry' AND url IS NOT NULL
               AND (next_retry_at IS NULL OR next_retry_at <= ?1)
             ORDER BY next_retry_at LIMIT ?2",
        )?;
        let rows: Vec<(i64, String, i64)> = st
            .query_map(params![now, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, url, attempts) in rows {
            if let Some(article) = self.stored_article(id)? {
                out.push(RetryItem {
                    article,
                    url,
                    attempts,
                });
            }
        }
        Ok(out)
    }

    /// Stores the outcome of an article retry: new article fields, labels,
    /// raw page and the next retry time, in one transaction.
    pub fn write_retry(
        &mut self,
        article: &StoredArticle,
        raw_page: Option<&super::RawPage>,
        classification: &Classification,
        classifier_version: &str,
        next_retry_at: Option<&str>,
        keep_raw_pages: bool,
    ) -> Result<()> {
        let now = now_db();
        let authors = serde_json::to_string(&article.authors)
            .map_err(|e| StoreError::Invalid(format!("authors: {e}")))?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE items SET title = ?2, authors = ?3, published_at = ?4, lang = ?5, body = ?6,
                    extraction_status = ?7, extraction_error = ?8, modified_at = ?9,
                    extraction_attempts = extraction_attempts + 1, next_retry_at = ?10
             WHERE id = ?1",
            params![
                article.item_id,
                article.title,
                authors,
                article.published_at,
                article.lang,
                article.body,
                article.extraction_status,
                article.extraction_error,
                now,
                next_retry_at
            ],
        )?;
        write_labels_tx(
            &tx,
            article.item_id,
            classification,
            classifier_version,
            &now,
        )?;
        if let Some(page) = raw_page.filter(|_| keep_raw_pages) {
            super::write_raw_page_tx(&tx, article.item_id, page, &now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Flags currently stored for an item: `(label, flagged)`.
    pub fn stored_flags(&self, item_id: i64) -> Result<Vec<(String, bool)>> {
        let mut st = self
            .conn()
            .prepare("SELECT label, flagged FROM item_labels WHERE item_id = ?1")?;
        let rows = st.query_map([item_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Applies a batch of reworks in one transaction.
    pub fn apply_reworks(
        &mut self,
        batch: &[Rework],
        classifier_version: &str,
    ) -> Result<ReworkCounts> {
        let mut counts = ReworkCounts::default();
        let before: Vec<Vec<(String, bool)>> = batch
            .iter()
            .map(|r| self.stored_flags(r.item_id))
            .collect::<Result<_>>()?;
        let now = now_db();
        let tx = self.conn.transaction()?;
        for (rw, before) in batch.iter().zip(before) {
            if let Some(a) = &rw.article {
                let authors = serde_json::to_string(&a.authors)
                    .map_err(|e| StoreError::Invalid(format!("authors: {e}")))?;
                let n = tx.execute(
                    "UPDATE items SET title = ?2, authors = ?3, published_at = ?4, lang = ?5, body = ?6,
                            extraction_status = ?7, extraction_error = ?8, modified_at = ?9
                     WHERE id = ?1 AND (title IS NOT ?2 OR authors IS NOT ?3 OR published_at IS NOT ?4
                            OR lang IS NOT ?5 OR body IS NOT ?6 OR extraction_status IS NOT ?7
                            OR extraction_error IS NOT ?8)",
                    params![
                        rw.item_id,
                        a.title,
                        authors,
                        a.published_at,
                        a.lang,
                        a.body,
                        a.extraction_status,
                        a.extraction_error,
                        now
                    ],
                )?;
                counts.items_changed += n as u64;
            }
            let c = match &rw.only_label {
                None => rw.classification.clone(),
                Some(label) => {
                    let mut c = rw.classification.clone();
                    c.labels.retain(|l| &l.label == label);
                    c.events.retain(|e| &e.label == label);
                    c
                }
            };
            if rw.only_label.is_some() {
                for l in &c.labels {
                    tx.execute(
                        "DELETE FROM item_labels WHERE item_id = ?1 AND label = ?2",
                        params![rw.item_id, l.label],
                    )?;
                }
                super::insert_labels_tx(&tx, rw.item_id, &c, classifier_version, &now)?;
            } else {
                write_labels_tx(&tx, rw.item_id, &c, classifier_version, &now)?;
            }
            let mut newly = false;
            let mut lost = false;
            for l in &c.labels {
                let was = before
                    .iter()
                    .find(|(name, _)| *name == l.label)
                    .is_some_and(|(_, f)| *f);
                if was != l.flagged {
                    counts.flags_changed += 1;
                    newly |= l.flagged;
                    lost |= !l.flagged;
                }
            }
            counts.newly_flagged += u64::from(newly);
            counts.unflagged += u64::from(lost);
        }
        tx.commit()?;
        Ok(counts)
    }
}
