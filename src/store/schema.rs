//! The schema, as an ordered list of migrations.
//!
//! `PRAGMA user_version` holds the number of migrations applied. Opening a
//! file applies the missing ones in one transaction each, so an older file
//! is upgraded in place and a crash mid-upgrade leaves the previous version.
//! Migrations are append-only: never edit one that has shipped.

/// Migration `i` (0-based) brings a file from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // v1: feeds, items, the feeds that carried each item, labels, full-text
    // index, and the view people query.
    r#"
CREATE TABLE feeds (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT NOT NULL UNIQUE,   -- current URL (follows 301/308)
    config_url           TEXT UNIQUE,            -- URL as written in the config, for config feeds
    origin               TEXT NOT NULL DEFAULT 'config'
                         CHECK (origin IN ('config', 'cli', 'opml', 'manual')),
    active               INTEGER NOT NULL DEFAULT 1,  -- 0: removed from the config
    name                 TEXT,                   -- configured display name
    title                TEXT,                   -- the feed's own title
    site_url             TEXT,
    interval_secs        INTEGER,
    etag                 TEXT,
    last_modified        TEXT,
    last_fetch_at        TEXT,
    last_success_at      TEXT,
    last_status          INTEGER,                -- HTTP status of the last fetch
    last_error           TEXT,                   -- NULL when the last fetch succeeded
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL
);

CREATE TABLE items (
    id                INTEGER PRIMARY KEY,
    item_key          TEXT NOT NULL UNIQUE,      -- canonical URL, or feed:<id>:<entry id>
    url               TEXT,                      -- canonical article URL
    feed_id           INTEGER NOT NULL REFERENCES feeds(id),  -- first feed that carried it
    guid              TEXT,
    title             TEXT,
    authors           TEXT NOT NULL DEFAULT '[]', -- JSON array of names
    published_at      TEXT,                      -- UTC RFC 3339
    updated_at        TEXT,
    fetched_at        TEXT NOT NULL,
    summary           TEXT,                      -- the feed's summary, plain text
    body              TEXT NOT NULL DEFAULT '',  -- article text (or the feed's content)
    lang              TEXT,
    extraction_status TEXT NOT NULL,
    extraction_error  TEXT,
    content_hash      TEXT NOT NULL,             -- hash of the stored text fields
    created_at        TEXT NOT NULL,
    modified_at       TEXT NOT NULL
);
CREATE INDEX items_published ON items(published_at);
CREATE INDEX items_feed ON items(feed_id);

CREATE TABLE item_feeds (
    item_id       INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    feed_id       INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    entry_id      TEXT NOT NULL,                 -- the entry's stable id in that feed
    entry_hash    TEXT NOT NULL,                 -- hash of the entry as that feed gave it
    first_seen_at TEXT NOT NULL,
    PRIMARY KEY (item_id, feed_id)
);
CREATE UNIQUE INDEX item_feeds_entry ON item_feeds(feed_id, entry_id);

CREATE TABLE item_labels (
    item_id            INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    label              TEXT NOT NULL,
    score              REAL NOT NULL,
    flagged            INTEGER NOT NULL,
    evidence           TEXT NOT NULL DEFAULT '[]', -- JSON [{sentence, start, end}]
    classifier_version TEXT NOT NULL,
    classified_at      TEXT NOT NULL,
    PRIMARY KEY (item_id, label)
);
CREATE INDEX item_labels_flagged ON item_labels(label, flagged);

CREATE VIRTUAL TABLE items_fts USING fts5(
    title, body, content='items', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts(items_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER items_fts_update AFTER UPDATE OF title, body ON items BEGIN
    INSERT INTO items_fts(items_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO items_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;

CREATE VIEW flagged_items AS
SELECT i.id               AS item_id,
       l.label            AS label,
       round(l.score, 3)  AS score,
       i.published_at     AS published_at,
       i.title            AS title,
       i.url              AS url,
       coalesce(f.name, f.title, f.url) AS feed,
       l.evidence         AS evidence,
       l.classifier_version AS classifier_version
FROM item_labels l
JOIN items i ON i.id = l.item_id
JOIN feeds f ON f.id = i.feed_id
WHERE l.flagged = 1
ORDER BY i.published_at DESC;
"#,
    // v2: keep the fetched article page (compressed) for re-extraction,
    // count extraction attempts (bounded retries), and store structured
    // events (actor, action, target) with each label.
    r#"
CREATE TABLE raw_pages (
    item_id      INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    url          TEXT NOT NULL,                  -- final URL after redirects
    fetched_at   TEXT NOT NULL,
    http_status  INTEGER NOT NULL,
    content_type TEXT,
    encoding     TEXT NOT NULL DEFAULT 'zstd',
    size         INTEGER NOT NULL,               -- bytes before compression
    body         BLOB NOT NULL
);
ALTER TABLE items ADD COLUMN extraction_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE item_labels ADD COLUMN events TEXT NOT NULL DEFAULT '[]';

DROP VIEW flagged_items;
CREATE VIEW flagged_items AS
SELECT i.id               AS item_id,
       l.label            AS label,
       round(l.score, 3)  AS score,
       i.published_at     AS published_at,
       i.title            AS title,
       i.url              AS url,
       coalesce(f.name, f.title, f.url) AS feed,
       l.evidence         AS evidence,
       l.events           AS events,
       l.classifier_version AS classifier_version
FROM item_labels l
JOIN items i ON i.id = l.item_id
JOIN feeds f ON f.id = i.feed_id
WHERE l.flagged = 1
ORDER BY i.published_at DESC;
"#,
    // v3: the daemon's schedule and fault handling. A feed answering 410
    // Gone is disabled (not deleted) until `secwire feeds enable`; each
    // feed's next fetch time survives restarts; transiently failed article
    // fetches carry their next retry time.
    r#"
ALTER TABLE feeds ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE feeds ADD COLUMN disabled_reason TEXT;
ALTER TABLE feeds ADD COLUMN next_fetch_at TEXT;
ALTER TABLE feeds ADD COLUMN poll_interval_secs INTEGER;
ALTER TABLE feeds ADD COLUMN last_unconditional_at TEXT;
ALTER TABLE items ADD COLUMN next_retry_at TEXT;
CREATE INDEX items_retry_due ON items(next_retry_at) WHERE extraction_status = 'fetch_retry';
"#,
    // v4: resumable history backfills. A job is one `backfill --since`
    // scope; its archive pages and sitemaps are recorded when done (with the
    // link to the next page, so a resumed walk continues without
    // re-fetching), and the articles they list wait in a queue until their
    // item is written.
    r#"
CREATE TABLE backfill_sources (
    job         TEXT NOT NULL,                   -- e.g. 'since:2024-01-01T00:00:00Z'
    kind        TEXT NOT NULL CHECK (kind IN ('page', 'sitemap', 'urls')),
    url         TEXT NOT NULL,
    feed_id     INTEGER REFERENCES feeds(id) ON DELETE CASCADE,
    state       TEXT NOT NULL CHECK (state IN ('done', 'failed')),
    next_url    TEXT,                            -- for pages: the next page to walk
    entries     INTEGER NOT NULL DEFAULT 0,      -- articles queued from it
    error       TEXT,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (job, kind, url)
);
CREATE TABLE backfill_queue (
    id       INTEGER PRIMARY KEY,
    job      TEXT NOT NULL,
    feed_id  INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    item_key TEXT NOT NULL,                      -- canonical article URL
    entry    TEXT NOT NULL,                      -- JSON: the entry as found
    source   TEXT NOT NULL,                      -- the page, sitemap or list it came from
    state    TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    added_at TEXT NOT NULL,
    done_at  TEXT,
    UNIQUE (job, item_key)
);
CREATE INDEX backfill_queue_pending ON backfill_queue(job, state, id);
"#,
];

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}
