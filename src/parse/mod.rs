//! Stage 2, **parse**: feed bytes to normalised entries.
//!
//! Pure: no I/O, no clock. feed-rs does the format work (RSS 0.9x/1.0/2.0,
//! Atom, JSON Feed); this module decodes the bytes first and normalises what
//! comes out: stable ids, absolute links, UTC dates, plain-text titles,
//! author names.

pub mod link;
pub mod text;

use std::time::Duration;

use chrono::{DateTime, Utc};
use thiserror::Error;
use url::Url;

use crate::charset::{self, DocKind};

/// What the caller knows about the document besides its bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions<'a> {
    /// The HTTP `Content-Type`, for its `charset`.
    pub content_type: Option<&'a str>,
    /// The URL the feed was fetched from: relative links resolve against it.
    pub base_url: Option<&'a Url>,
}

/// A parsed, normalised feed document.
#[derive(Debug, Clone, Default)]
pub struct ParsedFeed {
    pub title: Option<String>,
    /// The site the feed belongs to (channel `<link>`, Atom `rel=alternate`).
    pub site_url: Option<String>,
    pub entries: Vec<Entry>,
    /// RSS `<ttl>`: the publisher asks not to be polled more often.
    pub ttl: Option<Duration>,
    /// Problems that were recovered from (the feed was still read).
    pub warnings: Vec<String>,
}

/// One normalised feed entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// Stable id: the guid/atom:id, else the link, else a hash of title and
    /// date. The same entry gets the same id on every parse.
    pub id: String,
    /// The guid or atom:id exactly as the document gives it, if any.
    pub guid: Option<String>,
    /// Plain text (tags removed, entities decoded).
    pub title: Option<String>,
    /// Absolute when the document or the fetch URL gives a base.
    pub link: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// Person names only.
    pub authors: Vec<String>,
    /// The summary/description as given (may be HTML).
    pub summary: Option<String>,
    /// The full content (`content:encoded`, Atom `content`), HTML.
    pub content: Option<String>,
}

#[derive(Debug, Error)]
pub enum ParseError {
    #[error("empty document")]
    Empty,
    #[error("not a feed: {0}")]
    NotAFeed(String),
}

/// Marks ids that feed-rs made up, so that our own fallback chain replaces them.
const GENERATED_ID_MARK: &str = "\u{1}secwire-generated";

/// Parses a feed document.
pub fn parse_feed(bytes: &[u8], opts: ParseOptions<'_>) -> Result<ParsedFeed, ParseError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    let decoded = charset::decode(bytes, opts.content_type, DocKind::Xml);
    let mut warnings = Vec::new();
    if decoded.had_errors {
        warnings.push(format!(
            "invalid {} byte sequences replaced",
            decoded.encoding.name()
        ));
    }
    let utf8 = declare_utf8(&decoded.text);
    let parser = feed_rs::parser::Builder::new()
        .base_uri(opts.base_url.map(Url::as_str))
        .id_generator(|_, _, _| GENERATED_ID_MARK.to_string())
        .build();
    let feed = parser
        .parse(utf8.as_bytes())
        .map_err(|e| ParseError::NotAFeed(e.to_string()))?;

    let mut entries: Vec<Entry> = feed
        .entries
        .into_iter()
        .map(|e| {
            let guid = Some(e.id.trim().to_string())
                .filter(|id| !id.is_empty() && id != GENERATED_ID_MARK);
            let link = pick_link(&e.links).map(|href| link::resolve(&href, opts.base_url));
            Entry {
                id: String::new(),
                guid,
                title: text::non_empty_plain(e.title.as_ref().map(|t| t.content.as_str())),
                link,
                published: e.published,
                updated: e.updated,
                authors: e
                    .authors
                    .iter()
                    .filter_map(|p| p.name.as_deref().map(text::plain_text))
                    .filter(|n| !n.is_empty())
                    .collect(),
                summary: e
                    .summary
                    .map(|t| t.content)
                    .filter(|s| !s.trim().is_empty()),
                content: e
                    .content
                    .and_then(|c| c.body)
                    .filter(|s| !s.trim().is_empty()),
            }
        })
        .collect();
    assign_ids(&mut entries);

    Ok(ParsedFeed {
        title: text::non_empty_plain(feed.title.as_ref().map(|t| t.content.as_str())),
        site_url: pick_link(&feed.links).map(|href| link::resolve(&href, opts.base_url)),
        entries,
        ttl: feed.ttl.map(|m| Duration::from_secs(u64::from(m) * 60)),
        warnings,
    })
}

/// The text was decoded already; a leftover `encoding="windows-1251"` in the
/// XML declaration would make the XML reader decode it a second time.
fn declare_utf8(text: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = text.trim_start();
    if let Some(rest) = trimmed.strip_prefix("<?xml")
        && let Some(end) = rest.find("?>")
    {
        let decl = &rest[..end];
        if decl.contains("encoding") {
            let body = &rest[end + 2..];
            return std::borrow::Cow::Owned(format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>{body}"
            ));
        }
    }
    std::borrow::Cow::Borrowed(trimmed)
}

fn pick_link(links: &[feed_rs::model::Link]) -> Option<String> {
    links
        .iter()
        .find(|l| matches!(l.rel.as_deref(), None | Some("alternate")))
        .or_else(|| links.first())
        .map(|l| l.href.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// Gives every entry a stable id. The key is the guid; when any guid in the
/// document is blank or repeated, guids cannot tell entries apart and the
/// link is used for every entry instead; when links are also blank or
/// repeated, a hash of title and date.
pub fn assign_ids(entries: &mut [Entry]) {
    let guids_usable = all_distinct(entries.iter().map(|e| e.guid.as_deref()));
    let links_usable = all_distinct(entries.iter().map(|e| e.link.as_deref()));
    for e in entries.iter_mut() {
        e.id = if guids_usable {
            e.guid.clone().unwrap_or_default()
        } else if links_usable {
            e.link.clone().unwrap_or_default()
        } else {
            content_id(e)
        };
    }
}

fn all_distinct<'a>(keys: impl Iterator<Item = Option<&'a str>>) -> bool {
    let mut seen = std::collections::HashSet::new();
    for k in keys {
        match k {
            Some(k) if !k.trim().is_empty() && seen.insert(k) => {}
            _ => return false,
        }
    }
    true
}

/// A hash of what identifies an entry that has neither guid nor link.
fn content_id(e: &Entry) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(e.title.as_deref().unwrap_or("").as_bytes());
    h.update([0]);
    if let Some(d) = e.published.or(e.updated) {
        h.update(crate::timefmt::to_db(d).as_bytes());
    }
    h.update([0]);
    if e.title.is_none() {
        h.update(e.summary.as_deref().unwrap_or("").as_bytes());
    }
    format!("sha256:{}", hex::encode(&h.finalize()[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(doc: &str, base: Option<&str>) -> ParsedFeed {
        let base = base.map(|b| Url::parse(b).unwrap());
        parse_feed(
            doc.as_bytes(),
            ParseOptions {
                content_type: None,
                base_url: base.as_ref(),
            },
        )
        .unwrap()
    }

    #[test]
    fn rss2_basic() {
        let f = parse(
            r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T &amp; co</title><link>https://ex.com/</link>
            <item><title>One &lt;b&gt;bold&lt;/b&gt;</title><link>https://ex.com/1</link><guid>g1</guid>
            <pubDate>Tue, 15 Nov 2022 20:15:04 +0100</pubDate></item></channel></rss>"#,
            None,
        );
        assert_eq!(f.title.as_deref(), Some("T & co"));
        assert_eq!(f.entries.len(), 1);
        let e = &f.entries[0];
        assert_eq!(e.id, "g1");
        assert_eq!(e.title.as_deref(), Some("One bold"));
        assert_eq!(
            crate::timefmt::to_db(e.published.unwrap()),
            "2022-11-15T19:15:04Z"
        );
    }

    #[test]
    fn no_guids_relative_links() {
        let doc = r#"<rss version="2.0"><channel><title>x</title>
            <item><title>A</title><link>/a.html</link></item>
            <item><title>B</title><link>/b.html</link></item></channel></rss>"#;
        let f1 = parse(doc, Some("https://ex.com/feed.xml"));
        let f2 = parse(doc, Some("https://ex.com/feed.xml"));
        assert_eq!(f1.entries[0].link.as_deref(), Some("https://ex.com/a.html"));
        assert_eq!(f1.entries[0].id, "https://ex.com/a.html");
        assert_eq!(f1.entries[0].id, f2.entries[0].id);
        assert_ne!(f1.entries[0].id, f1.entries[1].id);
    }

    #[test]
    fn repeated_guids_fall_back_to_links() {
        let doc = r#"<rss version="2.0"><channel><title>x</title>
            <item><title>A</title><guid>same</guid><link>https://ex.com/a</link></item>
            <item><title>B</title><guid>same</guid><link>https://ex.com/b</link></item></channel></rss>"#;
        let f = parse(doc, None);
        assert_eq!(f.entries[0].id, "https://ex.com/a");
        assert_eq!(f.entries[1].id, "https://ex.com/b");
    }

    #[test]
    fn no_guid_no_link_is_stable_hash() {
        let doc = r#"<rss version="2.0"><channel><title>x</title>
            <item><title>A</title><pubDate>Tue, 15 Nov 2022 20:15:04 GMT</pubDate></item>
            <item><title>B</title></item></channel></rss>"#;
        let a = parse(doc, None);
        let b = parse(doc, None);
        assert!(a.entries[0].id.starts_with("sha256:"));
        assert_eq!(a.entries[0].id, b.entries[0].id);
        assert_ne!(a.entries[0].id, a.entries[1].id);
    }

    #[test]
    fn windows_1251_feed() {
        let (title, _, _) = encoding_rs::WINDOWS_1251.encode("Новости безопасности");
        let mut doc =
            br#"<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>"#
                .to_vec();
        doc.extend_from_slice(&title);
        doc.extend_from_slice(
            b"</title><item><title>x</title><guid>1</guid></item></channel></rss>",
        );
        let f = parse_feed(&doc, ParseOptions::default()).unwrap();
        assert_eq!(f.title.as_deref(), Some("Новости безопасности"));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(matches!(
            parse_feed(b"   ", ParseOptions::default()),
            Err(ParseError::Empty)
        ));
        assert!(parse_feed(b"<html><body>hi</body></html>", ParseOptions::default()).is_err());
        assert!(parse_feed(b"\x00\x01\x02binary", ParseOptions::default()).is_err());
    }
}
