//! Stage 2, **parse**: feed bytes to normalised entries.
//!
//! Pure: no I/O, no clock. How a document is read:
//!
//! 1. [`charset`](crate::charset) decodes the bytes (BOM, HTTP `charset`,
//!    XML declaration, then UTF-8 with a windows-1252 fallback per invalid
//!    byte).
//! 2. JSON Feed goes to feed-rs as it is. XML is pre-cleaned
//!    ([`clean`]): declaration dropped, bare `&` and `<` escaped, forbidden
//!    characters removed, the root element repaired (missing RSS
//!    `version`, `<rss xmlns=…>`, RSS 0.90 and Atom 0.3 namespaces).
//! 3. feed-rs parses the cleaned text (with our lenient [`date`] parser as
//!    its timestamp hook, and an id hook that marks the ids it would make
//!    up, so that they are replaced by ours). It decides the format and
//!    gives the feed-level data.
//! 4. The [`sidecar`] reads the same text leniently and keeps, per entry,
//!    what feed-rs drops or garbles (ids, `rdf:about`, full descriptions,
//!    `content:encoded`, Atom `content`, raw author strings, raw dates,
//!    links resolved against `xml:base`). When both found the same number
//!    of entries they are merged, sidecar values first; when feed-rs
//!    failed, or found a different number of entries (the sidecar also
//!    reads items outside `<channel>` and documents with unclosed tags),
//!    the sidecar's entries are used alone and a warning says so.
//! 5. Entries are normalised: stable ids ([`ids`]), absolute links,
//!    UTC dates, plain-text titles ([`text`]), author names ([`person`]).
//!
//! Where this deliberately differs from feedparser (the reference it is
//! measured against):
//! * titles are plain text: feedparser returns HTML titles with their
//!   markup and entities (`2009&#8217;s`, `1930ft<sup>2</sup>`), secwire
//!   decodes and strips them (`2009’s`, `1930ft2`); Atom `type="text"`
//!   titles are literal text in both;
//! * `dc:date` is a publication date here (feedparser files it under
//!   `updated`), and `updated` is only set from an explicit
//!   `updated`/`modified` element (feed-rs copies `pubDate` into it);
//! * a guid or Atom id becomes the link of an entry without a link only
//!   when it is an http(s) URL (feedparser also uses `urn:uuid:…` and
//!   `tag:…` ids as links);
//! * an entry without guid gets an id anyway (link, else a content hash);
//!   feedparser leaves it empty;
//! * absolute links are kept as written (no host lower-casing), relative
//!   ones are resolved against `xml:base` and the fetch URL;
//! * `summary` is the description/summary as given; feedparser fills a
//!   missing summary from the content, secwire keeps the content apart;
//! * Microsoft's CDF (`<CHANNEL>`, 1997) is rejected as not a feed;
//! * dates feedparser cannot read (other languages' day and month names,
//!   Unix times, zone names other than North American ones) are read, and
//!   `2020/1/10` is 10 January (feedparser makes it 1 November).
//!   See [`date`], [`person`] and [`ids`] for the details.

pub mod clean;
pub mod date;
pub mod ids;
pub mod link;
pub mod person;
pub mod sidecar;
pub mod text;

use std::time::Duration;

use chrono::{DateTime, Utc};
use thiserror::Error;
use url::Url;

use crate::charset::{self, DocKind};
use sidecar::{DateSource, RawEntry, RawFeed, TextKind, TextValue};

pub use ids::assign_ids;

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
    /// RSS `sy:updatePeriod` divided by `sy:updateFrequency` (either may be
    /// absent; the defaults are daily and 1): how often the publisher says
    /// the feed changes.
    pub update_interval: Option<Duration>,
    /// RFC 5005 paged feed: `atom:link rel="next"`, the next (older) page.
    pub next_page: Option<String>,
    /// RFC 5005 archived feed: `atom:link rel="prev-archive"`.
    pub prev_archive: Option<String>,
    /// What generated the feed (`<generator>`), e.g. `https://wordpress.org/?v=6.6`.
    pub generator: Option<String>,
    /// Problems that were recovered from (the feed was still read).
    pub warnings: Vec<String>,
}

/// One normalised feed entry. Serialisable: history backfills queue
/// entries in the database until their article is processed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Entry {
    /// Stable id: the guid, else the link, else a hash of title and date;
    /// a key shared by different entries of the document is skipped for
    /// them (see [`ids`]). The same entry gets the same id on every parse.
    pub id: String,
    /// The entry's own identifier as the document gives it (trimmed), if
    /// any: RSS `guid`, Atom `id`, RSS 1.0 `rdf:about`, JSON Feed `id`.
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
    let text = decoded
        .text
        .trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if text.starts_with('{') {
        return parse_json(text, opts, warnings);
    }
    let cleaned = clean::clean_xml(text);
    warnings.extend(cleaned.repairs.iter().map(|r| r.to_string()));

    let fr = parse_with_feed_rs(opts, &cleaned.text);
    let raw = sidecar::read(&cleaned.text, opts.base_url);
    let (fr, raw) = match (fr, raw) {
        (Ok(feed), raw) => (Some(feed), raw.ok()),
        (Err(e), Ok(raw)) => {
            warnings.push(format!("read leniently: {e}"));
            (None, Some(raw))
        }
        (Err(_), Err(sidecar::NotAFeed::Root(root))) => {
            // Includes Microsoft's CDF (`<CHANNEL>`), which is not supported.
            return Err(ParseError::NotAFeed(format!(
                "root element <{root}> is not rss, rdf:RDF or feed"
            )));
        }
        (Err(e), Err(sidecar::NotAFeed::NoElement)) => {
            return Err(ParseError::NotAFeed(e));
        }
    };
    if let Some(raw) = &raw {
        if !raw.complete {
            warnings.push("document cut short or malformed: read up to the error".into());
        }
        if raw.repaired_tags {
            warnings.push("mismatched end tags repaired".into());
        }
    }
    Ok(build_xml(fr, raw, opts, warnings))
}

/// feed-rs on the cleaned text. A panic inside feed-rs (3.0.0 has
/// `unwrap()`s on input-derived values) is contained and reported as a
/// failure, so that the sidecar's reading is used instead.
fn parse_with_feed_rs(opts: ParseOptions<'_>, text: &str) -> Result<feed_rs::model::Feed, String> {
    let parser = feed_rs_parser(opts);
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parser.parse(text.as_bytes())
    })) {
        Ok(Ok(feed)) => Ok(feed),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("feed-rs panicked".to_string()),
    }
}

fn feed_rs_parser(opts: ParseOptions<'_>) -> feed_rs::parser::Parser {
    feed_rs::parser::Builder::new()
        .base_uri(opts.base_url.map(Url::as_str))
        .id_generator(|_, _, _| GENERATED_ID_MARK.to_string())
        .timestamp_parser(date::parse_date)
        .build()
}

/// Feed-level values and entries of an XML feed, from feed-rs and/or the
/// sidecar.
fn build_xml(
    fr: Option<feed_rs::model::Feed>,
    raw: Option<RawFeed>,
    opts: ParseOptions<'_>,
    mut warnings: Vec<String>,
) -> ParsedFeed {
    let base = opts.base_url;
    let (fr_entries, fr_title, fr_links, fr_ttl) = match fr {
        Some(f) => (
            Some(f.entries),
            f.title,
            f.links,
            f.ttl.map(|m| Duration::from_secs(u64::from(m) * 60)),
        ),
        None => (None, None, Vec::new(), None),
    };
    let Some(raw) = raw else {
        // feed-rs read it but the sidecar did not recognise the root.
        let entries = fr_entries
            .unwrap_or_default()
            .iter()
            .map(|e| from_feed_rs(e, base, false))
            .collect();
        return finish(ParsedFeed {
            title: text::non_empty_plain(fr_title.as_ref().map(|t| t.content.as_str())),
            site_url: pick_link(&fr_links).and_then(|h| sidecar::resolve_url(&h, base)),
            entries,
            ttl: fr_ttl,
            warnings,
            ..ParsedFeed::default()
        });
    };

    let entries: Vec<Entry> = match fr_entries {
        Some(fe) if fe.len() == raw.entries.len() => raw
            .entries
            .iter()
            .zip(fe.iter())
            .map(|(r, f)| merge(r, Some(f), raw.format, base))
            .collect(),
        Some(fe) if fe.len() > raw.entries.len() && !raw.complete => {
            warnings.push(format!(
                "lenient reader stopped early; {} entries from feed-rs",
                fe.len()
            ));
            fe.iter().map(|e| from_feed_rs(e, base, false)).collect()
        }
        other => {
            if let Some(fe) = other {
                warnings.push(format!(
                    "feed-rs found {} entries, the lenient reader {}: using the latter",
                    fe.len(),
                    raw.entries.len()
                ));
            }
            raw.entries
                .iter()
                .map(|r| merge(r, None, raw.format, base))
                .collect()
        }
    };

    let title = raw
        .title
        .as_ref()
        .and_then(text_value)
        .or_else(|| text::non_empty_plain(fr_title.as_ref().map(|t| t.content.as_str())));
    let ttl = raw
        .ttl
        .as_deref()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .map(|m| Duration::from_secs(m.saturating_mul(60)))
        .or(fr_ttl);
    finish(ParsedFeed {
        title,
        site_url: raw
            .site_link
            .clone()
            .or_else(|| pick_link(&fr_links).and_then(|h| sidecar::resolve_url(&h, base))),
        entries,
        ttl,
        update_interval: update_interval(
            raw.update_period.as_deref(),
            raw.update_frequency.as_deref(),
        ),
        next_page: raw.next_page.clone(),
        prev_archive: raw.prev_archive.clone(),
        generator: raw.generator.clone(),
        warnings,
    })
}

fn finish(mut feed: ParsedFeed) -> ParsedFeed {
    ids::assign_ids(&mut feed.entries);
    feed
}

/// `sy:updatePeriod` / `sy:updateFrequency`.
fn update_interval(period: Option<&str>, frequency: Option<&str>) -> Option<Duration> {
    if period.is_none() && frequency.is_none() {
        return None;
    }
    let hours: u64 = match period.map(|p| p.trim().to_ascii_lowercase()).as_deref() {
        Some("hourly") => 1,
        None | Some("daily") | Some("") => 24,
        Some("weekly") => 24 * 7,
        Some("monthly") => 24 * 30,
        Some("yearly") => 24 * 365,
        Some(_) => return None,
    };
    let freq: u64 = match frequency.map(str::trim) {
        None | Some("") => 1,
        Some(f) => f.parse().ok().filter(|&f| f > 0)?,
    };
    Some(Duration::from_secs(hours * 3600 / freq))
}

/// Plain text of a text construct: HTML is decoded and stripped, Atom
/// `type="text"` is literal (whitespace collapsed only).
fn text_value(v: &TextValue) -> Option<String> {
    let t = match v.kind {
        TextKind::Text => text::collapse_ws(&v.value),
        TextKind::Html | TextKind::Xhtml => text::plain_text(&v.value),
    };
    (!t.is_empty()).then_some(t)
}

fn non_empty(v: Option<&TextValue>) -> Option<String> {
    v.map(|t| t.value.clone()).filter(|s| !s.trim().is_empty())
}

/// An entry from the sidecar's raw values, with feed-rs's filling gaps.
fn merge(
    r: &RawEntry,
    f: Option<&feed_rs::model::Entry>,
    format: sidecar::Format,
    base: Option<&Url>,
) -> Entry {
    let fr = f.map(|f| from_feed_rs(f, base, false));
    let guid = r
        .guid
        .clone()
        .or_else(|| r.atom_id.clone())
        .or_else(|| r.about.clone())
        .or_else(|| fr.as_ref().and_then(|e| e.guid.clone()));
    let title = r
        .title
        .as_ref()
        .and_then(text_value)
        .or_else(|| r.alt_title.as_ref().and_then(text_value))
        .or_else(|| fr.as_ref().and_then(|e| e.title.clone()));
    // No fallback to feed-rs here: it takes any link, `rel="self"` or
    // `comments` included, when there is no alternate one.
    let link = entry_link(r, format);
    let (mut published, mut updated) = entry_dates(r);
    if r.dates.is_empty()
        && let Some(e) = &fr
    {
        published = e.published;
        updated = e.updated;
    }
    let mut authors = r.authors.clone();
    if authors.is_empty()
        && let Some(e) = &fr
    {
        authors = e.authors.clone();
    }
    let summary = non_empty(r.summary.as_ref())
        .or_else(|| non_empty(r.alt_summary.as_ref()))
        .or_else(|| fr.as_ref().and_then(|e| e.summary.clone()));
    let content = non_empty(r.content.as_ref()).or_else(|| fr.and_then(|e| e.content));
    Entry {
        id: String::new(),
        guid,
        title,
        link,
        published,
        updated,
        authors,
        summary,
        content,
    }
}

fn is_html_type(mime: Option<&str>) -> bool {
    matches!(
        mime,
        None | Some("text/html" | "application/xhtml+xml" | "html" | "xhtml")
    )
}

fn is_http_url(s: &str) -> bool {
    Url::parse(s.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// The entry's link: the HTML alternate link (Atom) or `<link>` (RSS),
/// else a guid/id that is an http(s) URL (RSS: unless
/// `isPermaLink="false"`), else any alternate link.
fn entry_link(r: &RawEntry, format: sidecar::Format) -> Option<String> {
    let alternate_html = r
        .links
        .iter()
        .find(|l| l.rel == "alternate" && is_html_type(l.mime.as_deref()))
        .map(|l| l.href.clone());
    let primary = if format == sidecar::Format::Atom {
        alternate_html.or_else(|| r.text_link.clone())
    } else {
        r.text_link.clone().or(alternate_html)
    };
    primary
        .or_else(|| {
            r.guid
                .as_deref()
                .filter(|g| r.guid_is_permalink && is_http_url(g))
                .or(r.atom_id.as_deref().filter(|g| is_http_url(g)))
                .map(|g| g.trim().to_string())
        })
        .or_else(|| {
            r.links
                .iter()
                .find(|l| l.rel == "alternate")
                .map(|l| l.href.clone())
        })
}

/// Publication and update dates from the raw date elements.
fn entry_dates(r: &RawEntry) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let first = |sources: &[DateSource]| {
        sources.iter().find_map(|s| {
            r.dates
                .iter()
                .filter(|(src, _)| src == s)
                .find_map(|(_, v)| date::parse_date(v))
        })
    };
    let published = first(&[
        DateSource::PubDate,
        DateSource::Published,
        DateSource::Issued,
        DateSource::DcDate,
        DateSource::Created,
    ]);
    let updated = first(&[DateSource::Updated, DateSource::Modified]);
    (published, updated)
}

/// An entry from feed-rs alone (JSON Feed, or when the sidecar could not
/// pair its entries). `json`: feed-rs's `updated` is explicit there; for
/// RSS it copies `pubDate` into it, which is undone.
fn from_feed_rs(e: &feed_rs::model::Entry, base: Option<&Url>, json: bool) -> Entry {
    let guid = Some(e.id.trim().to_string()).filter(|id| !id.is_empty() && id != GENERATED_ID_MARK);
    let title = text::non_empty_plain(e.title.as_ref().map(|t| t.content.as_str()));
    let updated = if json {
        e.updated
    } else {
        e.updated.filter(|u| Some(*u) != e.published)
    };
    Entry {
        id: String::new(),
        guid,
        title,
        link: pick_link(&e.links).and_then(|h| sidecar::resolve_url(&h, base)),
        published: e.published,
        updated,
        authors: e
            .authors
            .iter()
            .filter_map(|p| p.name.as_deref().and_then(person::name_of))
            .fold(Vec::new(), |mut v: Vec<String>, n| {
                if !v.iter().any(|x| x.eq_ignore_ascii_case(&n)) {
                    v.push(n);
                }
                v
            }),
        summary: e
            .summary
            .as_ref()
            .map(|t| t.content.clone())
            .filter(|s| !s.trim().is_empty()),
        content: e
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .filter(|s| !s.trim().is_empty()),
    }
}

/// JSON Feed, read by feed-rs.
fn parse_json(
    text: &str,
    opts: ParseOptions<'_>,
    warnings: Vec<String>,
) -> Result<ParsedFeed, ParseError> {
    let feed = feed_rs_parser(opts)
        .parse(text.as_bytes())
        .map_err(|e| ParseError::NotAFeed(e.to_string()))?;
    let base = opts.base_url;
    Ok(finish(ParsedFeed {
        title: text::non_empty_plain(feed.title.as_ref().map(|t| t.content.as_str())),
        site_url: pick_link(&feed.links).and_then(|h| sidecar::resolve_url(&h, base)),
        entries: feed
            .entries
            .iter()
            .map(|e| from_feed_rs(e, base, true))
            .collect(),
        ttl: None,
        warnings,
        ..ParsedFeed::default()
    }))
}

fn pick_link(links: &[feed_rs::model::Link]) -> Option<String> {
    links
        .iter()
        .find(|l| matches!(l.rel.as_deref(), None | Some("alternate")))
        .or_else(|| links.first())
        .map(|l| l.href.trim().to_string())
        .filter(|h| !h.is_empty())
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

    fn db(d: Option<DateTime<Utc>>) -> Option<String> {
        d.map(crate::timefmt::to_db)
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
        assert_eq!(f.site_url.as_deref(), Some("https://ex.com/"));
        assert_eq!(f.entries.len(), 1);
        let e = &f.entries[0];
        assert_eq!(e.id, "g1");
        assert_eq!(e.title.as_deref(), Some("One bold"));
        assert_eq!(db(e.published).as_deref(), Some("2022-11-15T19:15:04Z"));
        assert_eq!(e.updated, None, "pubDate is not copied into updated");
    }

    #[test]
    fn windows_1251_feed() {
        let (title, _, _) = encoding_rs::WINDOWS_1251.encode("Новости безопасности");
        let mut doc =
            br#"<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>"#
                .to_vec();
        doc.extend_from_slice(&title);
        doc.extend_from_slice(b"</title><item><title>");
        doc.extend_from_slice(&title);
        doc.extend_from_slice(b"</title><guid>1</guid></item></channel></rss>");
        let f = parse_feed(&doc, ParseOptions::default()).unwrap();
        assert_eq!(f.title.as_deref(), Some("Новости безопасности"));
        assert_eq!(f.entries[0].title.as_deref(), Some("Новости безопасности"));
    }

    #[test]
    fn http_charset_iso_8859_1() {
        let mut doc = b"<rss version=\"2.0\"><channel><item><title>Caf".to_vec();
        doc.push(0xE9);
        doc.extend_from_slice(b"</title></item></channel></rss>");
        let f = parse_feed(
            &doc,
            ParseOptions {
                content_type: Some("application/rss+xml; charset=ISO-8859-1"),
                base_url: None,
            },
        )
        .unwrap();
        assert_eq!(f.entries[0].title.as_deref(), Some("Café"));
    }

    #[test]
    fn rss1_rdf_about_and_dc() {
        let f = parse(
            r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
            <channel rdf:about="https://ex.com/"><title>R</title><link>https://ex.com/</link></channel>
            <item rdf:about="https://ex.com/a"><title>A</title><link>https://ex.com/a?from=rss</link>
              <dc:date>2019-08-27</dc:date><dc:creator>Ann Author</dc:creator></item>
            <item rdf:about="https://ex.com/b"><title>B</title><link>https://ex.com/b?from=rss</link></item>
            </rdf:RDF>"#,
            None,
        );
        assert_eq!(f.entries.len(), 2);
        let e = &f.entries[0];
        assert_eq!(e.id, "https://ex.com/a");
        assert_eq!(e.guid.as_deref(), Some("https://ex.com/a"));
        assert_eq!(e.link.as_deref(), Some("https://ex.com/a?from=rss"));
        assert_eq!(db(e.published).as_deref(), Some("2019-08-27T00:00:00Z"));
        assert_eq!(e.authors, vec!["Ann Author"]);
    }

    #[test]
    fn rss090_namespace() {
        let f = parse(
            r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">
            <channel><title>Old</title><link>https://ex.com/</link></channel>
            <item><title>A</title><link>https://ex.com/a</link></item></rdf:RDF>"#,
            None,
        );
        assert_eq!(f.title.as_deref(), Some("Old"));
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.entries[0].link.as_deref(), Some("https://ex.com/a"));
    }

    #[test]
    fn content_encoded_and_full_description() {
        let f = parse(
            r#"<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
            <item><title>A</title><guid>a</guid>
              <description>Short <a href="https://ex.com/x">link</a> and more</description>
              <content:encoded><![CDATA[<p>Full <b>text</b></p>]]></content:encoded></item>
            </channel></rss>"#,
            None,
        );
        let e = &f.entries[0];
        assert_eq!(e.content.as_deref(), Some("<p>Full <b>text</b></p>"));
        assert_eq!(
            e.summary.as_deref(),
            Some(r#"Short <a href="https://ex.com/x">link</a> and more"#)
        );
    }

    #[test]
    fn atom_content_summary_and_persons() {
        let f = parse(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">A &amp;amp; B</title>
            <link rel="next" href="https://ex.com/feed?page=2"/>
            <link rel="prev-archive" href="https://ex.com/archive/2021"/>
            <generator uri="https://wordpress.org/">WordPress</generator>
            <entry><id>tag:ex.com,2024:1</id><title type="text">x &lt; y</title>
              <link rel="alternate" type="text/html" href="https://ex.com/1"/>
              <author><name>Jane Doe</name><email>jane@ex.com</email></author>
              <published>2024-01-02T03:04:05+01:00</published><updated>2024-01-03T00:00:00Z</updated>
              <summary>Sum</summary>
              <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Body</p></div></content>
            </entry></feed>"#,
            None,
        );
        assert_eq!(f.title.as_deref(), Some("A & B"));
        assert_eq!(f.next_page.as_deref(), Some("https://ex.com/feed?page=2"));
        assert_eq!(f.generator.as_deref(), Some("WordPress"));
        assert_eq!(
            f.prev_archive.as_deref(),
            Some("https://ex.com/archive/2021")
        );
        let e = &f.entries[0];
        assert_eq!(e.id, "tag:ex.com,2024:1");
        assert_eq!(e.title.as_deref(), Some("x < y"));
        assert_eq!(e.link.as_deref(), Some("https://ex.com/1"));
        assert_eq!(e.authors, vec!["Jane Doe"]);
        assert_eq!(db(e.published).as_deref(), Some("2024-01-02T02:04:05Z"));
        assert_eq!(db(e.updated).as_deref(), Some("2024-01-03T00:00:00Z"));
        assert_eq!(e.summary.as_deref(), Some("Sum"));
        assert_eq!(e.content.as_deref(), Some("<p>Body</p>"));
    }

    #[test]
    fn atom_03() {
        let f = parse(
            r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Old Atom</title>
            <entry><title>E</title><link rel="alternate" type="text/html" href="https://ex.com/e"/>
            <id>tag:ex.com,2005:e</id><issued>2005-01-02T00:00:00Z</issued><modified>2005-01-03T00:00:00Z</modified>
            <content type="text/html" mode="escaped">&lt;p&gt;Hi&lt;/p&gt;</content></entry></feed>"#,
            None,
        );
        assert_eq!(f.entries.len(), 1);
        let e = &f.entries[0];
        assert_eq!(e.link.as_deref(), Some("https://ex.com/e"));
        assert_eq!(db(e.published).as_deref(), Some("2005-01-02T00:00:00Z"));
        assert_eq!(db(e.updated).as_deref(), Some("2005-01-03T00:00:00Z"));
        assert_eq!(e.content.as_deref(), Some("<p>Hi</p>"));
    }

    #[test]
    fn xml_base_and_relative_links() {
        let f = parse(
            r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://ex.com/blog/">
            <link href="/"/>
            <entry xml:base="posts/"><id>1</id><link href="one.html"/></entry>
            <entry><id>2</id><link href="two.html"/></entry></feed>"#,
            Some("https://other.org/feed.xml"),
        );
        assert_eq!(f.site_url.as_deref(), Some("https://ex.com/"));
        assert_eq!(
            f.entries[0].link.as_deref(),
            Some("https://ex.com/blog/posts/one.html")
        );
        assert_eq!(
            f.entries[1].link.as_deref(),
            Some("https://ex.com/blog/two.html")
        );

        let f = parse(
            r#"<rss version="2.0"><channel><item><title>A</title><link>../a.html</link></item></channel></rss>"#,
            Some("https://ex.com/feeds/all.xml"),
        );
        assert_eq!(f.entries[0].link.as_deref(), Some("https://ex.com/a.html"));
        assert_eq!(f.entries[0].id, "https://ex.com/a.html");
    }

    #[test]
    fn email_name_authors() {
        let f = parse(
            r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
            <item><title>A</title><author>jane@ex.com (Jane Doe)</author></item>
            <item><title>B</title><author>john@ex.com</author><dc:creator>John Roe</dc:creator></item>
            <item><title>C</title><author>noreply@blogger.com</author></item>
            </channel></rss>"#,
            None,
        );
        assert_eq!(f.entries[0].authors, vec!["Jane Doe"]);
        assert_eq!(f.entries[1].authors, vec!["John Roe"]);
        assert!(f.entries[2].authors.is_empty());
    }

    #[test]
    fn bare_ampersand_does_not_reject_the_feed() {
        let f = parse(
            r#"<rss version="2.0"><channel><title>Q & A</title>
            <item><title>Tom & Jerry</title><link>https://ex.com/?a=1&b=2</link></item>
            <item><title>Two</title><link>https://ex.com/2</link></item></channel></rss>"#,
            None,
        );
        assert_eq!(f.title.as_deref(), Some("Q & A"));
        assert_eq!(f.entries.len(), 2);
        assert_eq!(f.entries[0].title.as_deref(), Some("Tom & Jerry"));
        assert_eq!(
            f.entries[0].link.as_deref(),
            Some("https://ex.com/?a=1&b=2")
        );
    }

    #[test]
    fn missing_or_odd_version() {
        for root in ["<rss>", r#"<rss version="0.94">"#, r#"<rss version="0.9">"#] {
            let doc = format!(
                "{root}<channel><title>V</title><item><title>A</title><link>https://ex.com/a</link></item></channel></rss>"
            );
            let f = parse(&doc, None);
            assert_eq!(f.entries.len(), 1, "{root}");
            assert!(f.warnings.iter().any(|w| w.contains("version")), "{root}");
        }
    }

    #[test]
    fn rss_with_default_namespace() {
        let f = parse(
            r#"<rss version="2.0" xmlns="http://backend.userland.com/rss2"><channel><title>NS</title>
            <item><title>A</title><guid>a</guid></item><item><title>B</title><guid>b</guid></item></channel></rss>"#,
            None,
        );
        assert_eq!(f.title.as_deref(), Some("NS"));
        assert_eq!(f.entries.len(), 2);
    }

    #[test]
    fn odd_dates() {
        let f = parse(
            r#"<rss version="2.0"><channel>
            <item><title>A</title><pubDate>2018-12-13 00:00:00</pubDate></item>
            <item><title>B</title><pubDate>2009-01-12T5:40:14-05:00</pubDate></item>
            <item><title>C</title><pubDate>Sat Oct 06 2018 00:00:00 GMT</pubDate></item>
            <item><title>D</title><pubDate>not a date</pubDate></item>
            </channel></rss>"#,
            None,
        );
        let d: Vec<Option<String>> = f.entries.iter().map(|e| db(e.published)).collect();
        assert_eq!(
            d,
            vec![
                Some("2018-12-13T00:00:00Z".to_string()),
                Some("2009-01-12T10:40:14Z".to_string()),
                Some("2018-10-06T00:00:00Z".to_string()),
                None
            ]
        );
    }

    #[test]
    fn blank_and_repeated_guids() {
        let f = parse(
            r#"<rss version="2.0"><channel>
            <item><title>A</title><guid>https://ex.com/</guid><link>https://ex.com/a</link></item>
            <item><title>B</title><guid>https://ex.com/</guid><link>https://ex.com/b</link></item>
            <item><title>C</title><guid> </guid><link>https://ex.com/c</link></item>
            <item><title>D</title><guid>d-1</guid><link>https://ex.com/d</link></item>
            </channel></rss>"#,
            None,
        );
        let ids: Vec<&str> = f.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "https://ex.com/a",
                "https://ex.com/b",
                "https://ex.com/c",
                "d-1"
            ]
        );
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
    fn ids_are_stable_across_parses_and_order() {
        let items = [
            "<item><title>A</title><guid>ga</guid></item>",
            "<item><title>B</title><link>https://ex.com/b</link></item>",
            "<item><title>C</title><description>only text</description></item>",
            r#"<item><title>D</title><pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate></item>"#,
        ];
        let doc = |order: &[usize]| {
            let body: String = order.iter().map(|&i| items[i]).collect();
            format!(r#"<rss version="2.0"><channel>{body}</channel></rss>"#)
        };
        let id_of = |f: &ParsedFeed, title: &str| {
            f.entries
                .iter()
                .find(|e| e.title.as_deref() == Some(title))
                .map(|e| e.id.clone())
                .unwrap()
        };
        let first = parse(&doc(&[0, 1, 2, 3]), None);
        let again = parse(&doc(&[0, 1, 2, 3]), None);
        let shuffled = parse(&doc(&[3, 1, 0, 2]), None);
        let fewer = parse(&doc(&[2, 3]), None);
        for t in ["A", "B", "C", "D"] {
            assert_eq!(id_of(&first, t), id_of(&again, t));
            assert_eq!(id_of(&first, t), id_of(&shuffled, t));
        }
        assert_eq!(id_of(&first, "C"), id_of(&fewer, "C"));
        assert_eq!(id_of(&first, "D"), id_of(&fewer, "D"));
        assert!(first.entries.iter().all(|e| !e.id.contains('\u{1}')));
    }

    #[test]
    fn json_feed() {
        let f = parse(
            r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","home_page_url":"https://ex.com/",
            "items":[{"id":"1","url":"https://ex.com/1","title":"One &amp; two","date_published":"2024-01-02T03:04:05Z",
            "authors":[{"name":"Ann"}],"content_html":"<p>x</p>","summary":"s"},
            {"url":"https://ex.com/2","title":"No id"}]}"#,
            None,
        );
        assert_eq!(f.title.as_deref(), Some("J"));
        assert_eq!(f.entries.len(), 2);
        let e = &f.entries[0];
        assert_eq!(e.id, "1");
        assert_eq!(e.title.as_deref(), Some("One & two"));
        assert_eq!(e.link.as_deref(), Some("https://ex.com/1"));
        assert_eq!(db(e.published).as_deref(), Some("2024-01-02T03:04:05Z"));
        assert_eq!(e.authors, vec!["Ann"]);
        assert_eq!(e.content.as_deref(), Some("<p>x</p>"));
        assert_eq!(f.entries[1].id, "https://ex.com/2");
    }

    #[test]
    fn unclosed_tags_are_recovered() {
        let f = parse(
            r#"<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>P</title>
            <itunes:category text="Technology">
            <item><title>A</title><description>one<br>two</description><guid>a</guid></item>
            <item><title>B</title><guid>b</guid></item>
            </channel></rss>"#,
            None,
        );
        assert_eq!(f.entries.len(), 2);
        assert_eq!(f.entries[0].summary.as_deref(), Some("one<br>two"));
        assert!(!f.warnings.is_empty());
    }

    #[test]
    fn guid_permalink_as_link() {
        let f = parse(
            r#"<rss version="2.0"><channel>
            <item><title>A</title><guid>https://ex.com/a</guid></item>
            <item><title>B</title><guid isPermaLink="false">https://ex.com/b</guid></item>
            </channel></rss>"#,
            None,
        );
        assert_eq!(f.entries[0].link.as_deref(), Some("https://ex.com/a"));
        assert_eq!(f.entries[1].link, None);
    }

    #[test]
    fn syndication_interval_and_ttl() {
        let f = parse(
            r#"<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>
            <ttl>60</ttl><sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>
            </channel></rss>"#,
            None,
        );
        assert_eq!(f.ttl, Some(Duration::from_secs(3600)));
        assert_eq!(f.update_interval, Some(Duration::from_secs(1800)));
    }

    #[test]
    fn html_title_markup_and_entities() {
        let f = parse(
            r#"<rss version="2.0"><channel>
            <item><title><![CDATA[Price &#x0024;4300 1930ft<sup>2</sup>]]></title></item>
            <item><title>2009&amp;#8217;s year</title></item>
            <item><title><![CDATA[Guide to Parameters<Type>]]></title></item>
            </channel></rss>"#,
            None,
        );
        let t: Vec<&str> = f
            .entries
            .iter()
            .filter_map(|e| e.title.as_deref())
            .collect();
        assert_eq!(
            t,
            vec![
                "Price $4300 1930ft2",
                "2009’s year",
                "Guide to Parameters<Type>"
            ]
        );
    }

    #[test]
    fn overlong_itunes_duration_does_not_panic() {
        // feed-rs 3.0.0 unwraps the u64 parse of durations.
        let f = parse(
            r#"<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
                 xmlns:media="http://search.yahoo.com/mrss/"><channel>
            <item><title>A</title><itunes:duration>99999999999999999999999</itunes:duration>
            <itunes:author>Pod Caster</itunes:author>
            <media:thumbnail url="https://ex.com/t.jpg" time="99999999999999999999999"/></item>
            </channel></rss>"#,
            None,
        );
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.entries[0].authors, vec!["Pod Caster"]);
    }

    /// Random mutations of small feeds (fixed seed): whatever comes out,
    /// nothing may panic.
    #[test]
    fn mutated_documents_never_panic() {
        let seeds: [&[u8]; 4] = [
            br#"<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title><item><title>A &amp; B</title><link>/a</link><guid isPermaLink="true">g</guid><pubDate>Tue, 15 Nov 2022 20:15:04 +0100</pubDate><author>a@b.c (N)</author><description><![CDATA[<p>x</p>]]></description></item></channel></rss>"#,
            br#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://ex.com/"><entry><id>1</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x</div></title><link href="a"/><author><name>N</name></author><updated>2024-01-01T00:00:00Z</updated><content type="html">&lt;b&gt;</content></entry></feed>"#,
            br#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><item rdf:about="u"><title>t</title><dc:date>2019-08-27</dc:date></item></rdf:RDF>"#,
            br#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"1","title":"x","date_published":"2024-01-02T03:04:05Z"}]}"#,
        ];
        let specials: &[u8] = b"<>&;\"'/=![]#x0 \xff\xc3";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..1500 {
            let mut doc = seeds[round % seeds.len()].to_vec();
            for _ in 0..(1 + next() % 6) {
                if doc.is_empty() {
                    break;
                }
                let at = (next() as usize) % doc.len();
                match next() % 4 {
                    0 => doc[at] = specials[(next() as usize) % specials.len()],
                    1 => doc.insert(at, specials[(next() as usize) % specials.len()]),
                    2 => {
                        let end = (at + 1 + (next() as usize) % 12).min(doc.len());
                        doc.drain(at..end);
                    }
                    _ => {
                        let end = (at + 1 + (next() as usize) % 24).min(doc.len());
                        let piece = doc[at..end].to_vec();
                        doc.splice(at..at, piece);
                    }
                }
            }
            let _ = parse_feed(&doc, ParseOptions::default());
        }
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(matches!(
            parse_feed(b"   ", ParseOptions::default()),
            Err(ParseError::Empty)
        ));
        assert!(parse_feed(b"<html><body>hi</body></html>", ParseOptions::default()).is_err());
        assert!(parse_feed(b"\x00\x01\x02binary", ParseOptions::default()).is_err());
        assert!(parse_feed(b"{\"not\": \"a feed\"}", ParseOptions::default()).is_err());
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let inputs: [&[u8]; 8] = [
            b"<rss",
            b"<rss version=\"2.0\"><channel><item><title>",
            b"<feed><entry><link href=\"::::\"/><id>&#xD800;</id></entry>",
            b"<rss><channel><item><pubDate>99999999999999999999</pubDate></item></channel></rss>",
            b"<<<<>>>>&&&&;;;;",
            b"<rdf:RDF><item rdf:about=\"\"></item></rdf:RDF>",
            b"\xff\xfe<\x00r\x00s\x00s\x00>\x00",
            b"<feed xml:base=\"http://[::1\"><entry><link href=\"x\"/></entry></feed>",
        ];
        for doc in inputs {
            let _ = parse_feed(doc, ParseOptions::default());
        }
    }
}
