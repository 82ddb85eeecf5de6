//! Stage 3, **extract**: an article page's HTML to its body text, title,
//! authors, publication date and language.
//!
//! Pure: no I/O. Extraction never fails; a page that yields nothing useful
//! gives an [`Article`] with an empty body, and the caller decides what to
//! fall back to (the feed's own content).
//!
//! The parts:
//! * [`prepass`]: a linear pass over the raw HTML that bounds nesting depth
//!   and size, and cuts scripts, styles and comments before parsing;
//! * `dom`: the parsed document flattened to index ranges (no recursion
//!   anywhere afterwards);
//! * `hints`: what class names, ids and roles say (content, boilerplate);
//! * `body`: the Readability-class body algorithm; `blocks`: text output;
//! * `metadata`, [`authors`], [`dates`], `jsonld`: title, authors, date
//!   and language.

pub mod authors;
mod blocks;
mod body;
pub mod dates;
mod dom;
mod hints;
mod jsonld;
mod metadata;
mod parser;
pub mod prepass;
mod text;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset, Utc};
use scraper::{ElementRef, Html, Selector};
use serde::Serialize;
use thiserror::Error;
use url::Url;

use crate::config::SiteRuleConfig;

pub use dates::parse_date;
use dom::Dom;
use text::collapse_ws;

/// Below this many characters of body text an extraction is considered to
/// have found no article (paywall, script-rendered page, error page).
pub const MIN_BODY_CHARS: usize = 200;

/// What was extracted from one page.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Article {
    pub title: Option<String>,
    pub authors: Vec<String>,
    /// The publication time, in UTC.
    pub published: Option<DateTime<Utc>>,
    /// The same instant with the offset the page gave (UTC when it gave
    /// none): its calendar day is the one a reader of the page sees.
    pub published_local: Option<DateTime<FixedOffset>>,
    pub lang: Option<String>,
    /// Plain text, one block (paragraph, heading, list item) per paragraph,
    /// blocks separated by a blank line.
    pub body: String,
    /// What was unusual about the page (cut for size, nesting flattened).
    pub warnings: Vec<String>,
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
        let host = host.trim_start_matches("www.");
        self.rules.iter().find(|r| {
            let rh = r.host.trim_start_matches("www.");
            host == rh || host.ends_with(&format!(".{rh}"))
        })
    }

    /// Extracts an article from a page's HTML. `url` is the page's address
    /// (for site rules and dates in the URL).
    pub fn extract(&self, html: &str, url: Option<&Url>) -> Article {
        let prep = prepass::prepare(html);
        let mut warnings = Vec::new();
        if prep.truncated {
            warnings.push(format!(
                "page longer than {} bytes; the rest was ignored",
                prepass::MAX_INPUT_BYTES
            ));
        }
        if prep.dropped_tags > 0 {
            warnings.push(format!(
                "{} elements nested deeper than {} were flattened",
                prep.dropped_tags,
                prepass::MAX_DEPTH
            ));
        }
        let rule = self.rule_for(url);
        // Site rules select with CSS, which needs scraper's (html5ever's)
        // document; every other page goes through the fast parser.
        let scraped: Option<Html> = rule.map(|_| Html::parse_document(&prep.html));
        let dom = match &scraped {
            Some(doc) => Dom::from_html(doc),
            None => parser::parse_document(&prep.html),
        };
        let hints = hints::compute(&dom);

        // Site rules: the selected nodes, as indices of the flat document.
        let mut rule_removed = Vec::new();
        let mut rule_body = Vec::new();
        let mut rule_title = None;
        let mut rule_authors = Vec::new();
        if let (Some(r), Some(scraped)) = (rule, &scraped) {
            let index: HashMap<ego_tree::NodeId, usize> =
                dom.ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
            let pick = |s: &Selector| -> Vec<usize> {
                scraped
                    .select(s)
                    .filter_map(|e| index.get(&e.id()).copied())
                    .collect()
            };
            rule_removed = vec![false; dom.len()];
            for s in &r.remove {
                for i in pick(s) {
                    rule_removed[i] = true;
                }
            }
            if let Some(s) = &r.body {
                // Nested matches: keep the outermost only.
                let mut kept: Vec<usize> = Vec::new();
                for i in pick(s) {
                    if !kept.iter().any(|&k| k < i && i < dom.end(k)) {
                        kept.push(i);
                    }
                }
                rule_body = kept;
            }
            if let Some(s) = &r.title {
                rule_title = pick(s)
                    .into_iter()
                    .map(|i| collapse_ws(&dom.raw_text(i)))
                    .find(|t| !t.is_empty());
            }
            if let Some(s) = &r.authors {
                for i in pick(s) {
                    for n in authors::clean_names(&dom.raw_text(i), &[]) {
                        if !rule_authors.contains(&n) {
                            rule_authors.push(n);
                        }
                    }
                }
            }
        }

        let base = body::base_facts(&dom, &hints);
        let facts = metadata::collect(&dom, &hints, &base);
        let ld = jsonld::read(&prep.json_ld);
        let sites = metadata::site_names(&facts, &ld, url);
        let title = rule_title.or_else(|| metadata::title(&dom, &facts, &ld, &sites));
        let authors = if rule_authors.is_empty() {
            metadata::authors(&dom, &facts, &ld, &sites)
        } else {
            rule_authors
        };
        let declared = metadata::declared_lang(&facts, &ld);
        let month_first = facts
            .html_lang
            .is_some_and(|l| l.trim().eq_ignore_ascii_case("en-us"));
        let published_local = metadata::published(&dom, &facts, &ld, url, month_first);
        let published = published_local.map(|d| d.with_timezone(&Utc));

        let blocks = body::extract(&body::BodyInput {
            dom: &dom,
            hints: &hints,
            rule_removed: &rule_removed,
            rule_body: &rule_body,
            title: title.as_deref(),
        }, &base);
        let body = blocks.join("\n\n");
        let lang = declared.or_else(|| metadata::detect_lang(&body));
        Article {
            title,
            authors,
            published,
            published_local,
            lang,
            body,
            warnings,
        }
    }
}

/// The text of `root`, one block per paragraph, leaving out the subtrees
/// listed in `removed`. Iterative (the DOM can be arbitrarily deep).
pub fn block_text(root: ElementRef<'_>, removed: &[ego_tree::NodeId]) -> String {
    let dom = Dom::from_node(*root);
    let removed: HashSet<ego_tree::NodeId> = removed.iter().copied().collect();
    let skip: Vec<bool> = dom.ids.iter().map(|id| removed.contains(id)).collect();
    blocks::write_blocks(&dom, &[0], &skip).join("\n\n")
}

/// Plain text of an HTML fragment (a feed's `content:encoded` or summary),
/// one block per paragraph.
pub fn html_fragment_to_text(html: &str) -> String {
    let prep = prepass::prepare(html);
    let frag = Html::parse_fragment(&prep.html);
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
        assert_eq!(a.body, "First paragraph.\n\nSecond bold one.");
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
