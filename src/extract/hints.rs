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

use aho_corasick::{AhoCorasick, MatchKind};

use super::dom::{Dom, Tag};
use super::text::cut;

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
    /// Image captions and credits.
    Caption,
}

impl Boiler {
    /// Families that never name a wrapper of the article; they are removed
    /// in every attempt, not only the first.
    pub fn is_strong(self) -> bool {
        matches!(self, Boiler::Cookie | Boiler::Newsletter | Boiler::Caption)
    }
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

// Class and id patterns, matched in one pass of an Aho-Corasick automaton
// over the lower-cased class (and id) string. A pattern may carry boundary
// marks: `^` a word boundary (ASCII `\b`), `~` no letter or digit (`\b`
// or `_`), `|` a separator (space, `_`, `-`) or the edge, `#` a space or
// the edge. `-?` stands for an optional hyphen.

const UNLIKELY: u32 = 1 << 0;
const MAYBE: u32 = 1 << 1;
const POSITIVE: u32 = 1 << 2;
const NEGATIVE: u32 = 1 << 3;
const BYLINE: u32 = 1 << 4;
const SHARE: u32 = 1 << 5;
const ARTICLE_BODY: u32 = 1 << 6;
const AUTHOR_CLASS: u32 = 1 << 7;
const DATE_CLASS: u32 = 1 << 8;
/// First bit of the boilerplate families, in [`BOILER_ORDER`] order.
const BOILER_SHIFT: u32 = 9;
const BOILER_ORDER: [Boiler; 10] = [
    Boiler::Cookie,
    Boiler::Comments,
    Boiler::AuthorBio,
    Boiler::Newsletter,
    Boiler::Share,
    Boiler::Related,
    Boiler::Navigation,
    Boiler::Ad,
    Boiler::Meta,
    Boiler::Caption,
];

/// (flag, patterns). Readability's lists come first, as in Readability.js.
const PATTERNS: &[(u32, &str)] = &[
    (
        UNLIKELY,
        "-ad- ai2html banner breadcrumbs combx comment community cover-wrap disqus extra footer gdpr header legends menu related remark replies rss shoutbox sidebar skyscraper social sponsor supplemental ad-break agegate pagination pager popup yom-remote",
    ),
    (MAYBE, "and article body column content main mathjax shadow"),
    (
        POSITIVE,
        "article body content entry hentry h-entry main page pagination post text blog story",
    ),
    (
        NEGATIVE,
        "-ad- hidden #hid# banner combx comment com- contact footer gdpr masthead media meta outbrain promo related scroll share shoutbox sidebar skyscraper sponsor shopping tags widget",
    ),
    (BYLINE, "byline author dateline writtenby p-author"),
    (SHARE, "~share~ ~sharedaddy~"),
    (
        ARTICLE_BODY,
        "|article-?body| |article-?content| |article-?text| |story-?body| |story-?content| |story-?text| |entry-?content| |post-?body| |post-?content| |post-?text| |body-?text| |main-?content|",
    ),
    (
        AUTHOR_CLASS,
        "byline author auteur writer autor verfasser creator journalist reporter by-line posted-?by",
    ),
    (
        DATE_CLASS,
        "date time publish posted datum fecha dateline meta byline article-info entry-info",
    ),
    // Boilerplate families, in BOILER_ORDER.
    (
        1 << BOILER_SHIFT,
        "cookie consent gdpr onetrust ^cmp^ privacy-?banner privacy-?notice privacy-?popup",
    ),
    (
        1 << (BOILER_SHIFT + 1),
        "comment disqus ^respond^ ^replies^ ^reply^ leave-?a-?reply discussion user-?reactions",
    ),
    (
        1 << (BOILER_SHIFT + 2),
        "author-?bio author-?box author-?info author-?card author-?profile author-?details author-?description author-?about author-?wrap author-?block about-?author about-?the-?author bio-?box contributor-?bio ^bio^ author-?avatar",
    ),
    (
        1 << (BOILER_SHIFT + 3),
        "newsletter subscribe subscription signup sign-up opt-?in^ mailchimp mc4wp mailing-?list email-?signup email-?capture email-?form",
    ),
    (
        1 << (BOILER_SHIFT + 4),
        "share sharing social addthis shariff sociable follow-?us ^follow^ ^print^ print-?link print-?button toolbar toolsbar ^email-?link ^email-?button",
    ),
    (
        1 << (BOILER_SHIFT + 5),
        "related recommend more-?stories also-?like also-?read you-?may read-?next read-?also more-?from more-?articles more-?news more-?posts further-?reading yarpp outbrain taboola recirc trending most-?read most-?popular most-?viewed popular-?posts other-?articles similar-?posts similar-?articles next-?post prev-?post post-?navigation nav-?links",
    ),
    (
        1 << (BOILER_SHIFT + 6),
        "breadcrumb pagination ^pager^ skip-?link ^menu navbar navigation ^nav^ nav- -nav^ site-?nav topnav subnav masthead site-?header site-?footer footer sidebar widget ^banner^ jump-?link",
    ),
    (
        1 << (BOILER_SHIFT + 7),
        "^ad^ ^ads^ ^ad- -ad^ advert adsense adsbygoogle adslot ad-?slot ad-?container ad-?wrapper ad-?unit ^dfp^ sponsor ^promo anzeige werbung publicidad popup modal overlay",
    ),
    (
        1 << (BOILER_SHIFT + 8),
        "^tag^ ^tags^ tag-?list tag-?links tag-?cloud post-?tags entry-?tags ^categories^ cat-?links post-?meta entry-?meta entry-?footer post-?footer article-?footer byline dateline ^meta^ rating ^vote^ ^poll^",
    ),
    (
        1 << (BOILER_SHIFT + 9),
        "caption credit copyright bildunterschrift bildnachweis bildquelle figcaption ^legende^ ^legend^ image-?source photo-?source",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Any,
    /// ASCII word boundary.
    Word,
    /// Not a letter or digit (a word boundary or `_`).
    NotAlnum,
    /// Space, `_`, `-` or the edge.
    Sep,
    /// Space or the edge.
    Space,
}

struct Keyword {
    flag: u32,
    left: Bound,
    right: Bound,
}

struct Matcher {
    ac: AhoCorasick,
    kws: Vec<Keyword>,
}

fn bound_of(c: u8) -> Bound {
    match c {
        b'^' => Bound::Word,
        b'~' => Bound::NotAlnum,
        b'|' => Bound::Sep,
        b'#' => Bound::Space,
        _ => Bound::Any,
    }
}

/// Expands `-?` into both spellings.
fn expand(p: &str) -> Vec<String> {
    match p.find("-?") {
        None => vec![p.to_string()],
        Some(i) => {
            let mut out = Vec::new();
            for rest in expand(&p[i + 2..]) {
                out.push(format!("{}-{}", &p[..i], rest));
                out.push(format!("{}{}", &p[..i], rest));
            }
            out
        }
    }
}

static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
    let mut pats = Vec::new();
    let mut kws = Vec::new();
    for (flag, list) in PATTERNS {
        for raw in list.split_whitespace() {
            let b = raw.as_bytes();
            let left = bound_of(b[0]);
            let right = bound_of(b[b.len() - 1]);
            let core = raw.trim_matches(|c| matches!(c, '^' | '~' | '|' | '#'));
            for p in expand(core) {
                pats.push(p);
                kws.push(Keyword {
                    flag: *flag,
                    left,
                    right,
                });
            }
        }
    }
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(&pats)
        .unwrap_or_else(|e| panic!("static class patterns: {e}"));
    Matcher { ac, kws }
});

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn bound_ok(b: Bound, inside: u8, outside: Option<u8>) -> bool {
    match b {
        Bound::Any => true,
        Bound::Word => outside.is_none_or(|o| is_word(o) != is_word(inside)),
        Bound::NotAlnum => outside.is_none_or(|o| !o.is_ascii_alphanumeric()),
        Bound::Sep => outside.is_none_or(|o| o.is_ascii_whitespace() || o == b'_' || o == b'-'),
        Bound::Space => outside.is_none_or(|o| o.is_ascii_whitespace()),
    }
}

/// The flags of every pattern found in the lower-cased `s`.
fn scan(s: &str) -> u32 {
    if s.is_empty() {
        return 0;
    }
    let m = &*MATCHER;
    let b = s.as_bytes();
    let mut flags = 0;
    for hit in m.ac.find_overlapping_iter(s) {
        let kw = &m.kws[hit.pattern().as_usize()];
        if flags & kw.flag != 0 {
            continue;
        }
        let (st, en) = (hit.start(), hit.end());
        let before = st.checked_sub(1).map(|i| b[i]);
        let after = b.get(en).copied();
        if bound_ok(kw.left, b[st], before) && bound_ok(kw.right, b[en - 1], after) {
            flags |= kw.flag;
        }
    }
    flags
}

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
    let fc = scan(&cut(class, 400).to_ascii_lowercase());
    let fi = scan(&cut(id, 200).to_ascii_lowercase());
    let mut w: i32 = 0;
    for f in [fc, fi] {
        if f & NEGATIVE != 0 {
            w -= 25;
        }
        if f & POSITIVE != 0 {
            w += 25;
        }
    }
    let both = fc | fi;
    let boiler = (0..BOILER_ORDER.len())
        .find(|k| both & (1 << (BOILER_SHIFT + *k as u32)) != 0)
        .map(|k| BOILER_ORDER[k]);
    ClassHints {
        weight: w as i8,
        unlikely: both & UNLIKELY != 0 && both & MAYBE == 0,
        byline: both & BYLINE != 0,
        share: both & SHARE != 0,
        article_body: both & ARTICLE_BODY != 0,
        boiler,
        author_class: both & AUTHOR_CLASS != 0,
        date_class: both & DATE_CLASS != 0,
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
                // Test hooks often name the component ("prism-byline").
                "data-testid" | "data-component" | "data-qa" if class.is_empty() => class = v,
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
                "rel" if v.split_ascii_whitespace().any(|r| r == "author") => {
                    h.byline = true;
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
    fn patterns_expand_and_match() {
        assert_eq!(expand("a-?b-?c"), vec!["a-b-c", "ab-c", "a-bc", "abc"]);
        assert!(MATCHER.kws.len() > 200);
        assert_ne!(scan("hid") & NEGATIVE, 0);
        assert_eq!(scan("hidx") & NEGATIVE, 0);
        assert_ne!(scan("post_share_box") & SHARE, 0);
        assert_eq!(scan("shared") & SHARE, 0);
        assert_ne!(scan("x article-body y") & ARTICLE_BODY, 0);
        assert_eq!(scan("myarticle-body") & ARTICLE_BODY, 0);
        assert_eq!(scan(""), 0);
    }

    #[test]
    fn boilerplate_classes() {
        let cases = [
            (r#"<div data-t id="comments">"#, Boiler::Comments),
            (r#"<div data-t class="disqus_thread">"#, Boiler::Comments),
            (
                r#"<div data-t class="social-share-buttons">"#,
                Boiler::Share,
            ),
            (
                r#"<div data-t class="newsletter-signup">"#,
                Boiler::Newsletter,
            ),
            (r#"<div data-t id="cookie-banner">"#, Boiler::Cookie),
            (r#"<div data-t class="related-articles">"#, Boiler::Related),
            (r#"<div data-t class="author-bio">"#, Boiler::AuthorBio),
            (
                r#"<div data-t class="about-the-author">"#,
                Boiler::AuthorBio,
            ),
            (r#"<div data-t class="breadcrumb">"#, Boiler::Navigation),
            (r#"<div data-t class="ad-slot">"#, Boiler::Ad),
            (r#"<div data-t class="post-tags">"#, Boiler::Meta),
            (r#"<p data-t class="wp-caption-text">"#, Boiler::Caption),
            (r#"<span data-t class="photo-credit">"#, Boiler::Caption),
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
