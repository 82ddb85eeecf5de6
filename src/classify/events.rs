//! Who did what to whom: voice of a trigger, the grammatical subject check
//! that tells "Google bans apps" (a company's own rule) from "the FCC bans
//! Huawei", and the actor and target of an event.
//!
//! This is deliberately shallow English syntax over word positions: the
//! passive is a participle after a form of *be* or before *by*; the subject
//! is the nearest entity before an active verb with only auxiliaries between.

use super::matcher::{Hit, Hits, LexId};
use super::rules::Side;
use super::score::Doc;

/// Forms of *be* (and *get*) that make a following participle passive.
const BE_FORMS: &[&str] = &[
    "is", "are", "was", "were", "be", "been", "being", "get", "gets", "got", "getting", "s",
];

/// Words that may stand between a subject and its verb ("Google has now
/// banned"), or between *be* and a participle ("is now being prohibited").
const AUX: &[&str] = &[
    "has",
    "have",
    "had",
    "will",
    "would",
    "is",
    "are",
    "was",
    "were",
    "also",
    "now",
    "just",
    "recently",
    "reportedly",
    "already",
    "then",
    "quietly",
    "officially",
    "formally",
    "effectively",
    "temporarily",
    "permanently",
    "to",
    "could",
    "may",
    "might",
    "can",
    "should",
    "must",
    "did",
    "does",
    "do",
    "s",
    "be",
    "been",
    "being",
    "still",
    "further",
    "finally",
];

/// Prepositions that follow a passive participle in headlines ("Huawei
/// banned from UK 5G").
const PASSIVE_NEXT: &[&str] = &[
    "by", "from", "in", "on", "across", "for", "over", "at", "under", "after", "since", "as",
];

/// The text of word `i`.
pub fn word<'a>(doc: &'a Doc, i: u32) -> &'a str {
    let t = doc.n.text.as_bytes();
    let Some(&s) = doc.words.get(i as usize) else {
        return "";
    };
    let s = s as usize;
    let mut e = s;
    while e < t.len() && super::text::is_word_byte(t[e]) {
        e += 1;
    }
    doc.n.text.get(s..e).unwrap_or("")
}

fn is_participle(w: &str) -> bool {
    w.ends_with("ed") || w.ends_with("en") || w == "barred" || w == "struck"
}

/// Is the trigger a passive participle? `lo` is the first word of its sentence.
pub fn is_passive(doc: &Doc, h: &Hit, lo: u32) -> bool {
    let last = word(doc, h.w1);
    if !is_participle(last) {
        return false;
    }
    // A form of "be" inside a multi-word trigger ("should not be used").
    if (h.w0..h.w1).any(|i| BE_FORMS.contains(&word(doc, i))) {
        return true;
    }
    // ... or just before it, past auxiliaries and adverbs.
    let mut i = h.w0;
    let mut steps = 0;
    while i > lo && steps < 3 {
        i -= 1;
        let w = word(doc, i);
        if BE_FORMS.contains(&w) {
            return true;
        }
        if !(AUX.contains(&w) || w.ends_with("ly") || w == "not") {
            break;
        }
        steps += 1;
    }
    let next = word(doc, h.w1 + 1);
    (h.w1 + 1) < doc.words.len() as u32 && PASSIVE_NEXT.contains(&next)
}

/// For an active trigger: is its subject (the nearest entity of `subjects`
/// or `actor` before it, with only auxiliaries between) one of `subjects`
/// and not an `actor`? Used to tell a company's own action from a public one.
pub fn subject_is(
    doc: &Doc,
    sentence: (usize, usize),
    h_idx: usize,
    subjects: &[LexId],
    actor: Option<LexId>,
) -> bool {
    let hits: &Hits = &doc.hits;
    let h = &hits.hits[h_idx];
    // "The TikTok ban": a bare "ban" right after the vendor is a noun.
    if h.w0 == h.w1 && word(doc, h.w0) == "ban" {
        return false;
    }
    for k in super::score::window(doc, sentence, h_idx, 4, Side::Before) {
        let x = &hits.hits[k];
        let is_subject = subjects.iter().any(|&l| hits.is_in(x, l));
        let is_actor = actor.is_some_and(|a| hits.is_in(x, a));
        if !(is_subject || is_actor) {
            continue;
        }
        // Words strictly between the entity and the trigger.
        let between = (x.w1 + 1)..h.w0;
        if between.len() > 3 || !between.clone().all(|i| AUX.contains(&word(doc, i))) {
            return false;
        }
        if doc.has_break_between(x.end as usize, h.start as usize) {
            return false;
        }
        return is_subject && !is_actor;
    }
    false
}

/// The hit of lexicon `lex` in the sentence nearest to the trigger; ties go
/// to the side `prefer_after` names.
pub fn nearest(
    doc: &Doc,
    sentence: (usize, usize),
    h_idx: usize,
    lex: LexId,
    prefer_after: bool,
    keep: &dyn Fn(usize) -> bool,
) -> Option<usize> {
    let hits = &doc.hits;
    let h = &hits.hits[h_idx];
    let mut best: Option<(u32, bool, usize)> = None;
    for k in sentence.0..sentence.1 {
        if k == h_idx || !hits.is_in(&hits.hits[k], lex) || !keep(k) {
            continue;
        }
        let x = &hits.hits[k];
        let (d, after) = super::score::distance(h, x);
        let better = match best {
            None => true,
            Some((bd, bafter, _)) => {
                d < bd || (d == bd && after == prefer_after && bafter != prefer_after)
            }
        };
        if better {
            best = Some((d, after, k));
        }
    }
    best.map(|(_, _, k)| k)
}

/// The agent of a passive trigger: the first `lex` hit after "by" within a
/// few words after the trigger.
pub fn agent(doc: &Doc, sentence: (usize, usize), h_idx: usize, lex: LexId) -> Option<usize> {
    let hits = &doc.hits;
    let h = &hits.hits[h_idx];
    let by = (h.w1 + 1..h.w1 + 6).find(|&i| word(doc, i) == "by")?;
    (h_idx + 1..sentence.1).find(|&k| {
        let x = &hits.hits[k];
        x.w0 > by && x.w0 <= by + 6 && hits.is_in(x, lex)
    })
}

/// The first hit of `lex` anywhere in the item.
pub fn first_in_item(doc: &Doc, lex: LexId, keep: &dyn Fn(usize) -> bool) -> Option<usize> {
    (0..doc.hits.hits.len()).find(|&k| doc.hits.is_in(&doc.hits.hits[k], lex) && keep(k))
}
