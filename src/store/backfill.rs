//! Progress of history backfills: which archive pages and sitemaps are
//! done, and the queue of articles they listed. A backfill interrupted at
//! any point continues from here without fetching a finished page twice.

use std::collections::HashSet;

use rusqlite::{OptionalExtension, params};

use super::{FeedRow, Result, Store};
use crate::timefmt::now_db;

/// A finished (or failed) page, sitemap or URL list of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    pub state: String,
    pub next_url: Option<String>,
    pub entries: i64,
}

/// An article to queue.
#[derive(Debug, Clone)]
pub struct NewQueued {
    pub feed_id: i64,
    pub item_key: String,
    /// The entry as JSON (see `history::QueuedEntry`).
    pub entry: String,
}

/// A queued article waiting to be processed.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub id: i64,
    pub feed_id: i64,
    pub entry: String,
}

/// How a source ended.
#[derive(Debug, Clone)]
pub struct SourceDone<'a> {
    pub job: &'a str,
    pub kind: &'a str,
    pub url: &'a str,
    pub feed_id: Option<i64>,
    pub failed: Option<String>,
    pub next_url: Option<String>,
}

impl Store {
    /// What is recorded about a source of a job.
    pub fn source_record(&self, job: &str, kind: &str, url: &str) -> Result<Option<SourceRecord>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT state, next_url, entries FROM backfill_sources WHERE job = ?1 AND kind = ?2 AND url = ?3",
                params![job, kind, url],
                |r| {
                    Ok(SourceRecord {
                        state: r.get(0)?,
                        next_url: r.get(1)?,
                        entries: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records a finished source and queues its articles, in one
    /// transaction. Articles already queued for the job are not queued
    /// twice. Returns how many were newly queued.
    pub fn finish_source(&mut self, done: &SourceDone<'_>, queued: &[NewQueued]) -> Result<usize> {
        let now = now_db();
        let tx = self.conn.transaction()?;
        let added = insert_queued(&tx, done.job, done.url, queued, &now)?;
        tx.execute(
            "INSERT INTO backfill_sources (job, kind, url, feed_id, state, next_url, entries, error, finished_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (job, kind, url) DO UPDATE SET state = excluded.state,
                 next_url = excluded.next_url, entries = excluded.entries, error = excluded.error,
                 finished_at = excluded.finished_at",
            params![
                done.job,
                done.kind,
                done.url,
                done.feed_id,
                if done.failed.is_some() { "failed" } else { "done" },
                done.next_url,
                added as i64,
                done.failed,
                now
            ],
        )?;
        tx.commit()?;
        Ok(added)
    }

    /// Queues articles without recording a source (URL lists). Returns how
    /// many were newly queued.
    pub fn queue_only(&mut self, job: &str, source: &str, queued: &[NewQueued]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let added = insert_queued(&tx, job, source, queued, &now_db())?;
        tx.commit()?;
        Ok(added)
    }

    /// Of `keys`, those already stored as items or queued for `job`.
    pub fn known_keys(&self, job: &str, keys: &[String]) -> Result<HashSet<String>> {
        let mut out = HashSet::new();
        let mut item = self
            .conn()
            .prepare_cached("SELECT 1 FROM items WHERE item_key = ?1")?;
        let mut queued = self
            .conn()
            .prepare_cached("SELECT 1 FROM backfill_queue WHERE job = ?1 AND item_key = ?2")?;
        for k in keys {
            if item.exists([k])? || queued.exists(params![job, k])? {
                out.insert(k.clone());
            }
        }
        Ok(out)
    }

    /// Pending queue rows of a job after `after_id`, oldest first.
    pub fn pending_queue(&self, job: &str, after_id: i64, limit: usize) -> Result<Vec<QueueRow>> {
        let mut st = self.conn().prepare(
            "SELECT id, feed_id, entry FROM backfill_queue
             WHERE job = ?1 AND state = 'pending' AND id > ?2 ORDER BY id LIMIT ?3",
        )?;
        let rows = st.query_map(params![job, after_id, limit as i64], |r| {
            Ok(QueueRow {
                id: r.get(0)?,
                feed_id: r.get(1)?,
                entry: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// `(pending, done)` queue rows of a job.
    pub fn queue_counts(&self, job: &str) -> Result<(i64, i64)> {
        Ok(self.conn().query_row(
            "SELECT coalesce(sum(state = 'pending'), 0), coalesce(sum(state = 'done'), 0)
             FROM backfill_queue WHERE job = ?1",
            [job],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Marks a queue row done (when no item write did it).
    pub fn mark_queue_done(&mut self, id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE backfill_queue SET state = 'done', done_at = ?2 WHERE id = ?1",
            params![id, now_db()],
        )?;
        Ok(())
    }

    /// The synthetic feed that URL-list articles of unknown sites belong to.
    pub fn manual_feed(&mut self) -> Result<FeedRow> {
        let (row, _) = self.add_feed(MANUAL_FEED_URL, Some("manual"), "manual")?;
        Ok(row)
    }

    /// Every feed with its site URL, for attributing URLs to feeds by host.
    pub fn feed_sites(&self) -> Result<Vec<(FeedRow, Option<String>)>> {
        let mut st = self.conn().prepare(&format!(
            "SELECT {}, site_url FROM feeds WHERE origin != 'manual' ORDER BY id",
            Self::FEED_COLS
        ))?;
        let rows = st.query_map([], |r| Ok((Self::feed_row(r)?, r.get(14)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Queues articles, skipping those the job has queued already.
fn insert_queued(
    tx: &rusqlite::Transaction<'_>,
    job: &str,
    source: &str,
    queued: &[NewQueued],
    now: &str,
) -> Result<usize> {
    let mut ins = tx.prepare(
        "INSERT OR IGNORE INTO backfill_queue (job, feed_id, item_key, entry, source, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut added = 0;
    for q in queued {
        added += ins.execute(params![job, q.feed_id, q.item_key, q.entry, source, now])?;
    }
    Ok(added)
}

/// The `url` of the synthetic feed for articles from `--urls` lists whose
/// site has no configured feed.
pub const MANUAL_FEED_URL: &str = "secwire:manual";
