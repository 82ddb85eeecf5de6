//! Stage 5, **store**: the one SQLite file.
//!
//! Only this module writes SQLite. The file is in WAL mode so that people can
//! query it (sqlite3, Datasette, `secwire query`) while secwire writes; every
//! item is written together with its labels and raw page in one transaction,
//! so a process killed at any moment leaves a consistent file.

pub mod archive;
pub mod backfill;
pub mod query;
pub mod schema;
pub mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;
use thiserror::Error;

use crate::classify::{Classification, Event};
use crate::config::FeedConfig;
use crate::timefmt::now_db;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("no database at {0}")]
    Missing(PathBuf),
    #[error(
        "database {path} has schema version {found}, newer than this secwire supports ({supported}); upgrade secwire"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "database {path} is at schema version {found}, older than this secwire ({supported}); run any writing command (e.g. `secwire feeds`) to upgrade it"
    )]
    TooOld {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("upgrading database {path} to schema version {version}: {source}")]
    Migrate {
        path: PathBuf,
        version: i64,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An open database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// A feed as stored.
#[derive(Debug, Clone, Serialize)]
pub struct FeedRow {
    pub id: i64,
    pub url: String,
    pub name: Option<String>,
    pub title: Option<String>,
    pub origin: String,
    /// The interval configured for this feed, if any.
    pub interval_secs: Option<i64>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub enabled: bool,
    pub next_fetch_at: Option<String>,
    /// The interval the scheduler last computed.
    pub poll_interval_secs: Option<i64>,
    pub last_fetch_at: Option<String>,
    pub last_unconditional_at: Option<String>,
    pub consecutive_failures: i64,
}

impl FeedRow {
    /// What to call the feed in messages.
    pub fn label(&self) -> &str {
        self.name
            .as_deref()
            .or(self.title.as_deref())
            .unwrap_or(&self.url)
    }
}

/// A feed with its fetch state, for `secwire feeds`.
#[derive(Debug, Clone, Serialize)]
pub struct FeedStatus {
    pub id: i64,
    pub url: String,
    pub name: Option<String>,
    pub origin: String,
    pub active: bool,
    pub last_fetch_at: Option<String>,
    pub last_success_at: Option<String>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub consecutive_failures: i64,
    pub items: i64,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub next_fetch_at: Option<String>,
}

/// The outcome of one feed fetch, to be recorded on the feed.
#[derive(Debug, Clone, Default)]
pub struct FetchRecord {
    /// HTTP status, if a response arrived.
    pub status: Option<u16>,
    /// `None` on success.
    pub error: Option<String>,
    /// Validators to send next time; saved whenever a response carried them
    /// (also with a 304 and with an unchanged body).
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The feed moved permanently (301/308): its new URL.
    pub moved_to: Option<String>,
    pub feed_title: Option<String>,
    pub site_url: Option<String>,
    /// `false` when a failure is not the feed's fault (the whole network
    /// looks down): it is recorded but does not count towards backoff.
    pub count_failure: bool,
    /// The request was sent without validators.
    pub unconditional: bool,
}

impl FetchRecord {
    /// A failure, counted against the feed.
    pub fn failure(status: Option<u16>, error: String) -> FetchRecord {
        FetchRecord {
            status,
            error: Some(error),
            count_failure: true,
            ..Default::default()
        }
    }
}

/// What the store already knows about an entry of a feed.
#[derive(Debug, Clone, PartialEq)]
pub enum Known {
    /// Not stored.
    New,
    /// Stored and carried by this feed.
    InFeed {
        item_id: i64,
        entry_hash: String,
        extraction_status: String,
        extraction_attempts: i64,
    },
    /// Stored through another feed; this feed is not yet linked to it.
    OtherFeed { item_id: i64 },
}

/// A fetched article page to keep.
#[derive(Debug, Clone)]
pub struct RawPage {
    pub url: String,
    pub http_status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// Everything written for one item, in one transaction.
#[derive(Debug, Clone)]
pub struct ItemRecord {
    pub feed_id: i64,
    pub entry_id: String,
    pub entry_hash: String,
    pub item_key: String,
    pub url: Option<String>,
    pub guid: Option<String>,
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub published_at: Option<String>,
    pub updated_at: Option<String>,
    pub summary: Option<String>,
    pub body: String,
    pub lang: Option<String>,
    pub extraction_status: String,
    pub extraction_error: Option<String>,
    pub raw_page: Option<RawPage>,
    pub classification: Option<Classification>,
    pub classifier_version: String,
    /// For transient article failures: when to try again.
    pub next_retry_at: Option<String>,
    /// The history-backfill queue row this item came from, marked done in
    /// the same transaction.
    pub queue_id: Option<i64>,
}

/// Whether a write created or changed an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Inserted(i64),
    Updated(i64),
}

impl Store {
    /// Opens (creating if needed) the database for writing and brings its
    /// schema up to date.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            return Err(StoreError::Open {
                path: path.to_path_buf(),
                source: rusqlite::Error::InvalidPath(dir.to_path_buf()),
            });
        }
        let conn = Connection::open(path).map_err(|e| StoreError::Open {
            path: path.to_path_buf(),
            source: e,
        })?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.configure(busy_timeout)?;
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing database read-only (for `query`); it must be at the
    /// current schema version.
    pub fn open_read_only(path: &Path, busy_timeout: Duration) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::Missing(path.to_path_buf()));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Open {
            path: path.to_path_buf(),
            source: e,
        })?;
        conn.busy_timeout(busy_timeout)?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        let found = store.schema_version().map_err(|e| StoreError::Open {
            path: path.to_path_buf(),
            source: e,
        })?;
        let supported = schema::latest_version();
        if found > supported {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found,
                supported,
            });
        }
        if found < supported {
            return Err(StoreError::TooOld {
                path: path.to_path_buf(),
                found,
                supported,
            });
        }
        Ok(store)
    }

    fn configure(&mut self, busy_timeout: Duration) -> Result<()> {
        let open_err = |e| StoreError::Open {
            path: self.path.clone(),
            source: e,
        };
        self.conn.busy_timeout(busy_timeout).map_err(open_err)?;
        // journal_mode returns a row; reading it also proves the file is a database.
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %self.path.display(), mode, "database is not in WAL mode");
        }
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
            .map_err(open_err)?;
        Ok(())
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> rusqlite::Result<i64> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))
    }

    /// Applies the migrations the file lacks.
    fn migrate(&mut self) -> Result<()> {
        let found = self.schema_version().map_err(|e| StoreError::Open {
            path: self.path.clone(),
            source: e,
        })?;
        let supported = schema::latest_version();
        if found > supported {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                supported,
            });
        }
        self.migrate_to(supported)
    }

    /// Applies migrations up to `version` (tests use this to build files of
    /// an older version).
    pub fn migrate_to(&mut self, version: i64) -> Result<()> {
        let found = self.schema_version()?;
        for v in found..version {
            let sql = schema::MIGRATIONS[v as usize];
            let path = self.path.clone();
            let err = |e| StoreError::Migrate {
                path: path.clone(),
                version: v + 1,
                source: e,
            };
            let tx = self.conn.transaction().map_err(err)?;
            tx.execute_batch(sql).map_err(err)?;
            tx.pragma_update(None, "user_version", v + 1).map_err(err)?;
            tx.commit().map_err(err)?;
            tracing::info!(path = %self.path.display(), version = v + 1, "database schema upgraded");
        }
        Ok(())
    }

    /// Opens a file without migrating (tests build older versions with it).
    pub fn open_unmigrated(path: &Path) -> Result<Store> {
        let conn = Connection::open(path).map_err(|e| StoreError::Open {
            path: path.to_path_buf(),
            source: e,
        })?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The raw connection, for read-only helpers in this module's children.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    // ---------------------------------------------------------------- feeds

    /// Makes the `feeds` table agree with the config's `[[feeds]]`: adds new
    /// ones, updates names and intervals, and deactivates config feeds that
    /// are no longer listed (their items stay).
    pub fn sync_config_feeds(&mut self, feeds: &[FeedConfig]) -> Result<()> {
        let now = now_db();
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE feeds SET active = 0 WHERE origin = 'config'", [])?;
        for f in feeds {
            let url = f.url.0.as_str();
            let interval = f.interval.map(|d| d.0.as_secs() as i64);
            let updated = tx.execute(
                "UPDATE feeds SET active = 1, name = ?2, interval_secs = ?3
                 WHERE config_url = ?1",
                params![url, f.name, interval],
            )?;
            if updated == 0 {
                // A feed first added by hand and now listed in the config.
                let adopted = tx.execute(
                    "UPDATE feeds SET active = 1, origin = 'config', config_url = ?1,
                            name = coalesce(?2, name), interval_secs = ?3
                     WHERE url = ?1 AND config_url IS NULL",
                    params![url, f.name, interval],
                )?;
                if adopted == 0 {
                    tx.execute(
                        "INSERT INTO feeds (url, config_url, origin, name, interval_secs, created_at)
                         VALUES (?1, ?1, 'config', ?2, ?3, ?4)",
                        params![url, f.name, interval, now],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Adds a feed given on the command line or in an OPML file; returns it
    /// (an existing feed with that URL is returned unchanged).
    pub fn add_feed(
        &mut self,
        url: &str,
        name: Option<&str>,
        origin: &str,
    ) -> Result<(FeedRow, bool)> {
        if let Some(existing) = self.feed_by_url(url)? {
            return Ok((existing, false));
        }
        self.conn.execute(
            "INSERT INTO feeds (url, origin, name, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![url, origin, name, now_db()],
        )?;
        let row = self
            .feed_by_url(url)?
            .ok_or_else(|| StoreError::Invalid(format!("feed {url} vanished after insert")))?;
        Ok((row, true))
    }

    pub(crate) const FEED_COLS: &'static str =
        "id, url, name, title, origin, interval_secs, etag, last_modified,
         enabled, next_fetch_at, poll_interval_secs, last_fetch_at, last_unconditional_at,
         consecutive_failures";

    pub(crate) fn feed_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FeedRow> {
        Ok(FeedRow {
            id: r.get(0)?,
            url: r.get(1)?,
            name: r.get(2)?,
            title: r.get(3)?,
            origin: r.get(4)?,
            interval_secs: r.get(5)?,
            etag: r.get(6)?,
            last_modified: r.get(7)?,
            enabled: r.get(8)?,
            next_fetch_at: r.get(9)?,
            poll_interval_secs: r.get(10)?,
            last_fetch_at: r.get(11)?,
            last_unconditional_at: r.get(12)?,
            consecutive_failures: r.get(13)?,
        })
    }

    /// A feed by its current or configured URL.
    pub fn feed_by_url(&self, url: &str) -> Result<Option<FeedRow>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {} FROM feeds WHERE url = ?1 OR config_url = ?1 ORDER BY url = ?1 DESC LIMIT 1",
                    Self::FEED_COLS
                ),
                [url],
                Self::feed_row,
            )
            .optional()?)
    }

    /// A feed by id.
    pub fn feed_by_id(&self, id: i64) -> Result<Option<FeedRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {} FROM feeds WHERE id = ?1", Self::FEED_COLS),
                [id],
                Self::feed_row,
            )
            .optional()?)
    }

    /// The feeds a run polls: active config feeds and feeds added by hand,
    /// except those disabled (410 Gone).
    pub fn feeds_to_poll(&self) -> Result<Vec<FeedRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {} FROM feeds WHERE active = 1 AND enabled = 1 AND origin != 'manual' ORDER BY id",
            Self::FEED_COLS
        ))?;
        let rows = stmt.query_map([], Self::feed_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records a fetch attempt on a feed.
    pub fn record_fetch(&mut self, feed_id: i64, rec: &FetchRecord) -> Result<()> {
        let now = now_db();
        let tx = self.conn.transaction()?;
        if rec.error.is_none() {
            tx.execute(
                "UPDATE feeds SET last_fetch_at = ?2, last_success_at = ?2, last_status = ?3,
                        last_error = NULL, consecutive_failures = 0,
                        etag = coalesce(?4, etag), last_modified = coalesce(?5, last_modified),
                        title = coalesce(?6, title), site_url = coalesce(?7, site_url)
                 WHERE id = ?1",
                params![
                    feed_id,
                    now,
                    rec.status,
                    rec.etag,
                    rec.last_modified,
                    rec.feed_title,
                    rec.site_url
                ],
            )?;
            if rec.unconditional {
                tx.execute(
                    "UPDATE feeds SET last_unconditional_at = ?2 WHERE id = ?1",
                    params![feed_id, now],
                )?;
            }
        } else {
            tx.execute(
                "UPDATE feeds SET last_fetch_at = ?2, last_status = ?3, last_error = ?4,
                        consecutive_failures = consecutive_failures + ?5
                 WHERE id = ?1",
                params![
                    feed_id,
                    now,
                    rec.status,
                    rec.error,
                    i64::from(rec.count_failure)
                ],
            )?;
            if rec.status == Some(410) {
                // Gone: stop polling until someone re-enables the feed.
                tx.execute(
                    "UPDATE feeds SET enabled = 0, disabled_reason = ?2 WHERE id = ?1",
                    params![
                        feed_id,
                        format!(
                            "410 Gone at {now}; re-enable with `secwire feeds enable {feed_id}`"
                        )
                    ],
                )?;
                tracing::warn!(feed_id, "feed answered 410 Gone: disabled");
            }
        }
        if let Some(new_url) = &rec.moved_to {
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM feeds WHERE url = ?1 AND id != ?2)",
                params![new_url, feed_id],
                |r| r.get(0),
            )?;
            if taken {
                tracing::warn!(
                    feed_id,
                    new_url,
                    "feed moved permanently to a URL that is already another feed; keeping the old URL"
                );
            } else {
                tx.execute(
                    "UPDATE feeds SET url = ?2 WHERE id = ?1",
                    params![feed_id, new_url],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// All feeds with their state, for `secwire feeds`.
    pub fn feed_statuses(&self) -> Result<Vec<FeedStatus>> {
        let mut stmt = self.conn.prepare(
            "SELECT f.id, f.url, coalesce(f.name, f.title), f.origin, f.active, f.last_fetch_at,
                    f.last_success_at, f.last_status, f.last_error, f.consecutive_failures,
                    (SELECT count(*) FROM item_feeds x WHERE x.feed_id = f.id),
                    f.enabled, f.disabled_reason, f.next_fetch_at
             FROM feeds f WHERE f.origin != 'manual' ORDER BY f.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FeedStatus {
                id: r.get(0)?,
                url: r.get(1)?,
                name: r.get(2)?,
                origin: r.get(3)?,
                active: r.get(4)?,
                last_fetch_at: r.get(5)?,
                last_success_at: r.get(6)?,
                last_status: r.get(7)?,
                last_error: r.get(8)?,
                consecutive_failures: r.get(9)?,
                items: r.get(10)?,
                enabled: r.get(11)?,
                disabled_reason: r.get(12)?,
                next_fetch_at: r.get(13)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Persists a feed's next fetch time and the interval it came from.
    pub fn set_schedule(
        &mut self,
        feed_id: i64,
        next_fetch_at: &str,
        interval_secs: i64,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE feeds SET next_fetch_at = ?2, poll_interval_secs = ?3 WHERE id = ?1",
            params![feed_id, next_fetch_at, interval_secs],
        )?;
        Ok(())
    }

    /// Re-enables a disabled feed (by id or URL); returns it, or `None` if
    /// no feed matches.
    pub fn enable_feed(&mut self, id_or_url: &str) -> Result<Option<FeedRow>> {
        let row = match id_or_url.trim().parse::<i64>() {
            Ok(id) => self.feed_by_id(id)?,
            Err(_) => self.feed_by_url(id_or_url.trim())?,
        };
        let Some(row) = row else { return Ok(None) };
        self.conn.execute(
            "UPDATE feeds SET enabled = 1, disabled_reason = NULL, consecutive_failures = 0,
                    next_fetch_at = NULL WHERE id = ?1",
            [row.id],
        )?;
        self.feed_by_id(row.id)
    }

    // ---------------------------------------------------------------- items

    /// What is known about each `(entry_id, item_key)` of a feed.
    pub fn lookup(&self, feed_id: i64, entry_id: &str, item_key: &str) -> Result<Known> {
        let in_feed = self
            .conn
            .query_row(
                "SELECT i.id, x.entry_hash, i.extraction_status, i.extraction_attempts
                 FROM item_feeds x JOIN items i ON i.id = x.item_id
                 WHERE x.feed_id = ?1 AND x.entry_id = ?2",
                params![feed_id, entry_id],
                |r| {
                    Ok(Known::InFeed {
                        item_id: r.get(0)?,
                        entry_hash: r.get(1)?,
                        extraction_status: r.get(2)?,
                        extraction_attempts: r.get(3)?,
                    })
                },
            )
            .optional()?;
        if let Some(k) = in_feed {
            return Ok(k);
        }
        let other = self
            .conn
            .query_row(
                "SELECT id FROM items WHERE item_key = ?1",
                [item_key],
                |r| r.get::<_, i64>(0),
            )
            .optional()?;
        Ok(match other {
            Some(item_id) => Known::OtherFeed { item_id },
            None => Known::New,
        })
    }

    /// Records that `feed_id` also carries an item stored through another feed.
    pub fn link_item(
        &mut self,
        item_id: i64,
        feed_id: i64,
        entry_id: &str,
        entry_hash: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO item_feeds (item_id, feed_id, entry_id, entry_hash, first_seen_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (item_id, feed_id) DO UPDATE SET entry_id = excluded.entry_id,
                 entry_hash = excluded.entry_hash",
            params![item_id, feed_id, entry_id, entry_hash, now_db()],
        )?;
        Ok(())
    }

    /// Writes items with their feed link, labels and raw page. Each batch
    /// is one transaction: all of it lands or none of it does.
    pub fn write_items(
        &mut self,
        items: &[ItemRecord],
        keep_raw_pages: bool,
    ) -> Result<Vec<Written>> {
        let tx = self.conn.transaction()?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(write_item_tx(&tx, item, keep_raw_pages)?);
        }
        tx.commit()?;
        Ok(out)
    }

    /// Proves the database answers.
    pub fn ping(&self) -> Result<()> {
        self.conn
            .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?;
        Ok(())
    }

    /// Number of items stored.
    pub fn item_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM items", [], |r| r.get(0))?)
    }

    /// Runs SQLite's own consistency checks (used by tests and `secwire doctor`-like checks).
    pub fn integrity_check(&self) -> Result<String> {
        let ok: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if ok != "ok" {
            return Ok(ok);
        }
        // The FTS index must agree with the items table.
        match self.conn.execute(
            "INSERT INTO items_fts(items_fts) VALUES ('integrity-check')",
            [],
        ) {
            Ok(_) => Ok("ok".into()),
            Err(e) => Ok(format!("fts: {e}")),
        }
    }
}

fn write_item_tx(
    tx: &rusqlite::Transaction<'_>,
    item: &ItemRecord,
    keep_raw_pages: bool,
) -> Result<Written> {
    let now = now_db();
    let authors = serde_json::to_string(&item.authors)
        .map_err(|e| StoreError::Invalid(format!("authors: {e}")))?;
    let content_hash = content_hash(item);
    let existing: Option<i64> = tx
        .query_row(
            "SELECT item_id FROM item_feeds WHERE feed_id = ?1 AND entry_id = ?2",
            params![item.feed_id, item.entry_id],
            |r| r.get(0),
        )
        .optional()?;
    let existing = match existing {
        Some(id) => Some(id),
        None => tx
            .query_row(
                "SELECT id FROM items WHERE item_key = ?1",
                [&item.item_key],
                |r| r.get(0),
            )
            .optional()?,
    };
    let attempts_delta: i64 = i64::from(item.extraction_status != "skipped");
    let written = match existing {
        Some(id) => {
            tx.execute(
                "UPDATE items SET url = ?2, guid = coalesce(?3, guid), title = ?4, authors = ?5,
                        published_at = ?6, updated_at = ?7, fetched_at = ?8, summary = ?9,
                        body = ?10, lang = ?11, extraction_status = ?12, extraction_error = ?13,
                        content_hash = ?14, modified_at = ?8,
                        extraction_attempts = extraction_attempts + ?15, next_retry_at = ?16
                 WHERE id = ?1",
                params![
                    id,
                    item.url,
                    item.guid,
                    item.title,
                    authors,
                    item.published_at,
                    item.updated_at,
                    now,
                    item.summary,
                    item.body,
                    item.lang,
                    item.extraction_status,
                    item.extraction_error,
                    content_hash,
                    attempts_delta,
                    item.next_retry_at,
                ],
            )?;
            Written::Updated(id)
        }
        None => {
            tx.execute(
                "INSERT INTO items (item_key, url, feed_id, guid, title, authors, published_at,
                        updated_at, fetched_at, summary, body, lang, extraction_status,
                        extraction_error, content_hash, created_at, modified_at, extraction_attempts,
                        next_retry_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?9, ?9, ?16, ?17)",
                params![
                    item.item_key,
                    item.url,
                    item.feed_id,
                    item.guid,
                    item.title,
                    authors,
                    item.published_at,
                    item.updated_at,
                    now,
                    item.summary,
                    item.body,
                    item.lang,
                    item.extraction_status,
                    item.extraction_error,
                    content_hash,
                    attempts_delta,
                    item.next_retry_at,
                ],
            )?;
            Written::Inserted(tx.last_insert_rowid())
        }
    };
    let item_id = match written {
        Written::Inserted(id) | Written::Updated(id) => id,
    };
    tx.execute(
        "INSERT INTO item_feeds (item_id, feed_id, entry_id, entry_hash, first_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (item_id, feed_id) DO UPDATE SET entry_id = excluded.entry_id,
             entry_hash = excluded.entry_hash",
        params![item_id, item.feed_id, item.entry_id, item.entry_hash, now],
    )?;
    if let Some(c) = &item.classification {
        write_labels_tx(tx, item_id, c, &item.classifier_version, &now)?;
    }
    if let Some(page) = item.raw_page.as_ref().filter(|_| keep_raw_pages) {
        write_raw_page_tx(tx, item_id, page, &now)?;
    }
    if let Some(q) = item.queue_id {
        tx.execute(
            "UPDATE backfill_queue SET state = 'done', done_at = ?2 WHERE id = ?1",
            params![q, now],
        )?;
    }
    Ok(written)
}

/// Stores an item's raw page, zstd-compressed.
pub(crate) fn write_raw_page_tx(
    tx: &rusqlite::Transaction<'_>,
    item_id: i64,
    page: &RawPage,
    now: &str,
) -> Result<()> {
    let compressed = zstd::bulk::compress(&page.body, 3)
        .map_err(|e| StoreError::Invalid(format!("compressing page: {e}")))?;
    tx.execute(
        "INSERT INTO raw_pages (item_id, url, fetched_at, http_status, content_type, encoding, size, body)
         VALUES (?1, ?2, ?3, ?4, ?5, 'zstd', ?6, ?7)
         ON CONFLICT (item_id) DO UPDATE SET url = excluded.url, fetched_at = excluded.fetched_at,
             http_status = excluded.http_status, content_type = excluded.content_type,
             encoding = excluded.encoding, size = excluded.size, body = excluded.body",
        params![
            item_id,
            page.url,
            now,
            page.http_status,
            page.content_type,
            page.body.len() as i64,
            compressed
        ],
    )?;
    Ok(())
}

/// Replaces an item's labels (all labels, flagged or not, with their scores).
pub(crate) fn write_labels_tx(
    tx: &rusqlite::Transaction<'_>,
    item_id: i64,
    c: &Classification,
    version: &str,
    now: &str,
) -> Result<()> {
    tx.execute("DELETE FROM item_labels WHERE item_id = ?1", [item_id])?;
    insert_labels_tx(tx, item_id, c, version, now)
}

/// Inserts an item's labels (the rows must not exist).
pub(crate) fn insert_labels_tx(
    tx: &rusqlite::Transaction<'_>,
    item_id: i64,
    c: &Classification,
    version: &str,
    now: &str,
) -> Result<()> {
    for l in &c.labels {
        let events: Vec<&Event> = c.events.iter().filter(|e| e.label == l.label).collect();
        let evidence = serde_json::to_string(&l.evidence)
            .map_err(|e| StoreError::Invalid(format!("evidence: {e}")))?;
        let events = serde_json::to_string(&events)
            .map_err(|e| StoreError::Invalid(format!("events: {e}")))?;
        tx.execute(
            "INSERT INTO item_labels (item_id, label, score, flagged, evidence, events,
                                      classifier_version, classified_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                item_id, l.label, l.score, l.flagged, evidence, events, version, now
            ],
        )?;
    }
    Ok(())
}

/// A hash of the stored text fields of an item.
fn content_hash(item: &ItemRecord) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [
        item.title.as_deref().unwrap_or(""),
        item.url.as_deref().unwrap_or(""),
        item.summary.as_deref().unwrap_or(""),
        &item.body,
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

/// Decompresses a stored raw page.
pub fn decompress_page(body: &[u8], size: usize) -> std::io::Result<Vec<u8>> {
    zstd::bulk::decompress(body, size.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{Evidence, LabelResult};

    fn tmp() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("t.db"), Duration::from_secs(1)).unwrap();
        (dir, s)
    }

    fn record(feed_id: i64, entry: &str, key: &str) -> ItemRecord {
        ItemRecord {
            feed_id,
            entry_id: entry.into(),
            entry_hash: "h1".into(),
            item_key: key.into(),
            url: Some(key.into()),
            guid: None,
            title: Some("Kaspersky banned".into()),
            authors: vec!["A B".into()],
            published_at: Some("2018-06-14T00:00:00Z".into()),
            updated_at: None,
            summary: None,
            body: "The body text about Kaspersky.".into(),
            lang: Some("en".into()),
            extraction_status: "ok".into(),
            extraction_error: None,
            raw_page: Some(RawPage {
                url: key.into(),
                http_status: 200,
                content_type: Some("text/html".into()),
                body: b"<html>page</html>".to_vec(),
            }),
            classification: Some(Classification {
                labels: vec![LabelResult {
                    label: "vendor_ban".into(),
                    score: 0.9,
                    flagged: true,
                    evidence: vec![Evidence {
                        sentence: "Kaspersky banned".into(),
                        start: 0,
                        end: 16,
                    }],
                }],
                events: vec![],
            }),
            classifier_version: "t".into(),
            next_retry_at: None,
            queue_id: None,
        }
    }

    #[test]
    fn fresh_file_is_latest_version_and_wal() {
        let (_d, s) = tmp();
        assert_eq!(s.schema_version().unwrap(), schema::latest_version());
        let mode: String = s
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn item_written_once_and_linked_to_two_feeds() {
        let (_d, mut s) = tmp();
        let (f1, _) = s.add_feed("http://a/feed", None, "cli").unwrap();
        let (f2, _) = s.add_feed("http://b/feed", None, "cli").unwrap();
        let w = s
            .write_items(&[record(f1.id, "e1", "http://x/1")], true)
            .unwrap();
        assert!(matches!(w[0], Written::Inserted(_)));
        let Written::Inserted(id) = w[0] else {
            unreachable!()
        };
        assert_eq!(
            s.lookup(f2.id, "other-guid", "http://x/1").unwrap(),
            Known::OtherFeed { item_id: id }
        );
        s.link_item(id, f2.id, "other-guid", "h2").unwrap();
        assert!(matches!(
            s.lookup(f2.id, "other-guid", "http://x/1").unwrap(),
            Known::InFeed { .. }
        ));
        let w = s
            .write_items(&[record(f1.id, "e1", "http://x/1")], true)
            .unwrap();
        assert_eq!(w[0], Written::Updated(id));
        assert_eq!(s.item_count().unwrap(), 1);
        let n: i64 = s
            .conn
            .query_row("SELECT count(*) FROM flagged_items", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        let hits: i64 = s
            .conn
            .query_row(
                "SELECT count(*) FROM items_fts WHERE items_fts MATCH 'kaspersky'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(hits, 1);
        assert_eq!(s.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn raw_page_round_trips() {
        let (_d, mut s) = tmp();
        let (f, _) = s.add_feed("http://a/feed", None, "cli").unwrap();
        s.write_items(&[record(f.id, "e1", "http://x/1")], true)
            .unwrap();
        let (body, size): (Vec<u8>, i64) = s
            .conn
            .query_row("SELECT body, size FROM raw_pages", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(
            decompress_page(&body, size as usize).unwrap(),
            b"<html>page</html>"
        );
    }

    #[test]
    fn migrates_v1_file_keeping_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let mut s = Store::open_unmigrated(&path).unwrap();
            s.migrate_to(1).unwrap();
            s.conn
                .execute_batch(
                    "INSERT INTO feeds (url, origin, created_at) VALUES ('http://a/f', 'cli', '2020-01-01T00:00:00Z');
                     INSERT INTO items (item_key, url, feed_id, title, fetched_at, body, extraction_status,
                                        content_hash, created_at, modified_at)
                     VALUES ('http://a/1', 'http://a/1', 1, 'old item', '2020-01-01T00:00:00Z', 'old body about huawei', 'ok', 'h',
                             '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z');",
                )
                .unwrap();
        }
        let s = Store::open(&path, Duration::from_secs(1)).unwrap();
        assert_eq!(s.schema_version().unwrap(), schema::latest_version());
        assert_eq!(s.item_count().unwrap(), 1);
        let hits: i64 = s
            .conn
            .query_row(
                "SELECT count(*) FROM items_fts WHERE items_fts MATCH 'huawei'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(hits, 1);
    }

    #[test]
    fn newer_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        {
            let s = Store::open(&path, Duration::from_secs(1)).unwrap();
            s.conn.pragma_update(None, "user_version", 999).unwrap();
        }
        let err = Store::open(&path, Duration::from_secs(1)).err().unwrap();
        assert!(
            matches!(err, StoreError::TooNew { found: 999, .. }),
            "{err}"
        );
    }

    #[test]
    fn config_sync_adds_updates_and_deactivates() {
        let (_d, mut s) = tmp();
        let feeds: Vec<FeedConfig> = toml::from_str::<crate::config::Config>(
            "[[feeds]]\nurl = \"http://a/f\"\nname = \"A\"\n[[feeds]]\nurl = \"http://b/f\"\n",
        )
        .unwrap()
        .feeds;
        s.sync_config_feeds(&feeds).unwrap();
        assert_eq!(s.feeds_to_poll().unwrap().len(), 2);
        s.sync_config_feeds(&feeds[..1]).unwrap();
        let polled = s.feeds_to_poll().unwrap();
        assert_eq!(polled.len(), 1);
        assert_eq!(polled[0].name.as_deref(), Some("A"));
    }

    #[test]
    fn permanent_move_updates_url_but_config_still_matches() {
        let (_d, mut s) = tmp();
        let feeds: Vec<FeedConfig> =
            toml::from_str::<crate::config::Config>("[[feeds]]\nurl = \"http://a/old\"\n")
                .unwrap()
                .feeds;
        s.sync_config_feeds(&feeds).unwrap();
        let f = s.feeds_to_poll().unwrap().remove(0);
        s.record_fetch(
            f.id,
            &FetchRecord {
                status: Some(200),
                moved_to: Some("http://a/new".into()),
                ..Default::default()
            },
        )
        .unwrap();
        s.sync_config_feeds(&feeds).unwrap();
        let polled = s.feeds_to_poll().unwrap();
        assert_eq!(polled.len(), 1);
        assert_eq!(polled[0].url, "http://a/new");
    }
}
