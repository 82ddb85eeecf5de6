//! Stage 3, **extract**: an article page's HTML to its body text, title,
//! authors, publication date and language.
//!
//! Pure: no I/O. Extraction never fails; a page that yields nothing useful
//! gives an [`Article`] with an empty body, and the caller decides what to
//! fall back to (the feed's own content).

use chrono::{DateTime, Utc};
use ego_tree::NodeRef;
use scraper::{ElementRef, Html, Node, Selector};
use serde::Serialize;
use thiserror::Error;
use url::Url;

use crate::config::SiteRuleConfig;
use crate::parse::text::collapse_ws;

/// Below this many characters of body text an extraction is considered to
/// have found no article (paywall, script-rendered page, error page).
pub const MIN_BODY_CHARS: usize = 200;

/// What was extracted from one page.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Article {
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    /// Plain text, one block (paragraph, heading, list item) per paragraph,
    /// blocks separated by a blank line.
    pub body: String,
}

#[derive(Debug, Error)]
pub enum ExtractError {
    #[error("site rule for {host}: invalid CSS selector {selector:?} in `{field}`")]
    BadSelector {
        host: String,
        field: &'static str,
        selector: String,
    },
}

/// A compiled `[[sites]]` rule.
#[derive(Debug)]
struct SiteRule {
    host: String,
    body: Option<Selector>,
    remove: Vec<Selector>,
    authors: Option<Selector>,
    title: Option<Selector>,
}

/// The extractor, with the site rules compiled once.
#[derive(Debug, Default)]
pub struct Extractor {
    rules: Vec<SiteRule>,
}

fn sel(s: &str) -> Selector {
    // Only called on selector literals in this file; covered by tests.
    Selector::parse(s).unwrap_or_else(|_| panic!("static selector {s:?} is valid"))
}

impl Extractor {
    /// Compiles the site rules; a bad selector is an error naming the host.
    pub fn new(sites: &[SiteRuleConfig]) -> Result<Extractor, ExtractError> {
        let compile = |host: &str, field: &'static str, s: &str| {
            Selector::parse(s).map_err(|_| ExtractError::BadSelector {
                host: host.to_string(),
                field,
                selector: s.to_string(),
            })
        };
        let mut rules = Vec::new();
        for s in sites {
            let host = s.host.trim().to_ascii_lowercase();
            rules.push(SiteRule {
                body: s
                    .body
                    .as_deref()
                    .map(|x| compile(&host, "body", x))
                    .transpose()?,
                remove: s
                    .remove
                    .iter()
                    .map(|x| compile(&host, "remove", x))
                    .collect::<Result<_, _>>()?,
                authors: s
                    .authors
                    .as_deref()
                    .map(|x| compile(&host, "authors", x))
                    .transpose()?,
                title: s
                    .title
                    .as_deref()
                    .map(|x| compile(&host, "title", x))
                    .transpose()?,
                host,
            });
        }
        Ok(Extractor { rules })
    }

    fn rule_for(&self, url: Option<&Url>) -> Option<&SiteRule> {
        let host = url?.host_str()?.to_ascii_lowercase();
        self.rules
            .iter()
            .find(|r| host == r.host || host.ends_with(&format!(".{}", r.host)))
    }

    /// Extracts an article from a page's HTML. `url` is the page's address
    /// (for site rules and dates in the URL).
    pub fn extract(&self, html: &str, url: Option<&Url>) -> Article {
        let doc = Html::parse_document(html);
        let rule = self.rule_for(url);
        let removed: Vec<ego_tree::NodeId> = rule
            .map(|r| {
                r.remove
                    .iter()
                    .flat_map(|s| doc.select(s).map(|e| e.id()))
                    .collect()
            })
            .unwrap_or_default();

        let title = rule
            .and_then(|r| r.title.as_ref())
            .and_then(|s| doc.select(s).next())
            .map(|e| collapse_ws(&e.text().collect::<String>()))
            .filter(|t| !t.is_empty())
            .or_else(|| meta_content(&doc, "meta[property='og:title']"))
            .or_else(|| first_text(&doc, "h1"))
            .or_else(|| first_text(&doc, "title"));

        let mut authors: Vec<String> = match rule.and_then(|r| r.authors.as_ref()) {
            Some(s) => doc
                .select(s)
                .map(|e| collapse_ws(&e.text().collect::<String>()))
                .collect(),
            None => Vec::new(),
        };
        if authors.is_empty() {
            authors = json_ld_authors(&doc);
        }
        if authors.is_empty() {
            authors = doc
                .select(&sel("meta[name='author']"))
                .filter_map(|m| m.value().attr("content"))
                .map(collapse_ws)
                .collect();
        }
        authors.retain(|a| !a.is_empty());
        authors.dedup();

        let published = meta_content(&doc, "meta[property='article:published_time']")
            .or_else(|| json_ld_string(&doc, "datePublished"))
            .or_else(|| {
                doc.select(&sel("time[datetime]"))
                    .next()
                    .and_then(|t| t.value().attr("datetime"))
                    .map(str::to_string)
            })
            .and_then(|s| parse_date(&s));

        let lang = doc
            .select(&sel("html"))
            .next()
            .and_then(|h| h.value().attr("lang"))
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty());

        let container = match rule.and_then(|r| r.body.as_ref()) {
            Some(s) => doc.select(s).next(),
            None => None,
        }
        .or_else(|| doc.select(&sel("article")).max_by_key(|e| text_len(*e)))
        .or_else(|| doc.select(&sel("main")).next())
        .or_else(|| densest_paragraph_parent(&doc));
        let body = container
            .map(|c| block_text(c, &removed))
            .unwrap_or_default();

        Article {
            title,
            authors,
            published,
            lang,
            body,
        }
    }
}

fn meta_content(doc: &Html, selector: &str) -> Option<String> {
    doc.select(&sel(selector))
        .filter_map(|m| m.value().attr("content"))
        .map(collapse_ws)
        .find(|s| !s.is_empty())
}

fn first_text(doc: &Html, selector: &str) -> Option<String> {
    doc.select(&sel(selector))
        .map(|e| collapse_ws(&e.text().collect::<String>()))
        .find(|s| !s.is_empty())
}

fn json_ld_values(doc: &Html) -> Vec<serde_json::Value> {
    doc.select(&sel("script[type='application/ld+json']"))
        .filter_map(|s| serde_json::from_str(&s.text().collect::<String>()).ok())
        .collect()
}

/// Article-like JSON-LD objects, also inside arrays and `@graph`.
fn json_ld_articles(doc: &Html) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut stack = json_ld_values(doc);
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Array(a) => stack.extend(a),
            serde_json::Value::Object(mut o) => {
                if let Some(g) = o.remove("@graph") {
                    stack.push(g);
                }
                let is_article = match o.get("@type") {
                    Some(serde_json::Value::String(t)) => {
                        t.contains("Article") || t == "BlogPosting"
                    }
                    Some(serde_json::Value::Array(ts)) => ts
                        .iter()
                        .filter_map(|t| t.as_str())
                        .any(|t| t.contains("Article") || t == "BlogPosting"),
                    _ => false,
                };
                if is_article {
                    out.push(serde_json::Value::Object(o));
                }
            }
            _ => {}
        }
    }
    out
}

fn json_ld_string(doc: &Html, key: &str) -> Option<String> {
    json_ld_articles(doc)
        .iter()
        .find_map(|a| a.get(key).and_then(|v| v.as_str()).map(str::to_string))
}

fn json_ld_authors(doc: &Html) -> Vec<String> {
    let mut names = Vec::new();
    for a in json_ld_articles(doc) {
        let Some(author) = a.get("author") else {
            continue;
        };
        let list = match author {
            serde_json::Value::Array(v) => v.clone(),
            other => vec![other.clone()],
        };
        for p in list {
            let name = match &p {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Object(o) => {
                    o.get("name").and_then(|n| n.as_str()).map(str::to_string)
                }
                _ => None,
            };
            if let Some(n) = name {
                names.push(collapse_ws(&n));
            }
        }
        if !names.is_empty() {
            break;
        }
    }
    names
}

/// Parses the date formats found in page metadata.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(d.and_utc());
        }
    }
    let day = s.get(..10).unwrap_or(s);
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

fn text_len(e: ElementRef<'_>) -> usize {
    e.text().map(|t| t.trim().len()).sum()
}

/// The element whose direct `<p>` children hold the most text.
fn densest_paragraph_parent(doc: &Html) -> Option<ElementRef<'_>> {
    let mut best: Option<(usize, ElementRef<'_>)> = None;
    let mut totals: std::collections::HashMap<ego_tree::NodeId, usize> = Default::default();
    for p in doc.select(&sel("p")) {
        if let Some(parent) = p.parent().and_then(ElementRef::wrap) {
            let t = totals.entry(parent.id()).or_default();
            *t += text_len(p);
            if best.is_none_or(|(n, _)| *t > n) {
                best = Some((*t, parent));
            }
        }
    }
    best.map(|(_, e)| e)
}

const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "svg",
    "iframe", "button", "select", "figure",
];
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "tr",
    "table",
    "section",
    "article",
    "dd",
    "dt",
    "br",
    "hr",
];

/// The text of `root`, one block per paragraph. Iterative (the DOM can be
/// arbitrarily deep).
pub fn block_text(root: ElementRef<'_>, removed: &[ego_tree::NodeId]) -> String {
    let mut blocks: Vec<String> = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, blocks: &mut Vec<String>| {
        let t = collapse_ws(current);
        if !t.is_empty() {
            blocks.push(t);
        }
        current.clear();
    };
    let mut skip_depth: Option<NodeRef<'_, Node>> = None;
    for edge in root.traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => {
                if skip_depth.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(el) => {
                        let name = el.name();
                        if SKIP.contains(&name) || removed.contains(&node.id()) {
                            skip_depth = Some(node);
                            continue;
                        }
                        if BLOCKS.contains(&name) {
                            flush(&mut current, &mut blocks);
                        }
                    }
                    Node::Text(t) => {
                        current.push_str(t);
                    }
                    _ => {}
                }
            }
            ego_tree::iter::Edge::Close(node) => {
                if let Some(s) = skip_depth {
                    if s == node {
                        skip_depth = None;
                    }
                    continue;
                }
                if let Node::Element(el) = node.value()
                    && BLOCKS.contains(&el.name())
                {
                    flush(&mut current, &mut blocks);
                }
            }
        }
    }
    flush(&mut current, &mut blocks);
    blocks.join("\n\n")
}

/// Plain text of an HTML fragment (a feed's `content:encoded` or summary),
/// one block per paragraph.
pub fn html_fragment_to_text(html: &str) -> String {
    let frag = Html::parse_fragment(html);
    block_text(frag.root_element(), &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_basics() {
        let html = r#"<html lang="en"><head><title>Big news - Site</title>
            <meta property="og:title" content="Big news">
            <meta name="author" content="Jane Roe">
            <meta property="article:published_time" content="2018-06-14T10:00:00+02:00">
            </head><body><nav>Home | About</nav>
            <article><h1>Big news</h1><p>First paragraph.</p><p>Second <b>bold</b> one.</p>
            <script>var x=1;</script></article><footer>(c) Site</footer></body></html>"#;
        let a = Extractor::default().extract(html, None);
        assert_eq!(a.title.as_deref(), Some("Big news"));
        assert_eq!(a.authors, vec!["Jane Roe"]);
        assert_eq!(a.lang.as_deref(), Some("en"));
        assert_eq!(
            crate::timefmt::to_db(a.published.unwrap()),
            "2018-06-14T08:00:00Z"
        );
        assert_eq!(a.body, "Big news\n\nFirst paragraph.\n\nSecond bold one.");
    }

    #[test]
    fn json_ld_graph_authors() {
        let html = r#"<html><head><script type="application/ld+json">
            {"@graph":[{"@type":"WebPage"},{"@type":"NewsArticle","datePublished":"2020-01-02",
            "author":[{"@type":"Person","name":"A One"},{"@type":"Person","name":"B Two"}]}]}
            </script></head><body><div><p>x</p></div></body></html>"#;
        let a = Extractor::default().extract(html, None);
        assert_eq!(a.authors, vec!["A One", "B Two"]);
        assert_eq!(
            crate::timefmt::to_db(a.published.unwrap()),
            "2020-01-02T00:00:00Z"
        );
    }

    #[test]
    fn site_rule_overrides() {
        let rules = vec![SiteRuleConfig {
            host: "example.com".into(),
            body: Some("div.story".into()),
            remove: vec!["div.ad".into()],
            authors: Some("span.who".into()),
            title: None,
        }];
        let ex = Extractor::new(&rules).unwrap();
        let html = r#"<body><article><p>wrong</p></article><div class="story"><p>right</p>
            <div class="ad">buy</div></div><span class="who">Ann Lee</span></body>"#;
        let url = Url::parse("https://www.example.com/x").unwrap();
        let a = ex.extract(html, Some(&url));
        assert_eq!(a.body, "right");
        assert_eq!(a.authors, vec!["Ann Lee"]);
        let bad = vec![SiteRuleConfig {
            host: "x.org".into(),
            body: Some("div[".into()),
            ..Default::default()
        }];
        assert!(
            Extractor::new(&bad)
                .unwrap_err()
                .to_string()
                .contains("x.org")
        );
    }

    #[test]
    fn densest_block_without_article() {
        let html = "<body><div><p>short</p></div><div id=c><p>one long paragraph of text</p><p>and another</p></div></body>";
        let a = Extractor::default().extract(html, None);
        assert_eq!(a.body, "one long paragraph of text\n\nand another");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let mut html = String::from("<html><body>");
        for _ in 0..2_000 {
            html.push_str("<div>");
        }
        html.push_str("<p>deep</p>");
        let a = Extractor::default().extract(&html, None);
        assert!(a.body.contains("deep"));
    }
}
