//! Finding the article body: a Readability-class algorithm over the flat
//! document ([`Dom`]).
//!
//! 1. **Remove** what is never the article: invisible elements, `nav`,
//!    `aside`, `footer`, bad ARIA roles, Readability's "unlikely candidates",
//!    and the boilerplate classes of [`Boiler`] (comments, share widgets,
//!    newsletter and cookie boxes, related articles, author bios, ...) unless
//!    the element holds most of the page's text; the byline and the heading
//!    that repeats the title go too.
//! 2. **Score** every paragraph (`p`, `pre`, `td`, headings, text-only `div`s
//!    and runs of loose text) by length and commas, and credit its ancestors
//!    (parent fully, grandparent half, further up less).
//! 3. **Pick** the best container (score × (1 − link density)), climb to a
//!    common ancestor when the runners-up agree, and add worthy siblings.
//! 4. **Clean** the result: share boxes, headers with bad class names and
//!    link-heavy or form-like `div`s, lists, tables and forms.
//! 5. If less than [`CHAR_THRESHOLD`] characters survive, try again with
//!    fewer filters, and keep the longest result.
//!
//! Everything is a pass over index ranges; nothing recurses.

use std::sync::LazyLock;

use regex::Regex;

use super::blocks::{Block, write_blocks_detailed};
use super::dom::{Dom, Tag};
use super::hints::{Boiler, Hints};
use super::text::{collapse_ws, measure, similarity};

/// Results shorter than this make the extractor retry with fewer filters.
pub const CHAR_THRESHOLD: usize = 500;
const N_TOP_CANDIDATES: usize = 5;
/// A boilerplate-looking element is only taken for a wrapper of the article
/// when it holds at least this much text.
const GUARD_MIN_CHARS: f64 = 500.0;

/// The inputs of body extraction.
pub struct BodyInput<'d, 'a> {
    pub dom: &'d Dom<'a>,
    pub hints: &'d [Hints],
    /// Nodes a site rule removes.
    pub rule_removed: &'d [bool],
    /// Containers a site rule names as the body.
    pub rule_body: &'d [usize],
    /// The article's title, to drop the heading that repeats it.
    pub title: Option<&'d str>,
}

#[derive(Debug, Clone, Copy)]
struct Flags {
    strip_unlikely: bool,
    weight_classes: bool,
    clean_conditionally: bool,
}

/// Per-node facts that do not depend on the attempt (also used by the
/// metadata, to tell boilerplate boxes from wrappers).
pub struct Base {
    /// Collapsed text length of text nodes; of elements, their visible subtree.
    pub raw_len: Vec<u32>,
    /// Commas of text nodes.
    commas: Vec<u32>,
    /// Some ancestor is a `table` or `code` (Readability keeps those).
    in_table_or_code: Vec<bool>,
    /// Longest text held by an element marked as the article body (or `main`)
    /// at or below each node.
    marker_len: Vec<u32>,
    body: usize,
    body_len: u32,
}

/// Extracts the article body as blocks of text.
pub fn extract(input: &BodyInput<'_, '_>, base: &Base) -> Vec<String> {
    let dom = input.dom;
    if dom.len() == 0 {
        return Vec::new();
    }
    let attempts = [
        Flags {
            strip_unlikely: true,
            weight_classes: true,
            clean_conditionally: true,
        },
        Flags {
            strip_unlikely: false,
            weight_classes: true,
            clean_conditionally: true,
        },
        Flags {
            strip_unlikely: false,
            weight_classes: false,
            clean_conditionally: true,
        },
        Flags {
            strip_unlikely: false,
            weight_classes: false,
            clean_conditionally: false,
        },
    ];
    let title_heading = find_title_heading(input, base);
    let mut best: Vec<String> = Vec::new();
    let mut best_len = 0usize;
    for flags in attempts {
        let blocks = attempt(input, base, flags, title_heading);
        let len: usize = blocks.iter().map(|b| b.chars().count()).sum();
        // A later attempt has fewer filters: take it only when it finds
        // much more text (the article was filtered away), not when it merely
        // adds the boilerplate around a short article.
        if best.is_empty() || len > best_len * 2 {
            best_len = len;
            best = blocks;
        }
        if best_len >= CHAR_THRESHOLD {
            break;
        }
    }
    best
}

/// The first visible `h1`/`h2` that repeats the title (Readability's test:
/// its words are in the title), and whether it is the whole title (the
/// title's words are in it, too).
fn find_title_heading(input: &BodyInput<'_, '_>, base: &Base) -> Option<(usize, bool)> {
    let title = input.title?;
    let dom = input.dom;
    (0..dom.len()).find_map(|i| {
        if !matches!(dom.tag(i), Tag::H1 | Tag::H2)
            || base.raw_len[i] == 0
            || base.raw_len[i] >= 1000
        {
            return None;
        }
        let text = dom.raw_text(i);
        (similarity(title, &text) > 0.75).then(|| (i, similarity(&text, title) > 0.75))
    })
}

/// Computes the attempt-independent facts.
pub fn base_facts(dom: &Dom<'_>, hints: &[Hints]) -> Base {
    let n = dom.len();
    let mut raw_len = vec![0u32; n];
    let mut commas = vec![0u32; n];
    let mut hidden = vec![false; n];
    let mut in_table_or_code = vec![false; n];
    for i in 0..n {
        let node = &dom.nodes[i];
        if let Some(p) = dom.parent(i) {
            hidden[i] = hidden[p];
            in_table_or_code[i] =
                in_table_or_code[p] || matches!(dom.tag(p), Tag::Table | Tag::Code);
        }
        if node.tag.is_invisible() || hints[i].hidden {
            hidden[i] = true;
        }
        if node.tag == Tag::Text && !hidden[i] {
            let (l, c) = measure(&node.text);
            raw_len[i] = l;
            commas[i] = c;
        }
    }
    for i in (1..n).rev() {
        if let Some(p) = dom.parent(i)
            && !hidden[i]
        {
            raw_len[p] += raw_len[i];
        }
    }
    let mut marker_len = vec![0u32; n];
    for i in (0..n).rev() {
        let h = &hints[i];
        if !hidden[i] && (h.article_body || dom.tag(i) == Tag::Main) {
            marker_len[i] = marker_len[i].max(raw_len[i]);
        }
        if let Some(p) = dom.parent(i) {
            marker_len[p] = marker_len[p].max(marker_len[i]);
        }
    }
    let body = (0..n).find(|&i| dom.tag(i) == Tag::Body).unwrap_or(0);
    Base {
        body_len: raw_len[body],
        raw_len,
        commas,
        in_table_or_code,
        marker_len,
        body,
    }
}

/// Whether a boilerplate-looking element is in fact (a wrapper of) the
/// article: it holds most of the text, or a marked article body.
pub fn guarded(base: &Base, i: usize, h: &Hints) -> bool {
    let total = base.body_len.max(1) as f64;
    let len = base.raw_len[i] as f64;
    h.article_body
        || (len >= GUARD_MIN_CHARS && len > 0.5 * total)
        || base.marker_len[i] as f64 > (0.3 * total).max(GUARD_MIN_CHARS)
}

struct Attempt<'x> {
    removed: Vec<bool>,
    text_len: Vec<u32>,
    link_len: Vec<f32>,
    commas: Vec<u32>,
    has_block_desc: Vec<bool>,
    transparent: Vec<bool>,
    as_p: Vec<bool>,
    scores: Vec<f64>,
    inited: Vec<bool>,
    candidates: Vec<usize>,
    /// The heading that repeats the title (removed from the text).
    title_heading: Option<usize>,
    /// The same heading when it is the whole title: the article's headline,
    /// which the standfirst follows and nothing of the text precedes.
    headline: Option<usize>,
    /// Removed only for a Readability "unlikely" class name (the standfirst
    /// may sit in a `div class="header"`).
    unlikely_only: Vec<bool>,
    base: &'x Base,
}

fn attempt(
    input: &BodyInput<'_, '_>,
    base: &Base,
    flags: Flags,
    title_heading: Option<(usize, bool)>,
) -> Vec<String> {
    let dom = input.dom;
    let n = dom.len();
    let mut a = Attempt {
        removed: vec![false; n],
        text_len: vec![0; n],
        link_len: vec![0.0; n],
        commas: vec![0; n],
        has_block_desc: vec![false; n],
        transparent: vec![false; n],
        as_p: vec![false; n],
        scores: vec![0.0; n],
        inited: vec![false; n],
        candidates: Vec::new(),
        title_heading: title_heading.map(|(h, _)| h),
        headline: title_heading.and_then(|(h, whole)| whole.then_some(h)),
        unlikely_only: vec![false; n],
        base,
    };
    remove_pass(input, &mut a, flags);
    stats_pass(dom, &mut a);

    let roots: Vec<usize> = if !input.rule_body.is_empty() {
        input
            .rule_body
            .iter()
            .copied()
            .filter(|&r| !a.removed[r])
            .collect()
    } else {
        score_pass(input, &mut a, flags);
        let roots = choose(input, &mut a, flags);
        with_lead(dom, &a, roots)
    };
    let mut cut = a.removed.clone();
    // A standfirst taken from a box removed for its class name only.
    for &r in &roots {
        if a.unlikely_only[r] {
            for c in &mut cut[r..dom.end(r)] {
                *c = false;
            }
        }
    }
    // Inside the container, what comes before the headline (kicker,
    // breadcrumbs, category, date line) is not the article's text.
    if let Some(h) = a.headline
        && let Some(&r) = roots.iter().find(|&&r| r < h && h < dom.end(r))
    {
        let mut j = r + 1;
        while j < h {
            if dom.end(j) <= h {
                for c in &mut cut[j..dom.end(j)] {
                    *c = true;
                }
                j = dom.end(j);
            } else {
                j += 1;
            }
        }
    }
    prep(input, &a, &roots, &mut cut, flags);
    filter_blocks(write_blocks_detailed(dom, &roots, &cut))
}

fn re(s: &str) -> Regex {
    // Only called on the pattern literals below; covered by tests.
    Regex::new(s).unwrap_or_else(|e| panic!("static regex {s:?}: {e}"))
}

/// "Read more: ..." and its translations: a pointer to another article.
static READ_MORE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:read more|read also|also read|keep reading|see also|related(?: articles?| stories| content| posts| coverage| reading)?|more on this(?: story)?|recommended|lea (?:también|más|además)|lee (?:también|más)|le puede interesar|te puede interesar|también te puede interesar|mire|ver también|lesen sie (?:auch|mehr|hier)|mehr zum thema|mehr dazu|mehr zu|mehr themen|auch lesen|verwandte themen(?:bereiche)?|auch interessant|das könnte sie auch interessieren|das könnte dich auch interessieren|schon gelesen|weiterlesen|weitere artikel|zum thema|czytaj (?:więcej|też|także|również)|zobacz (?:też|także|również)|dowiedz się więcej|(?:à )?lire aussi|à lire également|voir aussi|sur le même sujet|leia (?:também|mais)|veja também|leggi anche|vedi anche)\b\s*[:.!?…-]?",
    )
});
/// Calls to action in short blocks: share, follow, comment, rate,
/// subscribe, and bare advertising labels.
static CALL_TO_ACTION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:share (?:this|on|the)|diesen artikel teilen|artikel teilen|teilen sie|compartir|partager|udostępnij|follow us|folgen sie uns|síguenos|siguenos|suivez-nous|nos siga|obserwuj nas|leave a (?:comment|reply)|post a comment|kommentar (?:verfassen|schreiben|abgeben)|schreibe einen kommentar|laisser un commentaire|deja (?:un|tu) comentario|dodaj komentarz|rate this|artikel bewerten|(?:sign up|subscribe) (?:for|to|now)|newsletter abonnieren|zum newsletter|jetzt (?:anmelden|abonnieren)|abonnez-vous|inscríbete|suscríbete|(?:advertisement|anzeige|werbung|reklama|publicidad|publicité)\b\s*$)",
    )
});
/// Picture credits and copyright lines.
static CREDIT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:(?:foto|fotos|photo|photos|bild|bilder|image|images|picture|credit|credits|crédits?(?: photos?)?|titelbild|bildquelle|quelle|source|fuente|źródło|zdjęcie|fot)\s*:|©|\(c\)\s|copyright\b|all rights reserved|alle rechte vorbehalten|tous droits réservés|todos los derechos reservados)",
    )
});

/// Drops blocks that are boilerplate by their shape or wording: bare links
/// ("Older post", "zurück"), "Read more: ..." pointers, picture credits and
/// copyright lines, and headings left with nothing after them.
fn filter_blocks(blocks: Vec<Block>) -> Vec<String> {
    let bare_link = |b: &Block| b.link_density() >= 0.9 && b.text.chars().count() < 80;
    let mut kept: Vec<Block> = blocks
        .into_iter()
        .filter(|b| {
            let len = b.text.chars().count();
            let ld = b.link_density();
            !((READ_MORE.is_match(&b.text) && (len < 300 || ld > 0.3))
                || (CREDIT.is_match(&b.text) && len < 200)
                || (CALL_TO_ACTION.is_match(&b.text) && len < 150))
        })
        .collect();
    // Bare links before and after the text: navigation ("Older post",
    // "zurück", category links); in the middle they may be part of it.
    if kept.iter().any(|b| !bare_link(b)) {
        while kept.first().is_some_and(&bare_link) {
            kept.remove(0);
        }
        while kept.last().is_some_and(|b| bare_link(b) || b.heading) {
            kept.pop();
        }
    }
    kept.into_iter().map(|b| b.text).collect()
}

/// Step 1: what never counts (marks whole subtrees in `a.removed`).
fn remove_pass(input: &BodyInput<'_, '_>, a: &mut Attempt<'_>, flags: Flags) {
    let dom = input.dom;
    let n = dom.len();
    let mut i = 0;
    while i < n {
        let node = &dom.nodes[i];
        if node.tag == Tag::Text {
            i += 1;
            continue;
        }
        let h = &input.hints[i];
        let tag = node.tag;
        let mut remove = tag.is_invisible()
            || h.hidden
            || input.rule_removed.get(i).copied().unwrap_or(false)
            || matches!(tag, Tag::Nav | Tag::Aside | Tag::Footer | Tag::Figcaption)
            || h.boiler.is_some_and(|b| b.is_strong()) && !guarded(a.base, i, h)
            || Some(i) == a.title_heading;
        let mut unlikely_only = false;
        if !remove && flags.strip_unlikely && tag != Tag::Body {
            if h.bad_role {
                remove = true;
            } else if let Some(b) = h.boiler
                && !guarded(a.base, i, h)
                && !(b == Boiler::Navigation && tag == Tag::A)
            {
                remove = true;
            } else if h.unlikely && tag != Tag::A && !a.base.in_table_or_code[i] {
                remove = true;
                unlikely_only = true;
            }
        }
        if !remove && h.byline && !h.article_body {
            let l = a.base.raw_len[i];
            if l > 0 && l < 100 {
                remove = true;
            }
        }
        if remove {
            let end = dom.end(i);
            for r in &mut a.removed[i..end] {
                *r = true;
            }
            if unlikely_only {
                for r in &mut a.unlikely_only[i..end] {
                    *r = true;
                }
            }
            i = end;
        } else {
            i += 1;
        }
    }
}

fn is_div_to_p_block(t: Tag) -> bool {
    matches!(
        t,
        Tag::Blockquote
            | Tag::Dl
            | Tag::Div
            | Tag::Img
            | Tag::Ol
            | Tag::P
            | Tag::Pre
            | Tag::Table
            | Tag::Ul
    )
}

/// Text, link and comma sums over the kept part of each subtree.
fn stats_pass(dom: &Dom<'_>, a: &mut Attempt<'_>) {
    let n = dom.len();
    for i in (0..n).rev() {
        if a.removed[i] {
            continue;
        }
        let node = &dom.nodes[i];
        if node.tag == Tag::Text {
            a.text_len[i] = a.base.raw_len[i];
            a.commas[i] = a.base.commas[i];
        } else if node.tag == Tag::A {
            let coef = if dom.attr(i, "href").is_some_and(|h| h.starts_with('#')) {
                0.3
            } else {
                1.0
            };
            a.link_len[i] = a.text_len[i] as f32 * coef;
        }
        if let Some(p) = dom.parent(i) {
            a.text_len[p] += a.text_len[i];
            a.link_len[p] += a.link_len[i];
            a.commas[p] += a.commas[i];
            a.has_block_desc[p] |= a.has_block_desc[i] || is_div_to_p_block(node.tag);
        }
    }
}

impl Attempt<'_> {
    fn link_density(&self, i: usize) -> f64 {
        let t = self.text_len[i];
        if t == 0 {
            0.0
        } else {
            self.link_len[i] as f64 / t as f64
        }
    }

    fn init(&mut self, dom: &Dom<'_>, hints: &[Hints], i: usize, flags: Flags) {
        if self.inited[i] {
            return;
        }
        self.inited[i] = true;
        let base = if self.as_p[i] {
            0.0
        } else {
            match dom.tag(i) {
                Tag::Div => 5.0,
                Tag::Pre | Tag::Td | Tag::Blockquote => 3.0,
                Tag::Address
                | Tag::Ol
                | Tag::Ul
                | Tag::Dl
                | Tag::Dd
                | Tag::Dt
                | Tag::Li
                | Tag::Form => -3.0,
                Tag::H1 | Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6 | Tag::Th => -5.0,
                _ => 0.0,
            }
        };
        let w = if flags.weight_classes {
            hints[i].weight as f64
        } else {
            0.0
        };
        self.scores[i] = base + w;
        self.candidates.push(i);
    }

    /// Element children that were kept.
    fn kept_children<'d>(&'d self, dom: &'d Dom<'_>, i: usize) -> impl Iterator<Item = usize> + 'd {
        dom.children(i)
            .filter(move |&c| !self.removed[c] && dom.tag(c) != Tag::Text)
    }

    /// The scoring parent: skips `div`s that only wrap one paragraph.
    fn score_parent(&self, dom: &Dom<'_>, i: usize) -> Option<usize> {
        let mut p = dom.parent(i)?;
        while self.transparent[p] {
            p = dom.parent(p)?;
        }
        Some(p)
    }
}

/// Step 2: paragraphs credit their ancestors.
fn score_pass(input: &BodyInput<'_, '_>, a: &mut Attempt<'_>, flags: Flags) {
    let dom = input.dom;
    let n = dom.len();
    let mut i = 0;
    while i < n {
        if a.removed[i] {
            i = dom.end(i);
            continue;
        }
        let tag = dom.tag(i);
        match tag {
            Tag::Section
            | Tag::H2
            | Tag::H3
            | Tag::H4
            | Tag::H5
            | Tag::H6
            | Tag::P
            | Tag::Td
            | Tag::Pre => {
                if let Some(p) = a.score_parent(dom, i) {
                    let (len, commas) = (a.text_len[i], a.commas[i]);
                    credit(input, a, p, len, commas, flags);
                }
            }
            Tag::Div => {
                let single_p = {
                    let mut kids = a.kept_children(dom, i);
                    matches!((kids.next(), kids.next()), (Some(c), None) if dom.tag(c) == Tag::P)
                } && !dom.children(i).any(|c| {
                    dom.tag(c) == Tag::Text && !a.removed[c] && !dom.nodes[c].text.trim().is_empty()
                });
                if single_p && a.link_density(i) < 0.25 {
                    a.transparent[i] = true;
                } else if !a.has_block_desc[i] {
                    a.as_p[i] = true;
                    if let Some(p) = a.score_parent(dom, i) {
                        let (len, commas) = (a.text_len[i], a.commas[i]);
                        credit(input, a, p, len, commas, flags);
                    }
                } else {
                    // Runs of loose text and inline elements count as
                    // paragraphs of this div.
                    let mut run_len = 0u32;
                    let mut run_commas = 0u32;
                    let kids: Vec<usize> = dom.children(i).collect();
                    for c in kids {
                        if a.removed[c] {
                            continue;
                        }
                        if dom.tag(c).is_phrasing() {
                            run_len += a.text_len[c];
                            run_commas += a.commas[c];
                        } else {
                            credit(input, a, i, run_len, run_commas, flags);
                            run_len = 0;
                            run_commas = 0;
                        }
                    }
                    credit(input, a, i, run_len, run_commas, flags);
                }
            }
            _ => {}
        }
        i += 1;
    }
}

fn credit(
    input: &BodyInput<'_, '_>,
    a: &mut Attempt<'_>,
    first: usize,
    len: u32,
    commas: u32,
    flags: Flags,
) {
    if len < 25 {
        return;
    }
    let dom = input.dom;
    let score = 1.0 + commas as f64 + (len / 100).min(3) as f64;
    let mut anc = Some(first);
    let mut level = 0usize;
    while let Some(x) = anc {
        if level >= 5 {
            break;
        }
        // The root (`html`) is not a candidate.
        if dom.parent(x).is_none() {
            break;
        }
        a.init(dom, input.hints, x, flags);
        let divider = match level {
            0 => 1.0,
            1 => 2.0,
            l => l as f64 * 3.0,
        };
        a.scores[x] += score / divider;
        level += 1;
        anc = a.score_parent(dom, x);
    }
}

/// Step 3: the best candidate and its worthy siblings.
fn choose(input: &BodyInput<'_, '_>, a: &mut Attempt<'_>, flags: Flags) -> Vec<usize> {
    let dom = input.dom;
    let body = a.base.body;
    let cands = a.candidates.clone();
    for &c in &cands {
        a.scores[c] *= 1.0 - a.link_density(c);
    }
    let mut top: Vec<usize> = Vec::new();
    for &c in &cands {
        let s = a.scores[c];
        let pos = top
            .iter()
            .position(|&t| s > a.scores[t])
            .unwrap_or(top.len());
        if pos < N_TOP_CANDIDATES {
            top.insert(pos, c);
            top.truncate(N_TOP_CANDIDATES);
        }
    }
    let Some(&first) = top.first() else {
        return vec![body];
    };
    if first == body {
        return vec![body];
    }
    let mut best = first;
    let is_ancestor = |anc: usize, x: usize| anc < x && x < dom.end(anc);

    // Runners-up within 75% that share an ancestor with the winner.
    let alternatives: Vec<usize> = top[1..]
        .iter()
        .copied()
        .filter(|&t| a.scores[best] > 0.0 && a.scores[t] / a.scores[best] >= 0.75)
        .collect();
    if alternatives.len() >= 3 {
        let mut p = dom.parent(best);
        while let Some(pp) = p {
            if pp == body || dom.parent(pp).is_none() {
                break;
            }
            let containing = alternatives.iter().filter(|&&t| is_ancestor(pp, t)).count();
            if containing >= 3 {
                best = pp;
                break;
            }
            p = dom.parent(pp);
        }
    }
    a.init(dom, input.hints, best, flags);

    // Climb while the parent scores better.
    let mut last = a.scores[best];
    let threshold = last / 3.0;
    let mut p = dom.parent(best);
    while let Some(pp) = p {
        if pp == body || dom.parent(pp).is_none() {
            break;
        }
        if !a.inited[pp] {
            p = dom.parent(pp);
            continue;
        }
        let ps = a.scores[pp];
        if ps < threshold {
            break;
        }
        if ps > last {
            best = pp;
            break;
        }
        last = ps;
        p = dom.parent(pp);
    }
    // A lone child: take the parent, so that siblings can be considered.
    while let Some(pp) = dom.parent(best) {
        if pp == body || dom.parent(pp).is_none() || a.kept_children(dom, pp).count() != 1 {
            break;
        }
        best = pp;
    }
    a.init(dom, input.hints, best, flags);

    let Some(parent) = dom.parent(best) else {
        return vec![best];
    };
    let best_score = a.scores[best];
    let threshold = (best_score * 0.2).max(10.0);
    let best_class = dom.attr(best, "class").unwrap_or("");
    let siblings: Vec<usize> = a.kept_children(dom, parent).collect();
    let mut roots = Vec::new();
    for s in siblings {
        let mut append = s == best;
        if !append {
            let bonus = if !best_class.is_empty() && dom.attr(s, "class") == Some(best_class) {
                best_score * 0.2
            } else {
                0.0
            };
            if a.inited[s] && a.scores[s] + bonus >= threshold {
                append = true;
            } else if dom.tag(s) == Tag::P || a.as_p[s] {
                let ld = a.link_density(s);
                let len = a.text_len[s];
                if len > 80 && ld < 0.25 {
                    append = true;
                } else if len < 80 && len > 0 && ld == 0.0 {
                    let t = collapse_ws(&dom.raw_text(s));
                    if t.contains(". ") || t.ends_with('.') {
                        append = true;
                    }
                }
            }
        }
        if append {
            roots.push(s);
        }
    }
    if roots.is_empty() {
        roots.push(best);
    }
    roots
}

/// The standfirst: news pages put the lead paragraph next to the headline,
/// outside the container of the rest of the text. Paragraphs between the
/// title heading and the chosen container (and within their common
/// ancestor) are added in front of it.
fn with_lead(dom: &Dom<'_>, a: &Attempt<'_>, mut roots: Vec<usize>) -> Vec<usize> {
    let (Some(h), Some(&first)) = (a.headline, roots.first()) else {
        return roots;
    };
    if h >= first || first - h > 400 {
        return roots;
    }
    let mut lead = Vec::new();
    let mut total = 0u32;
    let mut i = dom.end(h);
    while i < first {
        if a.removed[i] && !a.unlikely_only[i] {
            i = dom.end(i);
            continue;
        }
        let t = dom.tag(i);
        if dom.end(i) > first {
            i += 1; // an ancestor of the container: look inside
            continue;
        }
        let (block_desc, len, link_len) = local_stats(dom, a.base, i);
        // A subtitle set as a heading counts when it reads like a sentence.
        let subtitle = matches!(t, Tag::H2 | Tag::H3 | Tag::H4) && len >= 80;
        let leafish = !block_desc
            && (subtitle
                || matches!(
                    t,
                    Tag::P | Tag::Div | Tag::Section | Tag::Span | Tag::Strong | Tag::B | Tag::Em
                ));
        if leafish {
            if len >= 50 && (link_len as f64) < 0.3 * len as f64 {
                lead.push(i);
                total += len;
            }
            i = dom.end(i);
            continue;
        }
        i += 1;
    }
    if lead.is_empty() || lead.len() > 3 || total > 1500 {
        return roots;
    }
    lead.append(&mut roots);
    lead
}

/// For a small subtree: whether it has block descendants, its text length
/// and the length of its link text.
fn local_stats(dom: &Dom<'_>, base: &Base, i: usize) -> (bool, u32, u32) {
    let end = dom.end(i);
    let mut block = false;
    let mut link = 0u32;
    let mut j = i + 1;
    while j < end {
        let t = dom.tag(j);
        if t.is_invisible() {
            j = dom.end(j);
            continue;
        }
        block |= is_div_to_p_block(t);
        if t == Tag::A {
            link += base.raw_len[j];
            j = dom.end(j);
            continue;
        }
        j += 1;
    }
    (block, base.raw_len[i], link)
}

/// Aggregates over the kept part of a subtree, for conditional cleaning.
#[derive(Debug, Clone, Copy, Default)]
struct Agg {
    text: u32,
    link: f32,
    commas: u32,
    p: u32,
    img: u32,
    li: u32,
    input: u32,
    heading_text: u32,
    textish_text: u32,
    list_text: u32,
    data_table: bool,
}

fn is_textish(t: Tag) -> bool {
    matches!(t, Tag::Span | Tag::Li | Tag::Td) || is_div_to_p_block(t)
}

/// Step 4: Readability's `_prepArticle`, as marks in `cut`.
fn prep(
    input: &BodyInput<'_, '_>,
    a: &Attempt<'_>,
    roots: &[usize],
    cut: &mut [bool],
    flags: Flags,
) {
    let dom = input.dom;
    let hints = input.hints;
    let n = dom.len();
    let mark = |cut: &mut [bool], i: usize| {
        for c in &mut cut[i..dom.end(i)] {
            *c = true;
        }
    };
    // Data tables, and ancestors that protect their content.
    let mut data_table = vec![false; n];
    for &r in roots {
        for i in r..dom.end(r) {
            if dom.tag(i) == Tag::Table && !cut[i] {
                data_table[i] = is_data_table(dom, i);
            }
        }
    }
    // Simple removals.
    for &r in roots {
        let mut i = r;
        while i < dom.end(r) {
            if cut[i] {
                i = dom.end(i);
                continue;
            }
            let tag = dom.tag(i);
            let h = &hints[i];
            let drop = matches!(
                tag,
                Tag::Object
                    | Tag::Embed
                    | Tag::Footer
                    | Tag::Link
                    | Tag::Aside
                    | Tag::Iframe
                    | Tag::Input
                    | Tag::Textarea
                    | Tag::Select
                    | Tag::Button
            ) || (i != r && h.share && a.text_len[i] < CHAR_THRESHOLD as u32)
                || (flags.weight_classes && matches!(tag, Tag::H1 | Tag::H2) && h.weight < 0);
            if drop {
                mark(cut, i);
                i = dom.end(i);
            } else {
                i += 1;
            }
        }
    }
    if !flags.clean_conditionally {
        return;
    }
    // Ancestor facts within the article: inside a data table, code, figure.
    let mut anc_protect = vec![false; n];
    let mut anc_figure = vec![false; n];
    for &r in roots {
        for i in r + 1..dom.end(r) {
            if let Some(p) = dom.parent(i) {
                anc_protect[i] = anc_protect[p] || data_table[p] || dom.tag(p) == Tag::Code;
                anc_figure[i] = anc_figure[p] || dom.tag(p) == Tag::Figure;
            }
        }
    }
    for tag in [Tag::Form, Tag::Fieldset, Tag::Table, Tag::Ul, Tag::Div] {
        if !roots
            .iter()
            .any(|&r| (r..dom.end(r)).any(|i| dom.tag(i) == tag && !cut[i]))
        {
            continue;
        }
        let mut agg = vec![Agg::default(); n];
        for &r in roots {
            for i in (r..dom.end(r)).rev() {
                let t = dom.tag(i);
                if cut[i] {
                    if t == Tag::Input
                        && let Some(p) = dom.parent(i)
                    {
                        agg[p].input += 1;
                    }
                    continue;
                }
                if t == Tag::Text {
                    agg[i].text = a.base.raw_len[i];
                    agg[i].commas = a.base.commas[i];
                }
                // A text-only div is a paragraph to Readability (it was
                // turned into a <p> while scoring).
                let as_p = t == Tag::Div && a.as_p[i];
                if t == tag
                    && !as_p
                    && should_clean(
                        input,
                        a,
                        i,
                        &agg[i],
                        &anc_protect,
                        &anc_figure,
                        &data_table,
                        flags,
                    )
                {
                    mark(cut, i);
                    continue;
                }
                if i == r {
                    continue;
                }
                let Some(p) = dom.parent(i) else { continue };
                let x = agg[i];
                let y = &mut agg[p];
                y.text += x.text;
                y.commas += x.commas;
                y.link += if t == Tag::A {
                    let coef = if dom.attr(i, "href").is_some_and(|h| h.starts_with('#')) {
                        0.3
                    } else {
                        1.0
                    };
                    x.text as f32 * coef
                } else {
                    x.link
                };
                // Loose text in a div is wrapped in a <p> by Readability.
                let loose = t == Tag::Text && dom.tag(p) == Tag::Div && x.text > 0;
                y.p += x.p + u32::from(t == Tag::P || as_p || loose);
                y.img += x.img + u32::from(t == Tag::Img);
                y.li += x.li + u32::from(t == Tag::Li);
                y.input += x.input + u32::from(t == Tag::Input);
                y.heading_text += if t.is_heading() {
                    x.text
                } else {
                    x.heading_text
                };
                y.textish_text += if is_textish(t) || loose {
                    x.text
                } else {
                    x.textish_text
                };
                y.list_text += if matches!(t, Tag::Ul | Tag::Ol) {
                    x.text
                } else {
                    x.list_text
                };
                y.data_table |= x.data_table || data_table[i];
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn should_clean(
    input: &BodyInput<'_, '_>,
    a: &Attempt<'_>,
    i: usize,
    x: &Agg,
    anc_protect: &[bool],
    anc_figure: &[bool],
    data_table: &[bool],
    flags: Flags,
) -> bool {
    let dom = input.dom;
    let tag = dom.tag(i);
    let text = x.text as f64;
    let is_list =
        matches!(tag, Tag::Ul | Tag::Ol) || (text > 0.0 && x.list_text as f64 / text > 0.9);
    if tag == Tag::Table && data_table[i] {
        return false;
    }
    if anc_protect[i] || x.data_table {
        return false;
    }
    let weight = if flags.weight_classes {
        input.hints[i].weight as i32
    } else {
        0
    };
    if weight < 0 {
        return true;
    }
    if x.commas >= 10 {
        return false;
    }
    let p = x.p as f64;
    let img = x.img as f64;
    let li = x.li as f64 - 100.0;
    let inputs = x.input as f64;
    let ratio = |v: u32| if text > 0.0 { v as f64 / text } else { 0.0 };
    let heading_density = ratio(x.heading_text);
    let link_density = if text > 0.0 {
        x.link as f64 / text
    } else {
        0.0
    };
    let text_density = ratio(x.textish_text);
    if x.text < 30 {
        let t = collapse_ws(&dom.raw_text(i)).to_lowercase();
        let t = t.trim_end_matches(['.', '…']);
        if matches!(
            t,
            "ad" | "advertising"
                | "advertisement"
                | "pub"
                | "publicité"
                | "werb"
                | "werbung"
                | "广告"
                | "реклама"
                | "anuncio"
                | "loading"
                | "正在加载"
                | "загрузка"
                | "chargement"
                | "cargando"
        ) {
            return true;
        }
    }
    let figure_child = anc_figure[i];
    let _ = a;
    let remove = (!figure_child && img > 1.0 && p / img < 0.5)
        || (!is_list && li > p)
        || (inputs > (p / 3.0).floor())
        || (!is_list
            && !figure_child
            && heading_density < 0.9
            && text < 25.0
            && (img == 0.0 || img > 2.0)
            && link_density > 0.0)
        || (!is_list && weight < 25 && link_density > 0.2)
        || (weight >= 25 && link_density > 0.5)
        || (img == 0.0 && text_density == 0.0);
    if is_list && remove {
        // Simple lists of images stay.
        for c in dom.children(i) {
            if dom.tag(c) != Tag::Text
                && dom.children(c).filter(|&g| dom.tag(g) != Tag::Text).count() > 1
            {
                return true;
            }
        }
        if x.img as f64 == x.li as f64 {
            return false;
        }
    }
    remove
}

/// Readability's data-table test.
fn is_data_table(dom: &Dom<'_>, t: usize) -> bool {
    if dom.attr(t, "role") == Some("presentation") || dom.attr(t, "datatable") == Some("0") {
        return false;
    }
    if dom.attr(t, "summary").is_some() {
        return true;
    }
    let end = dom.end(t);
    let mut rows = 0usize;
    let mut max_cols = 0usize;
    let mut i = t + 1;
    while i < end {
        match dom.tag(i) {
            Tag::Table => return false,
            Tag::Caption if dom.end(i) > i + 1 => return true,
            Tag::Col | Tag::Colgroup | Tag::Tfoot | Tag::Thead | Tag::Th => return true,
            Tag::Tr => {
                rows += 1;
                let cols: usize = dom
                    .children(i)
                    .filter(|&c| matches!(dom.tag(c), Tag::Td | Tag::Th))
                    .map(|c| {
                        dom.attr(c, "colspan")
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(1)
                            .min(1000)
                    })
                    .sum();
                max_cols = max_cols.max(cols);
            }
            _ => {}
        }
        i += 1;
    }
    rows >= 10 || max_cols > 4 || rows * max_cols > 10
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &str, link_chars: usize, heading: bool) -> Block {
        let chars = text.chars().filter(|c| !c.is_whitespace()).count();
        Block {
            text: text.to_string(),
            link_chars: link_chars.min(chars),
            chars,
            heading,
        }
    }

    #[test]
    fn block_filters() {
        let text = "An ordinary paragraph of the article, with a comma, and more words.";
        let blocks = vec![
            block("Home", 4, false),
            block(text, 0, false),
            block("Read more: Another story entirely", 20, false),
            block("Lesen Sie auch: Ein anderer Artikel", 20, false),
            block("Photo: Jane Roe / Agency", 0, false),
            block("© 2024 The Paper. All rights reserved.", 0, false),
            block("Share this:", 0, false),
            block("Advertisement", 0, false),
            block("Try it now", 8, false),
            block(text, 0, false),
            block("Older post", 9, false),
            block("Related", 0, true),
        ];
        assert_eq!(
            filter_blocks(blocks),
            vec![text, "Try it now", text],
            "bare links are only dropped before and after the text"
        );
        // A page of links only keeps them.
        assert_eq!(filter_blocks(vec![block("Home", 4, false)]), vec!["Home"]);
    }

    #[test]
    fn patterns_compile() {
        assert!(READ_MORE.is_match("Related Content:"));
        assert!(READ_MORE.is_match("LE PUEDE INTERESAR: algo"));
        assert!(CREDIT.is_match("Foto: dpa"));
        assert!(CALL_TO_ACTION.is_match("Follow us on Twitter"));
        assert!(!CALL_TO_ACTION.is_match("Advertisements for the new law ran for weeks."));
    }
}
