//! Stage 3, **extract**: an article page's HTML to its body text, title,
//! authors, publication date and language.
//!
//! Pure: no I/O. Extraction never fails; a page that yields nothing useful
//! gives an [`Article`] with an empty body, and the caller decides what to
//! fall back to (the feed's own content).
//!
//! The parts:
//! * [`prepass`]: a linear pass over the raw HTML that bounds nesting depth
//!   and size, and cuts scripts, styles and comments before parsing
//!   (html5ever is quadratic in nesting depth);
//! * scraper (html5ever) parses the page; `dom` flattens its tree to
//!   pre-order index ranges, so nothing afterwards recurses, and site rules
//!   select on scraper's document with CSS;
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
        // scraper (html5ever) parses the page; the algorithm walks a flat
        // copy of its tree with loops (no recursion on hostile nesting).
        let scraped = Html::parse_document(&prep.html);
        let dom = Dom::from_html(&scraped);
        let hints = hints::compute(&dom);

        // Site rules: the selected nodes, as indices of the flat document.
        let mut rule_removed = Vec::new();
        let mut rule_body = Vec::new();
        let mut rule_title = None;
        let mut rule_authors = Vec::new();
        if let Some(r) = rule {
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

        let blocks = body::extract(
            &body::BodyInput {
                dom: &dom,
                hints: &hints,
                rule_removed: &rule_removed,
                rule_body: &rule_body,
                title: title.as_deref(),
            },
            &base,
        );
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

    fn ex(html: &str) -> Article {
        Extractor::default().extract(html, None)
    }

    fn ex_url(html: &str, url: &str) -> Article {
        Extractor::default().extract(html, Url::parse(url).ok().as_ref())
    }

    /// A page whose article is `body` (HTML), with `head` in <head> and
    /// `around` before the article.
    fn page(head: &str, around: &str, body: &str) -> String {
        format!(
            "<!DOCTYPE html><html><head>{head}</head><body>{around}<article><div class=\"entry-content\">{body}</div></article></body></html>"
        )
    }

    const PARAS: &str = "<p>The first paragraph of the article is long enough to be scored, with a comma, and another one, so it counts.</p>\
        <p>The second paragraph carries on with the story, adding detail, quotes and context, as articles do.</p>\
        <p>The third paragraph ends the story with a last thought, and a final comma, before the boilerplate starts.</p>";

    fn day(d: Option<DateTime<Utc>>) -> String {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    }

    #[test]
    fn article_basics() {
        let html = r#"<html lang="en"><head><title>Big news - Site</title>
            <meta property="og:title" content="Big news">
            <meta name="author" content="Jane Roe">
            <meta property="article:published_time" content="2018-06-14T10:00:00+02:00">
            </head><body><nav>Home | About</nav>
            <article><h1>Big news</h1><p>First paragraph.</p><p>Second <b>bold</b> one.</p>
            <script>var x=1;</script></article><footer>(c) Site</footer></body></html>"#;
        let a = ex(html);
        assert_eq!(a.title.as_deref(), Some("Big news"));
        assert_eq!(a.authors, vec!["Jane Roe"]);
        assert_eq!(a.lang.as_deref(), Some("en"));
        assert_eq!(
            crate::timefmt::to_db(a.published.unwrap()),
            "2018-06-14T08:00:00Z"
        );
        assert_eq!(
            a.published_local.unwrap().to_rfc3339(),
            "2018-06-14T10:00:00+02:00"
        );
        assert_eq!(a.body, "First paragraph.\n\nSecond bold one.");
        assert!(a.warnings.is_empty());
    }

    // --- authors: one test per source -------------------------------------

    #[test]
    fn authors_from_json_ld_graph_person_array() {
        let html = r#"<html><head><script type="application/ld+json">
            {"@graph":[{"@type":"WebPage"},{"@type":"NewsArticle","datePublished":"2020-01-02",
            "author":[{"@type":"Person","name":"A One"},{"@type":"Person","name":"B Two"}]}]}
            </script></head><body><div><p>x</p></div></body></html>"#;
        let a = ex(html);
        assert_eq!(a.authors, vec!["A One", "B Two"]);
        assert_eq!(day(a.published), "2020-01-02");
    }

    #[test]
    fn authors_from_meta_tags() {
        let a = ex(&page(
            r#"<meta name="author" content="By Jane Roe and John Doe">"#,
            "",
            PARAS,
        ));
        assert_eq!(a.authors, vec!["Jane Roe", "John Doe"]);
        // article:author holding a URL is skipped; dc:creator wins over author.
        let a = ex(&page(
            r#"<meta property="article:author" content="https://facebook.com/x"><meta name="author" content="Site Team"><meta property="dc:creator" content="Ann Lee">"#,
            "",
            PARAS,
        ));
        assert_eq!(a.authors, vec!["Ann Lee"]);
    }

    #[test]
    fn authors_from_microdata_and_rel_author() {
        let a = ex(&page(
            "",
            r#"<div itemprop="author" itemscope><span itemprop="name">Mia Wong</span>, Staff Writer</div>"#,
            PARAS,
        ));
        assert_eq!(a.authors, vec!["Mia Wong"]);
        let a = ex(&page(
            "",
            r#"<p>Posted by <a rel="author" href="/u/k">Karl Berg</a></p>"#,
            PARAS,
        ));
        assert_eq!(a.authors, vec!["Karl Berg"]);
    }

    #[test]
    fn authors_from_byline_elements_and_text() {
        for (byline, want) in [
            (
                r#"<div class="byline">By Ann Lee, Staff Writer</div>"#,
                vec!["Ann Lee"],
            ),
            (
                r#"<div class="author">Ann Lee | Editor-in-Chief</div>"#,
                vec!["Ann Lee"],
            ),
            (
                r#"<span class="byline">By Ann Lee and Bo Chen, June 3, 2021</span>"#,
                vec!["Ann Lee", "Bo Chen"],
            ),
            (r#"<p><i>Von Heike Buchter</i></p>"#, vec!["Heike Buchter"]),
            (
                r#"<div class="x"><span>By</span> <span><a href="/a">Alex Roe</a></span></div>"#,
                vec!["Alex Roe"],
            ),
        ] {
            let a = ex(&page("", byline, PARAS));
            assert_eq!(a.authors, want, "{byline}");
            assert!(
                !a.body.contains("Staff Writer") && !a.body.starts_with("By"),
                "{byline}: {}",
                a.body
            );
        }
    }

    #[test]
    fn authors_not_taken_from_comments() {
        let html = page(
            "",
            "",
            &format!(
                "{PARAS}<div id=\"comments\"><div class=\"comment-author\">Troll McTroll</div><p>Nice article, I think, and more words here.</p></div>"
            ),
        );
        assert!(ex(&html).authors.is_empty());
    }

    // --- title -------------------------------------------------------------

    #[test]
    fn title_sources() {
        // og:title with the site name, and an h1 that agrees with it.
        let a = ex(&page(
            r#"<title>Big Story | The Paper</title><meta property="og:site_name" content="The Paper"><meta property="og:title" content="Big Story | The Paper">"#,
            "<h1>Big Story</h1>",
            PARAS,
        ));
        assert_eq!(a.title.as_deref(), Some("Big Story"));
        // A logo h1 does not win over the metadata.
        let a = ex(&page(
            r#"<meta property="og:title" content="Markets fall on rate fears">"#,
            r#"<h1 class="logo">The Paper</h1>"#,
            PARAS,
        ));
        assert_eq!(a.title.as_deref(), Some("Markets fall on rate fears"));
        // JSON-LD headline.
        let a = ex(&page(
            r#"<script type="application/ld+json">{"@type":"BlogPosting","headline":"From JSON-LD"}</script>"#,
            "",
            PARAS,
        ));
        assert_eq!(a.title.as_deref(), Some("From JSON-LD"));
        // <title> with the site suffix removed (site from the URL).
        let a = ex_url(
            &page(
                "<title>Council votes on budget - examplenews</title>",
                "",
                PARAS,
            ),
            "https://www.examplenews.com/x",
        );
        assert_eq!(a.title.as_deref(), Some("Council votes on budget"));
        // A section name as metadata title loses to the page's one headline.
        let a = ex(&page(
            r#"<meta property="og:title" content="Press releases">"#,
            "<h1>Vaccination stays open everywhere until February</h1>",
            PARAS,
        ));
        assert_eq!(
            a.title.as_deref(),
            Some("Vaccination stays open everywhere until February")
        );
        // The heading that repeats the title is not body text.
        let a = ex(&page(
            "<title>Big Story</title>",
            "",
            &format!("<h1>Big Story</h1>{PARAS}"),
        ));
        assert!(a.body.starts_with("The first paragraph"), "{}", a.body);
    }

    // --- dates ---------------------------------------------------------------

    #[test]
    fn date_sources() {
        let cases: Vec<(String, Option<&str>, &str)> = vec![
            (
                page(
                    r#"<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2021-03-04T05:06:07Z"}</script>"#,
                    "",
                    PARAS,
                ),
                None,
                "2021-03-04",
            ),
            (
                page(
                    r#"<meta property="article:published_time" content="2021-03-05T10:00:00+01:00">"#,
                    "",
                    PARAS,
                ),
                None,
                "2021-03-05",
            ),
            (
                page(r#"<meta name="dc.date" content="2021-03-06">"#, "", PARAS),
                None,
                "2021-03-06",
            ),
            (
                page(
                    "",
                    r#"<time datetime="2021-03-07T08:00:00Z" pubdate>March 7</time>"#,
                    PARAS,
                ),
                None,
                "2021-03-07",
            ),
            (
                page("", "", PARAS),
                Some("https://x.example/2021/03/08/story"),
                "2021-03-08",
            ),
            (
                page(
                    "",
                    r#"<h1>Headline</h1><p class="x">Published 9 March 2021</p>"#,
                    PARAS,
                ),
                None,
                "2021-03-09",
            ),
            (
                page(
                    "",
                    r#"<span class="date">10.03.2021, 12:00 Uhr</span>"#,
                    PARAS,
                ),
                None,
                "2021-03-10",
            ),
        ];
        for (html, url, want) in cases {
            let a = match url {
                Some(u) => ex_url(&html, u),
                None => ex(&html),
            };
            assert_eq!(day(a.published), want, "{html}");
        }
    }

    #[test]
    fn utc_date_one_day_off_the_url_takes_the_url_day() {
        let html = page(
            r#"<meta property="article:published_time" content="2020-02-25T02:25:54+00:00">"#,
            "",
            PARAS,
        );
        let a = ex_url(&html, "https://x.example/2020/02/24/story/");
        assert_eq!(day(a.published), "2020-02-24");
    }

    // --- language --------------------------------------------------------------

    #[test]
    fn language_sources() {
        let a = ex(&format!("<html lang=\"de-AT\"><body>{PARAS}</body></html>"));
        assert_eq!(a.lang.as_deref(), Some("de"));
        let a = ex(&format!(
            "<html><head><meta http-equiv=\"content-language\" content=\"fr\"></head><body>{PARAS}</body></html>"
        ));
        assert_eq!(a.lang.as_deref(), Some("fr"));
        let german = "<p>Die Bundesregierung hat am Mittwoch beschlossen, dass die neuen Regeln für die Sicherheit der Netze schon im nächsten Jahr gelten sollen. Die Unternehmen müssen sich darauf einstellen.</p>";
        let a = ex(&format!(
            "<html><body><article>{german}{german}</article></body></html>"
        ));
        assert_eq!(a.lang.as_deref(), Some("de"));
    }

    // --- boilerplate classes ------------------------------------------------------

    #[test]
    fn boilerplate_is_not_body() {
        let boxes = [
            (
                "nav",
                r#"<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/about">About us and the whole team</a></nav>"#,
            ),
            (
                "header",
                r#"<header class="site-header"><a href="/">The Paper</a><ul class="menu"><li><a href="/a">Section A link</a></li><li><a href="/b">Section B link</a></li></ul></header>"#,
            ),
            (
                "footer",
                r#"<footer><p>Imprint, privacy policy, terms and conditions of the whole site, all in one footer.</p></footer>"#,
            ),
            (
                "aside",
                r#"<aside><p>A sidebar paragraph, with commas, that is long enough to look like text.</p></aside>"#,
            ),
            (
                "form",
                r#"<form class="search-form"><label>Search the site</label><input name="q"><button>Go</button></form>"#,
            ),
            (
                "comments",
                r#"<div id="comments"><h3>12 comments</h3><div class="comment"><p>I disagree with this article, strongly, and here is why it is all wrong.</p></div></div>"#,
            ),
            (
                "share",
                r#"<div class="share-buttons"><a href="https://twitter.com/share">Share on Twitter</a> <a href="https://facebook.com/share">Share on Facebook</a></div>"#,
            ),
            (
                "follow",
                r#"<div class="follow-us"><p>Follow us on social media for more stories like this one, every day.</p></div>"#,
            ),
            (
                "newsletter",
                r#"<div class="newsletter-signup"><p>Get the best stories in your inbox every morning, free, with our daily newsletter.</p><input type="email"><button>Sign up</button></div>"#,
            ),
            (
                "cookie",
                r#"<div id="cookie-consent"><p>We use cookies to improve your experience, and by continuing you accept them.</p><button>OK</button></div>"#,
            ),
            (
                "related",
                r#"<div class="related-posts"><h3>Related articles</h3><ul><li><a href="/1">Another story about something else entirely</a></li><li><a href="/2">Yet another story, with a comma</a></li></ul></div>"#,
            ),
            (
                "author bio",
                r#"<div class="author-bio"><p>Jane Roe is a senior correspondent who has covered security, policy, and technology for two decades.</p></div>"#,
            ),
            (
                "about the author",
                r#"<section class="about-the-author"><h3>About the Author</h3><p>Jane Roe writes about things, places, and people, for many publications.</p></section>"#,
            ),
            (
                "read more",
                r#"<p>Read more: <a href="/other">Another story about a completely different subject</a></p>"#,
            ),
            (
                "caption",
                r#"<figure><img src="a.jpg"><figcaption>Photo: Jane Roe / Agency, taken in the city centre</figcaption></figure>"#,
            ),
        ];
        for (name, html) in boxes {
            let doc = page("", "", &format!("{PARAS}{html}"));
            let a = ex(&doc);
            let want = "The first paragraph of the article is long enough to be scored, with a comma, and another one, so it counts.\n\nThe second paragraph carries on with the story, adding detail, quotes and context, as articles do.\n\nThe third paragraph ends the story with a last thought, and a final comma, before the boilerplate starts.";
            assert_eq!(a.body, want, "{name}");
            // Boxes around the article are not body either.
            let doc = format!("<html><body>{html}<article>{PARAS}</article>{html}</body></html>");
            assert_eq!(ex(&doc).body, want, "{name} around the article");
        }
    }

    #[test]
    fn wrapper_with_boilerplate_class_is_kept() {
        // WordPress puts tag-* and comment classes on the article element.
        let many = PARAS.repeat(3);
        let html = format!(
            "<html><body><article class=\"post tag-politics comments-open has-sidebar\">{many}</article><div class=\"sidebar\"><p>Other things, and more other things, in the sidebar area.</p></div></body></html>"
        );
        let a = ex(&html);
        assert!(a.body.starts_with("The first paragraph"), "{}", a.body);
        assert_eq!(a.body.matches("The third paragraph").count(), 3);
        assert!(!a.body.contains("Other things"));
    }

    #[test]
    fn lists_tables_quotes_keep_their_text_in_order() {
        let html = page(
            "",
            "",
            &format!(
                "{PARAS}<h2>Details</h2><ul><li>First point, with detail</li><li>Second point</li></ul>\
                 <blockquote><p>A quoted statement, from someone.</p></blockquote>\
                 <table><tr><th>Year</th><th>Cases</th></tr><tr><td>2020</td><td>41</td></tr></table>\
                 <p>Closing words of the article, after the table, with a comma.</p>"
            ),
        );
        let a = ex(&html);
        let tail: Vec<&str> = a.body.split("\n\n").skip(3).collect();
        assert_eq!(
            tail,
            vec![
                "Details",
                "First point, with detail",
                "Second point",
                "A quoted statement, from someone.",
                "Year | Cases",
                "2020 | 41",
                "Closing words of the article, after the table, with a comma."
            ]
        );
    }

    #[test]
    fn standfirst_next_to_the_headline_is_kept() {
        let html = format!(
            "<html><head><title>Big Story</title></head><body><div class=\"header\"><h1>Big Story</h1>\
             <p class=\"teaser\">The lead paragraph sums the story up in one long sentence for the reader.</p></div>\
             <div class=\"article-body\">{PARAS}</div></body></html>"
        );
        let a = ex(&html);
        assert!(a.body.starts_with("The lead paragraph sums"), "{}", a.body);
    }

    #[test]
    fn site_rule_overrides() {
        let rules = vec![SiteRuleConfig {
            host: "example.com".into(),
            body: Some("div.story".into()),
            remove: vec!["div.ad".into()],
            authors: Some("span.who".into()),
            title: Some("h2.headline".into()),
        }];
        let ex = Extractor::new(&rules).unwrap();
        let html = r#"<body><h2 class="headline">Rule title</h2><article><p>wrong</p></article><div class="story"><p>right</p>
            <div class="ad">buy</div></div><span class="who">Ann Lee</span></body>"#;
        let url = Url::parse("https://www.example.com/x").unwrap();
        let a = ex.extract(html, Some(&url));
        assert_eq!(a.body, "right");
        assert_eq!(a.authors, vec!["Ann Lee"]);
        assert_eq!(a.title.as_deref(), Some("Rule title"));
        // Other hosts are not affected.
        let other = Url::parse("https://other.org/x").unwrap();
        assert_eq!(ex.extract(html, Some(&other)).authors, Vec::<String>::new());
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
        let a = ex(html);
        assert_eq!(a.body, "one long paragraph of text\n\nand another");
    }

    #[test]
    fn hostile_shapes_complete() {
        // Deep nesting: flattened by the pre-pass, text kept, a warning.
        let html = format!("<html><body>{}<p>deep</p>", "<div>".repeat(20_000));
        let a = ex(&html);
        assert!(a.body.contains("deep"));
        assert_eq!(a.warnings.len(), 1);
        // Empty and garbage input.
        assert_eq!(ex("").body, "");
        let garbage: String = (0..5000u32)
            .filter_map(|i| char::from_u32((i * 7919) % 0x3000))
            .collect();
        let _ = ex(&garbage);
        let _ = ex("<<<&&&<!--<script><svg><table><td><li><a href='");
    }

    /// Random soups of tags, entities, attributes and text: no panic, and
    /// the body never holds markup characters it was not given.
    #[test]
    fn random_markup_does_not_panic() {
        const PIECES: &[&str] = &[
            "<div class=\"article-body\">",
            "</div>",
            "<p>",
            "</p>",
            "<table><tr><td>",
            "</td>",
            "</tr>",
            "</table>",
            "<ul><li>",
            "</li>",
            "<h1>",
            "</h1>",
            "<h2>Title</h2>",
            "<a href=\"#x\">",
            "</a>",
            "<br>",
            "<br/>",
            "<script>var a='</p>';</script>",
            "<style>p{}</style>",
            "<!--",
            "-->",
            "<![CDATA[x]]>",
            "&amp;",
            "&",
            "&#",
            "&#x1F600;",
            "&notit;",
            "<",
            ">",
            "\"",
            "'",
            "=",
            "<b><i>",
            "</b>",
            "</i>",
            "<span hidden>",
            "</span>",
            "<nav>",
            "</nav>",
            "<div id=\"comments\">",
            "<time datetime=\"2020-01-02\">",
            "</time>",
            "<meta name=\"author\" content=\"By A and B\">",
            "<title>T | S</title>",
            "<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"author\":",
            "é",
            "日本",
            "Some words, with commas, and more words. ",
            "<svg><text>",
            "</svg>",
            "<select><option>",
            "<textarea>",
            "</textarea>",
            "<math><mi/>",
            "</math>",
            "\u{0}",
            "\r\n",
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..300 {
            let n = (next() % 200) as usize;
            let html: String = (0..n)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            let a = ex(&html);
            assert!(!a.body.contains("<script"), "{html}");
            let _ = html_fragment_to_text(&html);
        }
    }

    #[test]
    fn fragments_and_block_text() {
        assert_eq!(
            html_fragment_to_text(
                "<p>One &amp; <b>two</b></p><ul><li>three</li></ul><script>x</script>"
            ),
            "One & two\n\nthree"
        );
        let doc = Html::parse_document("<div id=a><p>keep</p><p id=b>drop</p></div>");
        let sel = Selector::parse("#a").unwrap();
        let root = doc.select(&sel).next().unwrap();
        let drop = Selector::parse("#b").unwrap();
        let removed: Vec<ego_tree::NodeId> = doc.select(&drop).map(|e| e.id()).collect();
        assert_eq!(block_text(root, &removed), "keep");
    }
}
