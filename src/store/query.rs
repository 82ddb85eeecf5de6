//! Reading items back: the filters of `secwire query`, every one a bound
//! SQL parameter.

use rusqlite::{OptionalExtension, params_from_iter, types::Value};
use serde::Serialize;
use thiserror::Error;

use super::Store;

#[derive(Debug, Error)]
pub enum QueryError {
    #[error(
        "invalid search {query:?}: {reason} (FTS5 syntax: words, \"exact phrase\", AND/OR/NOT, prefix*)"
    )]
    BadSearch { query: String, reason: String },
    #[error("no feed matches {0:?} (give a feed id or URL; `secwire feeds` lists them)")]
    UnknownFeed(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Which feed: by id or by URL.
#[derive(Debug, Clone)]
pub enum FeedSelector {
    Id(i64),
    Url(String),
}

impl FeedSelector {
    pub fn parse(s: &str) -> FeedSelector {
        match s.trim().parse::<i64>() {
            Ok(id) => FeedSelector::Id(id),
            Err(_) => FeedSelector::Url(s.trim().to_string()),
        }
    }
}

/// Filters for [`query_items`]. Dates are stored-format strings.
#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    pub label: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub feed: Option<FeedSelector>,
    pub search: Option<String>,
    pub limit: Option<u64>,
}

/// A flagged label with its score.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct LabelScore {
    pub label: String,
    pub score: f64,
}

/// One item as `secwire query` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct ItemRow {
    pub id: i64,
    pub published: Option<String>,
    pub feed: String,
    pub feed_url: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub authors: Vec<String>,
    pub lang: Option<String>,
    pub extraction_status: String,
    pub labels: Vec<LabelScore>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

/// Runs a query.
pub fn query_items(store: &Store, q: &ItemQuery) -> Result<Vec<ItemRow>, QueryError> {
    let conn = store.conn();
    let mut sql = String::from(
        "SELECT i.id, i.published_at, coalesce(f.name, f.title, f.url), f.url, i.title, i.url,
                i.authors, i.lang, i.extraction_status,
                (SELECT json_group_array(json_object('label', l.label, 'score', round(l.score, 3)))
                   FROM item_labels l WHERE l.item_id = i.id AND l.flagged = 1)",
    );
    let mut args: Vec<Value> = Vec::new();
    if q.search.is_some() {
        sql.push_str(", snippet(items_fts, -1, '[', ']', '…', 12)");
    } else {
        sql.push_str(", NULL");
    }
    sql.push_str(" FROM items i JOIN feeds f ON f.id = i.feed_id");
    if let Some(s) = &q.search {
        sql.push_str(" JOIN items_fts ON items_fts.rowid = i.id AND items_fts MATCH ?");
        args.push(Value::Text(s.clone()));
    }
    sql.push_str(" WHERE 1 = 1");
    if let Some(label) = &q.label {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM item_labels l WHERE l.item_id = i.id AND l.label = ? AND l.flagged = 1)",
        );
        args.push(Value::Text(label.clone()));
    }
    if let Some(since) = &q.since {
        sql.push_str(" AND coalesce(i.published_at, i.updated_at, i.fetched_at) >= ?");
        args.push(Value::Text(since.clone()));
    }
    if let Some(until) = &q.until {
        sql.push_str(" AND coalesce(i.published_at, i.updated_at, i.fetched_at) < ?");
        args.push(Value::Text(until.clone()));
    }
    if let Some(feed) = &q.feed {
        let feed_id = resolve_feed(store, feed)?;
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM item_feeds x WHERE x.item_id = i.id AND x.feed_id = ?)",
        );
        args.push(Value::Integer(feed_id));
    }
    sql.push_str(" ORDER BY coalesce(i.published_at, i.updated_at, i.fetched_at) DESC, i.id DESC");
    if let Some(limit) = q.limit {
        sql.push_str(" LIMIT ?");
        args.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    }

    let search_err = |e: rusqlite::Error| -> QueryError {
        match (&q.search, &e) {
            (Some(s), rusqlite::Error::SqliteFailure(_, Some(msg)))
                if msg.contains("fts5")
                    || msg.contains("syntax error")
                    || msg.contains("no such column") =>
            {
                QueryError::BadSearch {
                    query: s.clone(),
                    reason: msg.clone(),
                }
            }
            _ => QueryError::Sqlite(e),
        }
    };
    let mut stmt = conn.prepare(&sql).map_err(search_err)?;
    let rows = stmt
        .query_map(params_from_iter(args), |r| {
            let authors: String = r.get(6)?;
            let labels: Option<String> = r.get(9)?;
            Ok(ItemRow {
                id: r.get(0)?,
                published: r.get(1)?,
                feed: r.get(2)?,
                feed_url: r.get(3)?,
                title: r.get(4)?,
                url: r.get(5)?,
                authors: serde_json::from_str(&authors).unwrap_or_default(),
                lang: r.get(7)?,
                extraction_status: r.get(8)?,
                labels: labels
                    .and_then(|l| serde_json::from_str(&l).ok())
                    .unwrap_or_default(),
                snippet: r.get(10)?,
            })
        })
        .map_err(search_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(search_err)
}

fn resolve_feed(store: &Store, sel: &FeedSelector) -> Result<i64, QueryError> {
    let conn = store.conn();
    let found = match sel {
        FeedSelector::Id(id) => conn
            .query_row("SELECT id FROM feeds WHERE id = ?1", [id], |r| r.get(0))
            .optional()?,
        FeedSelector::Url(u) => conn
            .query_row(
                "SELECT id FROM feeds WHERE url = ?1 OR config_url = ?1",
                [u],
                |r| r.get(0),
            )
            .optional()?,
    };
    found.ok_or_else(|| {
        QueryError::UnknownFeed(match sel {
            FeedSelector::Id(id) => id.to_string(),
            FeedSelector::Url(u) => u.clone(),
        })
    })
}
