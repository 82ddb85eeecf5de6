//! What an element's `class`, `id`, `role` and other attributes say about
//! it: content or boilerplate.
//!
//! Two families of patterns:
//!
//! * Readability's class weights and "unlikely candidate" patterns, which
//!   steer the scoring (a wrapper class like `has-sidebar` costs a little,
//!   it does not remove anything by itself);
//! * boilerplate classes ([`Boiler`]): comment sections, share and follow
//!   widgets, newsletter and cookie boxes, related-article lists, author bio
//!   boxes, navigation, ads. These are removed before scoring, unless the
//!   element holds most of the page's text (see `body.rs`).

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::dom::{Dom, Tag};

/// A boilerplate class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boiler {
    Comments,
    Share,
    Newsletter,
    Cookie,
    Related,
    AuthorBio,
    Navigation,
    Ad,
    Meta,
}

/// Hints about one element.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hints {
    /// Readability's class weight: ±25 for the class, ±25 for the id.
    pub weight: i8,
    /// Readability's "unlikely candidate" (and not "maybe a candidate").
    pub unlikely: bool,
    /// Class or id says byline / author / dateline.
    pub byline: bool,
    /// Class or id says "share" (Readability's `shareElements`).
    pub share: bool,
    /// Not rendered: `hidden`, `aria-hidden="true"`, `display:none`,
    /// `visibility:hidden`.
    pub hidden: bool,
    /// A `role` that is never the article (navigation, menu, dialog, ...).
    pub bad_role: bool,
    /// Marked as the article body (`itemprop="articleBody"` and the like).
    pub article_body: bool,
    pub boiler: Option<Boiler>,
    /// Class or id says author/byline/writer (metadata looks there).
    pub author_class: bool,
    /// Class or id says date/time/published (metadata looks there).
    pub date_class: bool,
}

fn re(s: &str) -> Regex {
    // Only called on the pattern literals below; covered by tests.
    Regex::new(s).unwrap_or_else(|e| panic!("static regex {s:?}: {e}"))
}

static UNLIKELY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote",
    )
});
static MAYBE: LazyLock<Regex> =
    LazyLock::new(|| re(r"and|article|body|column|content|main|mathjax|shadow"));
static POSITIVE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story")
});
static NEGATIVE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget",
    )
});
static BYLINE: LazyLock<Regex> =
    LazyLock::new(|| re(r"byline|author|dateline|writtenby|p-author"));
static SHARE: LazyLock<Regex> = LazyLock::new(|| re(r"((?-u:\b)|_)(share|sharedaddy)((?-u:\b)|_)"));

/// Boilerplate patterns, matched against the lower-cased `class id`.
/// Order matters: the first family that matches names the class.
static BOILER: LazyLock<Vec<(Boiler, Regex)>> = LazyLock::new(|| {
    vec![
        (
            Boiler::Cookie,
            re(r"cookie|consent|gdpr|onetrust|cookiebot|(?-u:\b)cmp(?-u:\b)|privacy-?(banner|notice|popup)"),
        ),
        (
            Boiler::Comments,
            re(
                r"comment|disqus|(?-u:\b)respond(?-u:\b)|(?-u:\b)replies(?-u:\b)|(?-u:\b)reply(?-u:\b)|leave-?a-?reply|discussion|user-?reactions",
            ),
        ),
        (
            Boiler::AuthorBio,
            re(
                r"author-?(bio|box|info|card|profile|details|description|about|wrap|block)|authorbio|about-?(the-?)?author|bio-?box|biobox|contributor-?bio|(?-u:\b)bio(?-u:\b)|author-?avatar",
            ),
        ),
        (
            Boiler::Newsletter,
            re(
                r"newsletter|subscri(be|ption)|signup|sign-up|opt-?in(?-u:\b)|mailchimp|mc4wp|mailing-?list|email-?(signup|capture|form)|paywall|regwall|piano",
            ),
        ),
        (
            Boiler::Share,
            re(
                r"shar(e|ing)|social|sharedaddy|addthis|shariff|sociable|follow-?us|followus|(?-u:\b)follow(?-u:\b)|(?-u:\b)print(?-u:\b)|print-?(link|button)|tools?bar|(?-u:\b)email-?(link|button)",
            ),
        ),
        (
            Boiler::Related,
            re(
                r"related|recommend|more-?stories|also-?(like|read)|you-?may|read-?(next|also)|more-?(from|articles|news|posts)|further-?reading|yarpp|relatedposts|outbrain|taboola|recirc|trending|most-?(read|popular|viewed)|popular-?posts|other-?articles|similar-?(posts|articles)|next-?post|prev-?post|post-?navigation|nav-?links",
            ),
        ),
        (
            Boiler::Navigation,
            re(
                r"breadcrumb|pagination|(?-u:\b)pager(?-u:\b)|skip-?link|(?-u:\b)menu|navbar|navigation|(?-u:\b)nav(?-u:\b)|nav-|-nav(?-u:\b)|site-?nav|topnav|subnav|masthead|site-?header|site-?footer|footer|sidebar|widget|(?-u:\b)banner(?-u:\b)|jump-?link",
            ),
        ),
        (
            Boiler::Ad,
            re(
                r"(?-u:\b)ad(?-u:\b)|(?-u:\b)ads(?-u:\b)|(?-u:\b)ad-|-ad(?-u:\b)|advert|adsense|adsbygoogle|adslot|ad-?slot|ad-?container|ad-?wrapper|ad-?unit|(?-u:\b)dfp(?-u:\b)|sponsor|(?-u:\b)promo|anzeige|werbung|publicidad|popup|modal|overlay",
            ),
        ),
        (
            Boiler::Meta,
            re(
                r"(?-u:\b)tags?(?-u:\b)|tag-?(list|links|cloud)|tagcloud|post-?tags|entry-?tags|(?-u:\b)categories(?-u:\b)|cat-?links|post-?meta|entry-?meta|entry-?footer|post-?footer|article-?footer|byline|dateline|(?-u:\b)meta(?-u:\b)|rating|(?-u:\b)vote(?-u:\b)|(?-u:\b)poll(?-u:\b)",
            ),
        ),
    ]
});

static ARTICLE_BODY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(^|[\s_-])(article-?(body|content|text)|story-?(body|content|text)|entry-?content|post-?(body|content|text)|articlebody|body-?text|main-?content)([\s_-]|$)",
    )
});

const BAD_ROLES: &[&str] = &[
    "menu",
    "menubar",
    "complementary",
    "navigation",
    "alert",
    "alertdialog",
    "dialog",
    "banner",
    "contentinfo",
    "search",
];

static AUTHOR_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    re(r"byline|author|writer|autor|verfasser|creator|journalist|reporter|by-line|posted-?by")
});
static DATE_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    re(r"date|time|publish|posted|datum|fecha|dateline|meta|byline|article-info|entry-info")
});

/// The part of [`Hints`] that depends on `class` and `id` only (cached per
/// distinct pair: pages repeat the same few hundred class lists).
#[derive(Debug, Clone, Copy, Default)]
struct ClassHints {
    weight: i8,
    unlikely: bool,
    byline: bool,
    share: bool,
    article_body: bool,
    boiler: Option<Boiler>,
    author_class: bool,
    date_class: bool,
}

fn class_hints(class: &str, id: &str) -> ClassHints {
    let class = cut(class, 400).to_ascii_lowercase();
    let id = cut(id, 200).to_ascii_lowercase();
    let mut w: i32 = 0;
    for s in [&class, &id] {
        if s.is_empty() {
            continue;
        }
        if NEGATIVE.is_match(s) {
            w -= 25;
        }
        if POSITIVE.is_match(s) {
            w += 25;
        }
    }
    let both = format!("{class} {id}");
    ClassHints {
        weight: w as i8,
        unlikely: UNLIKELY.is_match(&both) && !MAYBE.is_match(&both),
        byline: BYLINE.is_match(&both),
        share: SHARE.is_match(&both),
        article_body: ARTICLE_BODY.is_match(&both),
        boiler: BOILER.iter().find(|(_, r)| r.is_match(&both)).map(|(b, _)| *b),
        author_class: AUTHOR_CLASS.is_match(&both),
        date_class: DATE_CLASS.is_match(&both),
    }
}

/// Computes the hints of every element of `dom`.
pub fn compute(dom: &Dom<'_>) -> Vec<Hints> {
    let mut out = vec![Hints::default(); dom.len()];
    let mut cache: HashMap<(&str, &str), ClassHints> = HashMap::new();
    for (i, n) in dom.nodes.iter().enumerate() {
        if n.tag == Tag::Text {
            continue;
        }
        let mut class = "";
        let mut id = "";
        let mut h = Hints::default();
        for (k, v) in dom.attrs_of(i) {
            let v: &str = v;
            match &**k {
                "class" => class = v,
                "id" => id = v,
                "hidden" => h.hidden = true,
                "aria-hidden" => h.hidden |= v.trim().eq_ignore_ascii_case("true"),
                "style" => h.hidden |= style_hides(v),
                "role" => {
                    let r = v.trim().to_ascii_lowercase();
                    h.bad_role = BAD_ROLES.contains(&r.as_str());
                    if r == "article" || r == "main" {
                        h.article_body = true;
                    }
                }
                "itemprop" => {
                    if v.contains("articleBody") || v.contains("reviewBody") {
                        h.article_body = true;
                    }
                    if v.contains("author") {
                        h.byline = true;
                    }
                }
                "rel" => {
                    if v.split_ascii_whitespace().any(|r| r == "author") {
                        h.byline = true;
                    }
                }
                _ => {}
            }
        }
        if h.hidden && class.contains("fallback-image") {
            h.hidden = false;
        }
        if class.is_empty() && id.is_empty() {
            out[i] = h;
            continue;
        }
        let c = *cache
            .entry((class, id))
            .or_insert_with(|| class_hints(class, id));
        h.weight = c.weight;
        h.unlikely = c.unlikely;
        h.byline |= c.byline;
        h.share = c.share;
        h.article_body |= c.article_body;
        h.boiler = c.boiler;
        h.author_class = c.author_class;
        h.date_class = c.date_class;
        if n.tag == Tag::Body || n.tag == Tag::Html {
            h.boiler = None;
            h.unlikely = false;
        }
        out[i] = h;
    }
    out
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut e = max;
    while !s.is_char_boundary(e) {
        e -= 1;
    }
    &s[..e]
}

/// `display: none` or `visibility: hidden` in a style attribute.
fn style_hides(style: &str) -> bool {
    let s: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(500)
        .collect::<String>()
        .to_ascii_lowercase();
    s.contains("display:none") || s.contains("visibility:hidden")
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    fn hints_of(html: &str) -> Hints {
        let doc = Html::parse_document(html);
        let dom = Dom::from_html(&doc);
        let h = compute(&dom);
        let i = (0..dom.len())
            .find(|&i| dom.attr(i, "data-t").is_some())
            .expect("test element");
        h[i]
    }

    #[test]
    fn patterns_compile() {
        for r in [
            &*UNLIKELY,
            &*MAYBE,
            &*POSITIVE,
            &*NEGATIVE,
            &*BYLINE,
            &*SHARE,
            &*ARTICLE_BODY,
        ] {
            assert!(!r.as_str().is_empty());
        }
        assert_eq!(BOILER.len(), 9);
    }

    #[test]
    fn boilerplate_classes() {
        let cases = [
            (r#"<div data-t id="comments">"#, Boiler::Comments),
            (r#"<div data-t class="disqus_thread">"#, Boiler::Comments),
            (r#"<div data-t class="social-share-buttons">"#, Boiler::Share),
            (r#"<div data-t class="newsletter-signup">"#, Boiler::Newsletter),
            (r#"<div data-t id="cookie-banner">"#, Boiler::Cookie),
            (r#"<div data-t class="related-articles">"#, Boiler::Related),
            (r#"<div data-t class="author-bio">"#, Boiler::AuthorBio),
            (r#"<div data-t class="about-the-author">"#, Boiler::AuthorBio),
            (r#"<div data-t class="breadcrumb">"#, Boiler::Navigation),
            (r#"<div data-t class="ad-slot">"#, Boiler::Ad),
            (r#"<div data-t class="post-tags">"#, Boiler::Meta),
        ];
        for (html, want) in cases {
            assert_eq!(hints_of(html).boiler, Some(want), "{html}");
        }
        for html in [
            r#"<div data-t class="article-body">"#,
            r#"<div data-t class="header-image shadow">"#,
            r#"<div data-t class="loading">"#,
            r#"<div data-t class="readability">"#,
        ] {
            assert_eq!(hints_of(html).boiler, None, "{html}");
        }
    }

    #[test]
    fn weights_and_flags() {
        let h = hints_of(r#"<div data-t class="entry-content" id="post-1">"#);
        assert_eq!(h.weight, 50);
        assert!(h.article_body);
        let h = hints_of(r#"<div data-t class="sidebar">"#);
        assert_eq!(h.weight, -25);
        assert!(h.unlikely);
        let h = hints_of(r#"<div data-t class="sidebar main">"#);
        assert!(!h.unlikely);
        assert!(hints_of(r#"<div data-t style="display: none">"#).hidden);
        assert!(hints_of(r#"<div data-t aria-hidden="true">"#).hidden);
        assert!(hints_of(r#"<div data-t hidden>"#).hidden);
        assert!(hints_of(r#"<nav data-t role="navigation">"#).bad_role);
        assert!(hints_of(r#"<span data-t class="byline">"#).byline);
        assert!(hints_of(r#"<a data-t rel="author">"#).byline);
        assert!(hints_of(r#"<div data-t class="share">"#).share);
        assert!(hints_of(r#"<div data-t itemprop="articleBody">"#).article_body);
    }
}
