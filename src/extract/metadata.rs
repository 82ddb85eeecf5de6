//! Title, authors, publication date and language from the page's metadata
//! (`<meta>`, JSON-LD, microdata, `<time>`, bylines, the URL).

use chrono::{DateTime, FixedOffset};
use url::Url;

use std::sync::LazyLock;

use regex::Regex;

use super::authors::{clean_names, is_capitalised_name, squash};
use super::blocks::write_blocks;
use super::body::{Base, guarded};
use super::dates::{date_in_url, find_date_in_text, midnight_local, parse_date_local};
use super::dom::{Dom, Tag};
use super::hints::{Boiler, Hints};
use super::jsonld::JsonLd;
use super::text::{collapse_ws, cut, norm_cmp};

/// What one pass over the document collects for the metadata.
#[derive(Debug, Default)]
pub struct Facts<'d> {
    pub html_lang: Option<&'d str>,
    pub title_tag: Option<String>,
    /// `(key, content)`: key is the lower-cased `name`, `property`,
    /// `itemprop` or `http-equiv` of a `<meta>`.
    pub metas: Vec<(String, &'d str)>,
    pub h1: Vec<usize>,
    /// `<time>` elements and elements with a date-like `itemprop`.
    pub times: Vec<usize>,
    /// Elements with `itemprop="author"` (or `creator`).
    pub itemprop_author: Vec<usize>,
    /// Links with `rel="author"`.
    pub rel_author: Vec<usize>,
    /// Elements whose class or id says byline/author.
    pub byline: Vec<usize>,
    /// Elements whose class or id says date/time/published.
    pub date_hint: Vec<usize>,
    pub canonical: Option<&'d str>,
    /// Some ancestor (or the element) is invisible or hidden.
    pub hidden: Vec<bool>,
    /// Inside a comment section, related-articles box, navigation, form or
    /// other boilerplate (not where the article's byline is).
    pub in_boiler: Vec<bool>,
    /// Collapsed text length of each node's visible subtree.
    pub text_len: Vec<u32>,
    /// Inside a comment section or a related-articles box (their dates are
    /// not the article's).
    pub in_other_items: Vec<bool>,
}

/// Collects the facts in one pass.
pub fn collect<'d>(dom: &'d Dom<'_>, hints: &[Hints], base: &Base) -> Facts<'d> {
    let mut f = Facts {
        hidden: vec![false; dom.len()],
        in_boiler: vec![false; dom.len()],
        text_len: base.raw_len.clone(),
        in_other_items: vec![false; dom.len()],
        ..Facts::default()
    };
    for (i, n) in dom.nodes.iter().enumerate() {
        if let Some(p) = dom.parent(i) {
            f.hidden[i] = f.hidden[p];
            f.in_boiler[i] = f.in_boiler[p];
            f.in_other_items[i] = f.in_other_items[p];
        }
        if hints[i]
            .boiler
            .is_some_and(|b| matches!(b, Boiler::Comments | Boiler::Related))
            && !guarded(base, i, &hints[i])
        {
            f.in_other_items[i] = true;
        }
        if n.tag == Tag::Form
            || hints[i].boiler.is_some_and(|b| {
                matches!(
                    b,
                    Boiler::Comments | Boiler::Related | Boiler::Newsletter | Boiler::Cookie
                ) && !guarded(base, i, &hints[i])
            })
        {
            f.in_boiler[i] = true;
        }
        if n.tag == Tag::Text {
            continue;
        }
        if n.tag.is_invisible()
            && n.tag != Tag::Head
            && n.tag != Tag::Meta
            && n.tag != Tag::Title
            && n.tag != Tag::Link
            || hints[i].hidden
        {
            f.hidden[i] = true;
        }
        let mut key: Option<String> = None;
        let mut content: Option<&'d str> = None;
        let mut itemprop: Option<&'d str> = None;
        let mut rel: Option<&'d str> = None;
        let mut href: Option<&'d str> = None;
        for (k, v) in dom.attrs_of(i) {
            let v: &'d str = v;
            match &**k {
                "name" | "property" | "http-equiv" if n.tag == Tag::Meta => {
                    key = Some(v.trim().to_ascii_lowercase());
                }
                "content" => content = Some(v),
                "itemprop" => itemprop = Some(v),
                "rel" => rel = Some(v),
                "href" => href = Some(v),
                "lang" if n.tag == Tag::Html => f.html_lang = Some(v),
                _ => {}
            }
        }
        match n.tag {
            Tag::Meta => {
                // Keys are normalised as Readability does: lower case, `.`
                // as `:`, and a space-separated list is several keys.
                let k = key.or_else(|| itemprop.map(|p| p.trim().to_ascii_lowercase()));
                if let (Some(k), Some(c)) = (k, content) {
                    for one in k.split_ascii_whitespace() {
                        f.metas.push((one.replace('.', ":"), c));
                    }
                }
                continue;
            }
            Tag::Title => {
                if f.title_tag.is_none() {
                    let t = collapse_ws(&dom.raw_title_text(i));
                    if !t.is_empty() {
                        f.title_tag = Some(t);
                    }
                }
                continue;
            }
            Tag::Link => {
                if rel.is_some_and(|r| r.eq_ignore_ascii_case("canonical")) {
                    f.canonical = href;
                }
                continue;
            }
            Tag::H1 => f.h1.push(i),
            Tag::Time => f.times.push(i),
            _ => {}
        }
        if let Some(p) = itemprop {
            if p.contains("author") || p.contains("creator") {
                f.itemprop_author.push(i);
            }
            if p.contains("datePublished") || p.contains("dateCreated") {
                f.times.push(i);
            }
        }
        if n.tag == Tag::A
            && rel.is_some_and(|r| {
                r.split_ascii_whitespace()
                    .any(|x| x.eq_ignore_ascii_case("author"))
            })
        {
            f.rel_author.push(i);
        }
        if hints[i].author_class {
            f.byline.push(i);
        }
        if hints[i].date_class {
            f.date_hint.push(i);
        }
    }
    f
}

impl Dom<'_> {
    /// Text of a `<title>` (its text children).
    pub fn raw_title_text(&self, i: usize) -> String {
        self.children(i)
            .filter(|&c| self.tag(c) == Tag::Text)
            .map(|c| &*self.nodes[c].text)
            .collect()
    }
}

impl<'d> Facts<'d> {
    /// The first non-empty `<meta>` content for one of `keys` (in the order
    /// of `keys`).
    pub fn meta(&self, keys: &[&str]) -> Option<&'d str> {
        keys.iter().find_map(|k| {
            self.metas
                .iter()
                .find(|(mk, c)| mk == k && !c.trim().is_empty())
                .map(|(_, c)| *c)
        })
    }

    pub fn meta_all<'s>(&'s self, key: &'s str) -> impl Iterator<Item = &'d str> + 's {
        self.metas
            .iter()
            .filter(move |(k, c)| k == key && !c.trim().is_empty())
            .map(|(_, c)| *c)
    }
}

/// Names the publication goes by, squashed (see [`squash`]): `og:site_name`,
/// the JSON-LD publisher, and the host name's labels.
pub fn site_names(facts: &Facts<'_>, ld: &JsonLd, url: Option<&Url>) -> Vec<String> {
    let mut out = Vec::new();
    for s in [
        facts.meta(&["og:site_name"]),
        facts.meta(&["application-name"]),
        facts
            .meta(&["twitter:site"])
            .map(|s| s.trim_start_matches('@')),
        ld.publisher.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        let q = squash(s);
        if !q.is_empty() {
            out.push(q);
        }
    }
    let host = url.and_then(|u| u.host_str()).or_else(|| {
        facts
            .canonical
            .and_then(|c| c.split("//").nth(1))
            .map(|h| h.split('/').next().unwrap_or(h))
    });
    if let Some(h) = host {
        let h = h.trim_start_matches("www.");
        out.push(squash(h));
        if let Some(label) = h.split('.').rev().nth(1) {
            out.push(squash(label));
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

const SEPARATORS: &[&str] = &[
    " | ", " - ", " – ", " — ", " :: ", " » ", " · ", " • ", " / ", " ~ ", " — ",
];

/// Removes a site name before or after a separator ("Headline | Site").
pub fn strip_site(title: &str, site_names: &[String], h1: Option<&str>) -> String {
    let t = collapse_ws(title);
    let Some(sep) = SEPARATORS.iter().find(|s| t.contains(*s)) else {
        return t;
    };
    let parts: Vec<&str> = t
        .split(sep)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() < 2 {
        return t;
    }
    // A part that is the page's main heading wins.
    if let Some(h) = h1 {
        let h = norm_cmp(h);
        if let Some(p) = parts.iter().find(|p| norm_cmp(p) == h) {
            return p.to_string();
        }
    }
    let is_site = |p: &str| {
        let q = squash(p);
        !q.is_empty()
            && site_names.iter().any(|s| {
                *s == q
                    || (q.len() >= 3 && (s.contains(&q) || q.contains(s.as_str())) && s.len() >= 3)
            })
    };
    let mut parts = parts;
    let mut changed = false;
    while parts.len() > 1 && is_site(parts[parts.len() - 1]) {
        parts.pop();
        changed = true;
    }
    while parts.len() > 1 && is_site(parts[0]) {
        parts.remove(0);
        changed = true;
    }
    if changed {
        return parts.join(sep);
    }
    t
}

/// The headline: the page's `h1` when it agrees with the metadata title,
/// else the metadata title (`og:title`, JSON-LD `headline`, ...) or the
/// `<title>`, without the site name.
pub fn title(
    dom: &Dom<'_>,
    facts: &Facts<'_>,
    ld: &JsonLd,
    site_names: &[String],
) -> Option<String> {
    let is_site = |t: &str| {
        let q = squash(t);
        !q.is_empty() && site_names.contains(&q)
    };
    let h1s: Vec<String> = facts
        .h1
        .iter()
        .filter(|&&i| !facts.hidden[i] && !facts.in_boiler[i])
        .map(|&i| collapse_ws(&dom.raw_text(i)))
        .filter(|t| (2..=300).contains(&t.chars().count()) && !is_site(t))
        .collect();
    let meta = facts
        .meta(&[
            "og:title",
            "twitter:title",
            "dc:title",
            "dcterm:title",
            "dcterms:title",
            "parsely-title",
            "sailthru:title",
            "title",
        ])
        .map(crate::parse::text::plain_text)
        .filter(|t| !t.is_empty());
    let tag = facts.title_tag.clone();
    // An h1 that agrees with the metadata (pages often have a logo h1, or
    // a teaser's h1 before the article's).
    let agrees = |h: &str, c: &str| {
        let (nh, nc) = (norm_cmp(h), norm_cmp(c));
        let (lh, lc) = (nh.chars().count(), nc.chars().count());
        lh >= 4
            && (nh == nc
                || (nc.contains(&nh) && lh * 2 >= lc)
                || (nh.contains(&nc) && lc * 2 >= lh && lc >= 10))
    };
    for cand in [meta.as_deref(), ld.headline.as_deref(), tag.as_deref()]
        .into_iter()
        .flatten()
    {
        let stripped = strip_site(cand, site_names, None);
        if let Some(h) = h1s.iter().find(|h| agrees(h, cand) || agrees(h, &stripped)) {
            return Some(h.clone());
        }
    }
    // A metadata title that is only a section or site name ("News",
    // "Medienmitteilungen") loses to the page's one real headline.
    let generic = |t: &str| {
        let words = t.split_whitespace().count();
        words <= 2
            || is_site(t)
            || (words <= 4
                && t.split(['|', '-', '–', '—', '»', '·'])
                    .any(|p| is_site(p.trim())))
    };
    let lone_headline = match h1s.as_slice() {
        [h] if h.split_whitespace().count() >= 4 && !h.split_whitespace().any(is_site) => {
            Some(h.clone())
        }
        _ => None,
    };
    if let Some(m) = meta {
        let s = strip_site(&m, site_names, h1s.first().map(String::as_str));
        if generic(&s)
            && let Some(h) = lone_headline
        {
            return Some(h);
        }
        return Some(s);
    }
    if let Some(h) = &ld.headline {
        return Some(h.clone());
    }
    if let Some(t) = tag {
        let s = strip_site(&t, site_names, None);
        let s = if s != t {
            s
        } else {
            // No site name to strip: Readability's rule on separators.
            readability_title(&t, &h1s)
        };
        if generic(&s)
            && let Some(h) = lone_headline
        {
            return Some(h);
        }
        return Some(s);
    }
    h1s.into_iter().next()
}

/// Readability's `_getArticleTitle` on a `<title>`.
fn readability_title(orig: &str, h1s: &[String]) -> String {
    let word_count = |s: &str| s.split_whitespace().count();
    let seps = [" | ", " - ", " \\ ", " / ", " > ", " » "];
    let mut cur = orig.to_string();
    let mut hierarchical = false;
    let last_sep = seps
        .iter()
        .filter_map(|s| orig.rfind(s).map(|p| (p, *s)))
        .max_by_key(|(p, _)| *p);
    if let Some((pos, _)) = last_sep {
        hierarchical = [" \\ ", " / ", " > ", " » "]
            .iter()
            .any(|s| orig.contains(s));
        cur = orig[..pos].to_string();
        if word_count(&cur) < 3 {
            let first = seps
                .iter()
                .filter_map(|s| orig.find(s).map(|p| p + s.len()))
                .min()
                .unwrap_or(0);
            cur = orig[first..].to_string();
        }
    } else if orig.contains(": ") {
        if !h1s.iter().any(|h| h.trim() == orig.trim()) {
            let after_last = orig.rfind(':').map_or(orig, |p| &orig[p + 1..]);
            cur = after_last.to_string();
            if word_count(&cur) < 3 {
                cur = orig.find(':').map_or(orig, |p| &orig[p + 1..]).to_string();
            } else if orig.find(':').is_some_and(|p| word_count(&orig[..p]) > 5) {
                cur = orig.to_string();
            }
        }
    } else if (orig.chars().count() > 150 || orig.chars().count() < 15) && h1s.len() == 1 {
        cur = h1s[0].clone();
    }
    let cur = collapse_ws(&cur);
    let wc = word_count(&cur);
    let stripped: String = orig.chars().filter(|c| !"|-\\/>»".contains(*c)).collect();
    if wc <= 4 && (!hierarchical || wc != word_count(&stripped).saturating_sub(1)) {
        return collapse_ws(orig);
    }
    cur
}

/// Authors, from the most to the least reliable source.
pub fn authors(
    dom: &Dom<'_>,
    facts: &Facts<'_>,
    ld: &JsonLd,
    site_names: &[String],
) -> Vec<String> {
    let clean_all = |vals: Vec<String>| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for v in vals {
            for n in clean_names(&v, site_names) {
                if !out.iter().any(|o| o.to_lowercase() == n.to_lowercase()) {
                    out.push(n);
                }
            }
        }
        out
    };
    let found = clean_all(ld.authors.clone());
    if !found.is_empty() {
        return found;
    }
    let metas: Vec<String> = [
        "dc:creator",
        "dcterm:creator",
        "dcterms:creator",
        "author",
        "article:author",
        "parsely-author",
        "sailthru:author",
        "byl",
        "citation_author",
        "cxenseparse:author",
    ]
    .iter()
    .flat_map(|k| {
        facts
            .meta_all(k)
            .filter(|v| !v.trim_start().starts_with("http"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    })
    .collect();
    let found = clean_all(metas);
    if !found.is_empty() {
        return found;
    }
    // Microdata: itemprop=author, its itemprop=name if it has one.
    let mut vals = Vec::new();
    for &i in &facts.itemprop_author {
        if (facts.hidden[i] && dom.attr(i, "content").is_none()) || facts.in_boiler[i] {
            continue;
        }
        let end = dom.end(i);
        let name = (i + 1..end)
            .find(|&j| {
                dom.attr(j, "itemprop")
                    .is_some_and(|p| p.split_whitespace().any(|x| x == "name"))
            })
            .map(|j| {
                dom.attr(j, "content")
                    .map(str::to_string)
                    .unwrap_or_else(|| dom.raw_text(j))
            });
        let v = name
            .or_else(|| dom.attr(i, "content").map(str::to_string))
            .unwrap_or_else(|| dom.raw_text(i));
        if v.chars().count() < 200 {
            vals.push(v);
        }
    }
    let found = clean_all(vals);
    if !found.is_empty() {
        return found;
    }
    let vals: Vec<String> = facts
        .rel_author
        .iter()
        .filter(|&&i| !facts.hidden[i] && !facts.in_boiler[i])
        .map(|&i| dom.raw_text(i))
        .collect();
    let found = clean_all(vals);
    if !found.is_empty() {
        return found;
    }
    // A short text that starts like a byline ("By A", "Von A").
    let found = text_byline(dom, facts, site_names);
    if !found.is_empty() {
        return found;
    }
    // Byline-looking elements: the first that yields names.
    for &i in &facts.byline {
        if facts.hidden[i] || facts.in_boiler[i] || facts.text_len[i] > 150 {
            continue;
        }
        let t = lines_of(dom, i);
        if t.is_empty() || t.chars().count() > 120 {
            continue;
        }
        let found = clean_names(&t, site_names);
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

/// The text of an element with its line structure (`<br>`, blocks).
fn lines_of(dom: &Dom<'_>, i: usize) -> String {
    write_blocks(dom, &[i], &[]).join("\n")
}

static BYLINE_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:by|von|par|por|door|text(?:\s+von|\s+by)?\s*:|autor(?:in)?\s*:|auteur\s*:|author\s*:|written\s+by|posted\s+by|geschrieben\s+von|veröffentlicht\s+von|ein\s+(?:beitrag|artikel)\s+von|napisał(?:a)?)(?:\s|$)",
    )
    .unwrap_or_else(|e| panic!("static regex: {e}"))
});

/// Names from a short text that starts with a byline word, in document
/// order: "By A and B", "Von A", "Text: A".
fn text_byline(dom: &Dom<'_>, facts: &Facts<'_>, site_names: &[String]) -> Vec<String> {
    let mut tries = 0;
    for i in 0..dom.len() {
        if dom.tag(i) != Tag::Text || facts.hidden[i] || facts.in_boiler[i] {
            continue;
        }
        let t = dom.nodes[i].text.trim();
        if t.is_empty() || t.len() > 200 || !BYLINE_START.is_match(t) {
            continue;
        }
        tries += 1;
        if tries > 50 {
            break;
        }
        // The smallest enclosing element whose text is still short, not a
        // heading or a link list.
        let Some(mut e) = dom.parent(i) else { continue };
        let mut best = None;
        loop {
            if dom.tag(e).is_heading() || matches!(dom.tag(e), Tag::Title | Tag::Body | Tag::Html) {
                break;
            }
            let len = facts.text_len[e] as usize;
            if len > 120 {
                break;
            }
            best = Some(e);
            // A name after a lone "By" lives in a sibling: climb until
            // there is more than the byline word.
            if len > t.chars().count() + 2 {
                break;
            }
            match dom.parent(e) {
                Some(p) => e = p,
                None => break,
            }
        }
        let Some(b) = best else { continue };
        let names = clean_names(&lines_of(dom, b), site_names);
        // A byline names one to a few people with capitalised names.
        if !names.is_empty() && names.len() <= 4 && names.iter().all(|n| is_capitalised_name(n)) {
            return names;
        }
    }
    Vec::new()
}

/// The publication date.
pub fn published(
    dom: &Dom<'_>,
    facts: &Facts<'_>,
    ld: &JsonLd,
    url: Option<&Url>,
    month_first: bool,
) -> Option<DateTime<FixedOffset>> {
    let url_date = url.and_then(|u| date_in_url(u.as_str()));
    let found = published_from_page(dom, facts, ld, url_date, month_first)?;
    // A time given in UTC one day off the URL's date: the URL has the
    // publisher's own calendar day (late evening west of Greenwich, early
    // morning east of it).
    if let Some(u) = url_date
        && found.offset().local_minus_utc() == 0
        && (found.date_naive() - u).num_days().abs() == 1
    {
        return Some(midnight_local(u));
    }
    Some(found)
}

fn published_from_page(
    dom: &Dom<'_>,
    facts: &Facts<'_>,
    ld: &JsonLd,
    url_date: Option<chrono::NaiveDate>,
    month_first: bool,
) -> Option<DateTime<FixedOffset>> {
    if let Some(d) = ld.date_published.as_deref().and_then(parse_date_local) {
        return Some(d);
    }
    const KEYS: &[&str] = &[
        "article:published_time",
        "og:article:published_time",
        "og:published_time",
        "published_time",
        "article:published",
        "article:published",
        "datepublished",
        "date:published",
        "pubdate",
        "publishdate",
        "publish-date",
        "publish_date",
        "publication_date",
        "publicationdate",
        "dc:date:issued",
        "dcterms:issued",
        "dc:date",
        "dcterms:date",
        "dc:date:created",
        "dcterms:created",
        "sailthru:date",
        "parsely-pub-date",
        "citation_publication_date",
        "citation_date",
        "date",
        "created",
        "og:pubdate",
        "originalpublicationdate",
        "displaydate",
        "release_date",
        "cxenseparse:recs:publishtime",
        "uploaddate",
        "datecreated",
    ];
    for k in KEYS {
        if let Some(d) = facts.meta_all(k).find_map(parse_date_local) {
            return Some(d);
        }
    }
    if let Some(d) = ld.page_date.as_deref().and_then(parse_date_local) {
        return Some(d);
    }
    // <time> and microdata: published ones first, then any.
    let time_value = |i: usize| -> Option<DateTime<FixedOffset>> {
        dom.attr(i, "datetime")
            .or_else(|| dom.attr(i, "content"))
            .and_then(parse_date_local)
            .or_else(|| {
                let t = collapse_ws(&dom.raw_text(i));
                (t.chars().count() < 100)
                    .then(|| find_date_in_text(&t, month_first).map(midnight_local))
                    .flatten()
            })
    };
    let is_published = |i: usize| {
        dom.attr(i, "pubdate").is_some()
            || dom
                .attr(i, "itemprop")
                .is_some_and(|p| p.contains("datePublished"))
            || dom.attr(i, "class").is_some_and(|c| {
                let c = c.to_ascii_lowercase();
                c.contains("publish") || c.contains("entry-date") || c.contains("post-date")
            })
    };
    if let Some(d) = url_date {
        return Some(midnight_local(d));
    }
    if let Some(d) = facts
        .times
        .iter()
        .filter(|&&i| is_published(i))
        .find_map(|&i| time_value(i))
    {
        return Some(d);
    }
    if let Some(d) = facts
        .times
        .iter()
        .filter(|&&i| !facts.hidden[i])
        .find_map(|&i| time_value(i))
    {
        return Some(d);
    }
    for &i in facts.date_hint.iter().chain(&facts.byline) {
        if facts.in_other_items[i] {
            continue;
        }
        for attr in ["datetime", "content", "title", "data-date"] {
            if let Some(d) = dom.attr(i, attr).and_then(|v| {
                let v = v.trim();
                (v.len() >= 8 && v.bytes().next().is_some_and(|b| b.is_ascii_digit()))
                    .then(|| parse_date_local(v))
                    .flatten()
            }) {
                return Some(d);
            }
        }
        if facts.hidden[i] {
            continue;
        }
        let t = collapse_ws(&dom.raw_text(i));
        if t.chars().count() > 200 {
            continue;
        }
        if let Some(d) = find_date_in_text(&t, month_first) {
            return Some(midnight_local(d));
        }
    }
    if let Some(d) = date_near_headline(dom, facts, month_first) {
        return Some(midnight_local(d));
    }
    if let Some(d) = ld.date_modified.as_deref().and_then(parse_date_local) {
        return Some(d);
    }
    [
        "article:modified_time",
        "og:updated_time",
        "dcterms:modified",
        "last-modified",
        "lastmod",
    ]
    .iter()
    .find_map(|k| facts.meta_all(k).find_map(parse_date_local))
}

/// A date written in short texts just before or after the page's main
/// heading (datelines, "Published 3 May 2022", a date above the headline).
fn date_near_headline(
    dom: &Dom<'_>,
    facts: &Facts<'_>,
    month_first: bool,
) -> Option<chrono::NaiveDate> {
    let h = facts
        .h1
        .iter()
        .copied()
        .find(|&i| !facts.hidden[i] && !facts.in_other_items[i])
        .or_else(|| (0..dom.len()).find(|&i| dom.tag(i) == Tag::H2 && !facts.hidden[i]))?;
    // Text nodes: up to 10 before the heading, 80 after it.
    let texts: Vec<usize> = (0..dom.len())
        .filter(|&i| dom.tag(i) == Tag::Text && !facts.hidden[i] && !facts.in_other_items[i])
        .collect();
    let pos = texts.partition_point(|&i| i < h);
    let from = pos.saturating_sub(10);
    let to = (pos + 80).min(texts.len());
    // After the heading first, then before it.
    texts[pos..to]
        .iter()
        .chain(texts[from..pos].iter().rev())
        .filter_map(|&i| {
            // Short texts, or the start of a paragraph ("01.02.2022 – The ...").
            let full = dom.nodes[i].text.trim();
            let t = if full.len() > 200 {
                super::text::cut(full, 40)
            } else {
                full
            };
            (t.len() >= 6)
                .then(|| find_date_in_text(t, month_first))
                .flatten()
        })
        .next()
}

/// The page's declared language: primary subtag, lower case.
pub fn declared_lang(facts: &Facts<'_>, ld: &JsonLd) -> Option<String> {
    [
        facts.html_lang,
        facts.meta(&["content-language", "language", "dc:language", "og:locale"]),
        ld.language.as_deref(),
    ]
    .into_iter()
    .flatten()
    .find_map(primary_subtag)
}

fn primary_subtag(s: &str) -> Option<String> {
    let p = s
        .trim()
        .split(['-', '_', ',', ';', ' '])
        .next()?
        .to_ascii_lowercase();
    ((2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic())).then_some(p)
}

/// Language detected from text (ISO 639-1 where there is one).
pub fn detect_lang(text: &str) -> Option<String> {
    let sample = cut(text, 4000);
    if sample.chars().filter(|c| c.is_alphabetic()).count() < 40 {
        return None;
    }
    let info = whatlang::detect(sample)?;
    if !info.is_reliable() && info.confidence() < 0.5 {
        return None;
    }
    let code = info.lang().code();
    Some(iso639_1(code).unwrap_or(code).to_string())
}

fn iso639_1(code3: &str) -> Option<&'static str> {
    Some(match code3 {
        "eng" => "en",
        "deu" => "de",
        "fra" => "fr",
        "spa" => "es",
        "por" => "pt",
        "ita" => "it",
        "nld" => "nl",
        "pol" => "pl",
        "rus" => "ru",
        "ukr" => "uk",
        "ces" => "cs",
        "slk" => "sk",
        "slv" => "sl",
        "hrv" => "hr",
        "srp" => "sr",
        "bul" => "bg",
        "ron" => "ro",
        "hun" => "hu",
        "fin" => "fi",
        "swe" => "sv",
        "dan" => "da",
        "nob" => "nb",
        "est" => "et",
        "lav" => "lv",
        "lit" => "lt",
        "ell" => "el",
        "tur" => "tr",
        "ara" => "ar",
        "heb" => "he",
        "pes" => "fa",
        "hin" => "hi",
        "ben" => "bn",
        "urd" => "ur",
        "jpn" => "ja",
        "kor" => "ko",
        "cmn" => "zh",
        "vie" => "vi",
        "tha" => "th",
        "ind" => "id",
        "cat" => "ca",
        "epo" => "eo",
        "bel" => "be",
        "mkd" => "mk",
        "afr" => "af",
        "tgl" => "tl",
        "kat" => "ka",
        "hye" => "hy",
        "aze" => "az",
        "uzb" => "uz",
        "tam" => "ta",
        "tel" => "te",
        "mar" => "mr",
        "guj" => "gu",
        "pan" => "pa",
        "kan" => "kn",
        "mal" => "ml",
        "ori" => "or",
        "nep" => "ne",
        "sin" => "si",
        "khm" => "km",
        "amh" => "am",
        "yid" => "yi",
        "lat" => "la",
        "jav" => "jv",
        "zul" => "zu",
        "sna" => "sn",
        "aka" => "ak",
        "tuk" => "tk",
        "mya" => "my",
        _ => return None,
    })
}
