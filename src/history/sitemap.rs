//! Sitemaps (sitemaps.org 0.9, Google News and image extensions): an index
//! of sitemap files, or a set of URLs with their `lastmod`, publication date
//! and title. Gzipped files are recognised by their magic bytes and
//! decompressed with a size cap (a small .gz can expand enormously).

use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};
use quick_xml::Reader;
use quick_xml::events::Event;
use regex::Regex;
use thiserror::Error;

/// Decompressed sitemaps larger than this are refused (the protocol's own
/// limit is 50 MB uncompressed).
pub const MAX_UNCOMPRESSED: u64 = 64 * 1024 * 1024;

#[derive(Debug, Error)]
pub enum SitemapError {
    #[error("gzip: {0}")]
    Gzip(String),
    #[error("decompressed sitemap larger than {MAX_UNCOMPRESSED} bytes")]
    TooLarge,
    #[error("not a sitemap (XML error at byte {position}: {message})")]
    Xml { position: u64, message: String },
    #[error("not a sitemap (no <urlset> or <sitemapindex>)")]
    NotASitemap,
}

/// A child sitemap listed in an index.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildSitemap {
    pub loc: String,
    pub lastmod: Option<DateTime<Utc>>,
}

/// A page listed in a sitemap.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SitemapUrl {
    pub loc: String,
    pub lastmod: Option<DateTime<Utc>>,
    /// `<news:publication_date>`
    pub published: Option<DateTime<Utc>>,
    /// `<news:title>`
    pub title: Option<String>,
}

impl SitemapUrl {
    /// The best date known for the page.
    pub fn date(&self) -> Option<DateTime<Utc>> {
        self.published.or(self.lastmod)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Sitemap {
    Index(Vec<ChildSitemap>),
    Urls(Vec<SitemapUrl>),
}

/// Parses a sitemap or sitemap index, gzipped or not.
pub fn parse(bytes: &[u8]) -> Result<Sitemap, SitemapError> {
    let plain;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_UNCOMPRESSED + 1)
            .read_to_end(&mut out)
            .map_err(|e| SitemapError::Gzip(e.to_string()))?;
        if out.len() as u64 > MAX_UNCOMPRESSED {
            return Err(SitemapError::TooLarge);
        }
        plain = out;
        &plain[..]
    } else {
        bytes
    };
    let mut reader = Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut kind: Option<bool> = None; // Some(true) = index
    let mut children = Vec::new();
    let mut urls = Vec::new();
    let mut cur = SitemapUrl::default();
    let mut child = ChildSitemap {
        loc: String::new(),
        lastmod: None,
    };
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| SitemapError::Xml {
                position: reader.buffer_position(),
                message: e.to_string(),
            })?;
        match ev {
            Event::Start(e) => {
                let name = e.local_name().into_inner().to_ascii_lowercase();
                match name.as_str() {
                    "urlset" if stack.is_empty() => kind = Some(false),
                    "sitemapindex" if stack.is_empty() => kind = Some(true),
                    "url" => cur = SitemapUrl::default(),
                    "sitemap" => {
                        child = ChildSitemap {
                            loc: String::new(),
                            lastmod: None,
                        }
                    }
                    _ => {}
                }
                stack.push(name);
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                if name == "url" && !cur.loc.is_empty() {
                    cur.title = cur
                        .title
                        .take()
                        .map(|t| crate::parse::text::plain_text(&t))
                        .filter(|t| !t.is_empty());
                    urls.push(std::mem::take(&mut cur));
                } else if name == "sitemap" && !child.loc.is_empty() {
                    children.push(child.clone());
                }
            }
            Event::Text(t) => {
                let text = t.xml10_content().into_owned();
                store_text(&stack, &text, &mut cur, &mut child);
            }
            Event::GeneralRef(r) => {
                // &amp; and friends inside <loc>: append the character.
                let ch = match &*r {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    n => n
                        .strip_prefix("#x")
                        .or_else(|| n.strip_prefix("#X"))
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .or_else(|| n.strip_prefix('#').and_then(|d| d.parse().ok()))
                        .and_then(char::from_u32),
                };
                if let Some(ch) = ch {
                    store_text(&stack, ch.encode_utf8(&mut [0; 4]), &mut cur, &mut child);
                }
            }
            Event::CData(t) => {
                let text = t.to_string();
                store_text(&stack, &text, &mut cur, &mut child);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    match kind {
        Some(true) => Ok(Sitemap::Index(children)),
        Some(false) => Ok(Sitemap::Urls(urls)),
        None => Err(SitemapError::NotASitemap),
    }
}

/// Appends text to the field the element stack points at.
fn store_text(stack: &[String], text: &str, cur: &mut SitemapUrl, child: &mut ChildSitemap) {
    let n = stack.len();
    if n < 2 {
        return;
    }
    let (parent, leaf) = (stack[n - 2].as_str(), stack[n - 1].as_str());
    match (parent, leaf) {
        ("url", "loc") => cur.loc.push_str(text.trim()),
        ("url", "lastmod") => cur.lastmod = parse_w3c_date(text),
        ("news", "publication_date") => cur.published = parse_w3c_date(text),
        ("news", "title") => cur.title.get_or_insert_with(String::new).push_str(text),
        ("sitemap", "loc") => child.loc.push_str(text.trim()),
        ("sitemap", "lastmod") => child.lastmod = parse_w3c_date(text),
        _ => {}
    }
}

/// W3C datetime as sitemaps use it: `2024-05-01`, `2024-05-01T10:00Z`,
/// `2024-05-01T10:00:00+02:00`, `2024-05`, `2024`.
pub fn parse_w3c_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(d) = DateTime::parse_from_str(s, fmt) {
            return Some(d.with_timezone(&Utc));
        }
    }
    if let Some(t) = s.strip_suffix('Z') {
        for fmt in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S%.f"] {
            if let Ok(d) = chrono::NaiveDateTime::parse_from_str(t, fmt) {
                return Some(d.and_utc());
            }
        }
    }
    let day = |y: i32, m: u32, d: u32| {
        NaiveDate::from_ymd_opt(y, m, d)?
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
    };
    if let Ok(d) = NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    let parts: Vec<&str> = s.split('-').collect();
    match parts.as_slice() {
        [y, m] => day(y.parse().ok()?, m.parse().ok()?, 1),
        [y] if y.len() == 4 => day(y.parse().ok()?, 1, 1),
        _ => None,
    }
}

/// Which sitemap URLs are articles worth fetching: per-site `include` and
/// `exclude` patterns (regular expressions on the whole URL), and without
/// `include`, a default that skips what is plainly not an article (images
/// and other files, tag, category, author, search and pagination pages,
/// the home page).
#[derive(Debug, Clone, Default)]
pub struct UrlFilter {
    include: Vec<Regex>,
    exclude: Vec<Regex>,
}

fn non_article() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?ix)
            \.(?:jpe?g|png|gif|webp|svg|ico|bmp|tiff?|avif|pdf|zip|gz|mp[34]|m4a|mov|avi|webm|css|js|json|xml|txt)(?:[?\#].*)?$
            | /(?:tags?|category|categories|author|authors|topics?|search|page)(?:/|$)
            | [?&](?:s|tag|cat|author|paged?)=
            | ^https?://[^/]+/?(?:[?\#].*)?$",
        )
        .unwrap_or_else(|e| panic!("built-in non-article pattern is valid: {e}"))
    })
}

impl UrlFilter {
    /// Compiles the patterns; a bad one is an error naming it.
    pub fn new(include: &[String], exclude: &[String]) -> Result<UrlFilter, String> {
        let compile =
            |p: &String| Regex::new(p).map_err(|e| format!("invalid URL pattern {p:?}: {e}"));
        Ok(UrlFilter {
            include: include.iter().map(compile).collect::<Result<_, _>>()?,
            exclude: exclude.iter().map(compile).collect::<Result<_, _>>()?,
        })
    }

    pub fn accepts(&self, url: &str) -> bool {
        if self.exclude.iter().any(|r| r.is_match(url)) {
            return false;
        }
        if self.include.is_empty() {
            !non_article().is_match(url)
        } else {
            self.include.iter().any(|r| r.is_match(url))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn index_and_urlset() {
        let idx = br#"<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <sitemap><loc>https://ex.com/s1.xml.gz</loc><lastmod>2024-05-01</lastmod></sitemap>
            <sitemap><loc> https://ex.com/s2.xml </loc></sitemap></sitemapindex>"#;
        let Sitemap::Index(c) = parse(idx).unwrap() else {
            panic!("index")
        };
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].loc, "https://ex.com/s2.xml");
        assert_eq!(
            c[0].lastmod.unwrap().to_rfc3339(),
            "2024-05-01T00:00:00+00:00"
        );

        let set = br#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
              xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
              xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
            <url><loc>https://ex.com/a?x=1&amp;y=2</loc><lastmod>2024-05-02T10:00+02:00</lastmod>
              <image:image><image:loc>https://ex.com/pic.jpg</image:loc></image:image></url>
            <url><loc>https://ex.com/b</loc><news:news><news:publication><news:name>Ex</news:name></news:publication>
              <news:publication_date>2024-06-01T08:00:00Z</news:publication_date>
              <news:title>Ban &amp; more</news:title></news:news></url></urlset>"#;
        let Sitemap::Urls(u) = parse(set).unwrap() else {
            panic!("urls")
        };
        assert_eq!(u.len(), 2);
        assert_eq!(
            u[0].loc, "https://ex.com/a?x=1&y=2",
            "image locs are not page locs"
        );
        assert_eq!(
            u[0].lastmod.unwrap().to_rfc3339(),
            "2024-05-02T08:00:00+00:00"
        );
        assert_eq!(u[1].title.as_deref(), Some("Ban & more"));
        assert_eq!(
            u[1].date().unwrap().to_rfc3339(),
            "2024-06-01T08:00:00+00:00"
        );
    }

    #[test]
    fn gzipped() {
        let xml = b"<urlset><url><loc>https://ex.com/z</loc></url></urlset>";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(xml).unwrap();
        let bytes = gz.finish().unwrap();
        let Sitemap::Urls(u) = parse(&bytes).unwrap() else {
            panic!("urls")
        };
        assert_eq!(u[0].loc, "https://ex.com/z");
        assert!(matches!(
            parse(&[0x1f, 0x8b, 1, 2, 3]),
            Err(SitemapError::Gzip(_))
        ));
    }

    #[test]
    fn not_sitemaps() {
        assert!(matches!(
            parse(b"<html><body/></html>"),
            Err(SitemapError::NotASitemap)
        ));
        assert!(matches!(
            parse(b"<urlset><url><loc>x</url>"),
            Err(SitemapError::Xml { .. })
        ));
        assert!(matches!(parse(b""), Err(SitemapError::NotASitemap)));
    }

    #[test]
    fn w3c_dates() {
        for (s, want) in [
            ("2024", "2024-01-01T00:00:00+00:00"),
            ("2024-05", "2024-05-01T00:00:00+00:00"),
            ("2024-05-03", "2024-05-03T00:00:00+00:00"),
            ("2024-05-03T10:20Z", "2024-05-03T10:20:00+00:00"),
            (
                "2024-05-03T10:20:30.5+01:00",
                "2024-05-03T09:20:30.500+00:00",
            ),
        ] {
            assert_eq!(
                parse_w3c_date(s).map(|d| d.to_rfc3339()),
                Some(want.to_string()),
                "{s}"
            );
        }
        assert_eq!(parse_w3c_date("yesterday"), None);
    }

    #[test]
    fn default_filter_skips_non_articles() {
        let f = UrlFilter::default();
        for ok in [
            "https://ex.com/2024/05/kaspersky-ban",
            "https://ex.com/news/a.html",
        ] {
            assert!(f.accepts(ok), "{ok}");
        }
        for no in [
            "https://ex.com/tag/huawei/",
            "https://ex.com/category/news",
            "https://ex.com/author/jane",
            "https://ex.com/wp-content/uploads/x.jpg",
            "https://ex.com/",
            "https://ex.com/page/3/",
            "https://ex.com/?s=ban",
            "https://ex.com/files/report.pdf",
        ] {
            assert!(!f.accepts(no), "{no}");
        }
        let f = UrlFilter::new(&["/news/".into()], &["/news/sponsored/".into()]).unwrap();
        assert!(f.accepts("https://ex.com/news/a"));
        assert!(!f.accepts("https://ex.com/blog/a"));
        assert!(!f.accepts("https://ex.com/news/sponsored/a"));
        assert!(UrlFilter::new(&["(".into()], &[]).is_err());
    }
}
