//! Scoring: rules are checked trigger by trigger inside one sentence; a
//! sentence scores its best rule's weight times the modifiers (negation,
//! hedges) and its position; sentence scores combine into the label score.

use super::events;
use super::matcher::{Hit, Hits, LexId};
use super::rules::{Compiled, Near, Rule, Side, Voice};
use super::text::{self, Normalized};

/// One item, prepared for rule checks.
pub struct Doc<'a> {
    /// Title, a blank line, then the body (or the body alone).
    pub full: &'a str,
    pub n: Normalized,
    pub words: Vec<u32>,
    pub hits: Hits,
    pub sentences: Vec<Sentence>,
    /// Offsets (normalised) of clause breaks (`;`).
    breaks: Vec<u32>,
    /// Lexicons present anywhere in the item (bit set).
    item_lex: Vec<u64>,
    /// Lexicons present in each sentence (`lex_words` u64s per sentence).
    sentence_lex: Vec<u64>,
    lex_words: usize,
}

/// A sentence: its normalised byte range and its hits.
#[derive(Debug, Clone, Copy)]
pub struct Sentence {
    pub start: u32,
    pub end: u32,
    /// `hits[hit_lo..hit_hi]` lie in this sentence.
    pub hit_lo: usize,
    pub hit_hi: usize,
    /// Position weight (title, lede, body, tail) times the question factor.
    pub position: f64,
}

impl<'a> Doc<'a> {
    /// Prepares `full`, whose first `title_len` bytes are the title (0: none).
    pub fn new(c: &Compiled, full: &'a str, title_len: usize) -> Doc<'a> {
        let n = if title_len > 0 {
            let body_at = (title_len + 2).min(full.len());
            Normalized::new(&[(0, &full[..title_len]), (body_at, &full[body_at..])])
        } else {
            Normalized::new(&[(0, full)])
        };
        let words = text::word_starts(&n.text);
        let hits = c.matcher.find(&n, full, &words);
        let mut spans = Vec::new();
        let body_from = if title_len > 0 {
            // The title is one sentence, whatever punctuation it has.
            let t_end = n.part_starts.get(1).copied().unwrap_or(n.text.len());
            text::push_trimmed(&n.text, 0, t_end, &mut spans);
            t_end
        } else {
            0
        };
        let title_sentences = spans.len();
        text::split_sentences(&n, full, body_from, n.text.len(), &mut spans);
        let s = &c.scoring;
        let mut sentences = Vec::with_capacity(spans.len());
        let mut k = 0;
        for (i, &(start, end)) in spans.iter().enumerate() {
            while k < hits.hits.len() && hits.hits[k].start < start {
                k += 1;
            }
            let lo = k;
            while k < hits.hits.len() && hits.hits[k].end <= end {
                k += 1;
            }
            let mut position = if i < title_sentences {
                s.title
            } else {
                let j = i - title_sentences;
                if j < s.lede_sentences {
                    s.lede
                } else if j < s.body_sentences {
                    s.body
                } else {
                    s.tail
                }
            };
            if n.text[..end as usize]
                .trim_end_matches(['"', '\'', ')'])
                .ends_with('?')
            {
                position *= s.question;
            }
            sentences.push(Sentence {
                start,
                end,
                hit_lo: lo,
                hit_hi: k,
                position,
            });
        }
        let breaks = n
            .text
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b';')
            .map(|(i, _)| i as u32)
            .collect();
        let lex_words = c.lexicon_names.len().div_ceil(64).max(1);
        let mut item_lex = vec![0u64; lex_words];
        let mut sentence_lex = vec![0u64; lex_words * sentences.len()];
        for (si, s) in sentences.iter().enumerate() {
            for h in &hits.hits[s.hit_lo..s.hit_hi] {
                for &(l, _) in hits.members(h) {
                    sentence_lex[si * lex_words + usize::from(l) / 64] |= 1 << (l % 64);
                }
            }
        }
        for h in &hits.hits {
            for &(l, _) in hits.members(h) {
                item_lex[usize::from(l) / 64] |= 1 << (l % 64);
            }
        }
        Doc {
            full,
            n,
            words,
            hits,
            sentences,
            breaks,
            item_lex,
            sentence_lex,
            lex_words,
        }
    }

    /// Does sentence `si` contain a term of lexicon `lex`?
    pub fn sentence_has(&self, si: usize, lex: LexId) -> bool {
        self.sentence_lex[si * self.lex_words + usize::from(lex) / 64] & (1 << (lex % 64)) != 0
    }

    pub fn item_has(&self, lex: LexId) -> bool {
        self.item_lex[usize::from(lex) / 64] & (1 << (lex % 64)) != 0
    }

    /// Is there a clause break (`;`) between two normalised offsets?
    pub fn has_break_between(&self, a: usize, b: usize) -> bool {
        let i = self.breaks.partition_point(|&x| (x as usize) < a);
        self.breaks.get(i).is_some_and(|&x| (x as usize) < b)
    }
}

/// The outcome of the best rule in one sentence.
#[derive(Debug, Clone, Copy)]
pub struct SentenceMatch {
    pub sentence: usize,
    pub score: f64,
    pub rule: usize,
    /// Index of the trigger hit.
    pub trigger: usize,
}

/// Word distance from trigger `h` to `x`, and whether `x` comes after it.
pub fn distance(h: &Hit, x: &Hit) -> (u32, bool) {
    if x.start >= h.end {
        (x.w0.saturating_sub(h.w1), true)
    } else {
        (h.w0.saturating_sub(x.w1), false)
    }
}

/// Indices of the hits of the sentence within `dist` words of trigger
/// `h_idx` on `side`, nearest first on each side. Hits are in text order, so
/// the scan stops at the first hit out of reach: long sentences stay cheap.
pub fn window<'d>(
    doc: &'d Doc<'_>,
    range: (usize, usize),
    h_idx: usize,
    dist: u32,
    side: Side,
) -> impl Iterator<Item = usize> + 'd {
    let hits = &doc.hits.hits;
    let h = hits[h_idx];
    let before = (range.0..h_idx)
        .rev()
        .take_while(move |&k| h.w0.saturating_sub(hits[k].w1) <= dist)
        .filter(move |_| side != Side::After);
    let after = (h_idx + 1..range.1)
        .take_while(move |&k| hits[k].w0.saturating_sub(h.w1) <= dist)
        .filter(move |_| side != Side::Before);
    before.chain(after)
}

fn near_ok(doc: &Doc, range: (usize, usize), h_idx: usize, n: &Near) -> bool {
    window(doc, range, h_idx, n.dist, n.side).any(|k| doc.hits.is_in(&doc.hits.hits[k], n.lex))
}

fn in_sentence(doc: &Doc, si: usize, range: (usize, usize), h_idx: usize, lex: LexId) -> bool {
    if !doc.sentence_has(si, lex) {
        return false;
    }
    // Present; unless the trigger itself is the only term of that lexicon.
    !doc.hits.is_in(&doc.hits.hits[h_idx], lex)
        || (range.0..range.1).any(|k| k != h_idx && doc.hits.is_in(&doc.hits.hits[k], lex))
}

/// The product of the modifiers that apply to trigger `h_idx`.
fn modifier_factor(
    c: &Compiled,
    doc: &Doc,
    label: usize,
    range: (usize, usize),
    h_idx: usize,
) -> f64 {
    let hits = &doc.hits;
    let h = &hits.hits[h_idx];
    let mut factor = 1.0;
    for m in &c.modifiers {
        if !m.labels.is_empty() && !m.labels.contains(&label) {
            continue;
        }
        let cue = window(doc, range, h_idx, m.window, m.side).any(|k| {
            let x = &hits.hits[k];
            if !hits.is_in(x, m.lex) {
                return false;
            }
            let (_, after) = distance(h, x);
            let (a, b) = if after {
                (h.end as usize, x.start as usize)
            } else {
                (x.end as usize, h.start as usize)
            };
            if doc.has_break_between(a, b) {
                return false;
            }
            // A breaker between cue and trigger ends the cue's scope
            // ("did not lift the ban").
            if let Some(br) = m.breakers {
                let (lo, hi) = if after { (h_idx, k) } else { (k, h_idx) };
                if (lo + 1..hi).any(|j| hits.is_in(&hits.hits[j], br)) {
                    return false;
                }
            }
            true
        });
        if cue {
            factor *= m.factor;
        }
    }
    factor
}

/// Checks one rule for one trigger; returns its score (0: no match).
fn check_rule(c: &Compiled, doc: &Doc, label: usize, rule: &Rule, si: usize, h_idx: usize) -> f64 {
    let s = &doc.sentences[si];
    let range = (s.hit_lo, s.hit_hi);
    if !rule.near.iter().all(|n| near_ok(doc, range, h_idx, n))
        || !rule
            .sentence
            .iter()
            .all(|&l| in_sentence(doc, si, range, h_idx, l))
        || !rule.item.iter().all(|&l| doc.item_has(l))
        || rule
            .unless_near
            .iter()
            .any(|n| near_ok(doc, range, h_idx, n))
        || rule
            .unless_sentence
            .iter()
            .any(|&l| in_sentence(doc, si, range, h_idx, l))
        || rule.unless_item.iter().any(|&l| doc.item_has(l))
    {
        return 0.0;
    }
    if !rule.subject_not.is_empty() || rule.voice.is_some() {
        let lo_word = doc.words.partition_point(|&w| w < s.start) as u32;
        let passive = events::is_passive(doc, &doc.hits.hits[h_idx], lo_word);
        match rule.voice {
            Some(Voice::Passive) if !passive => return 0.0,
            Some(Voice::Active) if passive => return 0.0,
            _ => {}
        }
        if !passive && events::subject_is(doc, range, h_idx, &rule.subject_not, rule.actor) {
            return 0.0;
        }
    }
    let f = modifier_factor(c, doc, label, range, h_idx);
    rule.weight * f
}

/// The best rule match of each sentence for one label.
pub fn label_matches(c: &Compiled, doc: &Doc, label: usize) -> Vec<SentenceMatch> {
    let rules = &c.labels[label].rules;
    let mut out = Vec::new();
    for (si, s) in doc.sentences.iter().enumerate() {
        if s.hit_lo == s.hit_hi || s.position <= 0.0 {
            continue;
        }
        let mut best: Option<SentenceMatch> = None;
        for (ri, rule) in rules.iter().enumerate() {
            if best.is_some_and(|b| b.score >= rule.weight * s.position) {
                continue;
            }
            for h_idx in s.hit_lo..s.hit_hi {
                if !doc.hits.is_in(&doc.hits.hits[h_idx], rule.trigger) {
                    continue;
                }
                let score = check_rule(c, doc, label, rule, si, h_idx) * s.position;
                if score > 0.0 && best.is_none_or(|b| score > b.score) {
                    best = Some(SentenceMatch {
                        sentence: si,
                        score,
                        rule: ri,
                        trigger: h_idx,
                    });
                }
            }
        }
        out.extend(best);
    }
    out
}

/// Combines sentence scores: the best counts in full, each further one is
/// discounted by `accumulate` once more (a diminishing noisy-or).
pub fn combine(scores: &mut [f64], accumulate: f64) -> f64 {
    scores.sort_by(|a, b| b.total_cmp(a));
    let mut keep = 1.0;
    let mut w = 1.0;
    for &s in scores.iter() {
        keep *= 1.0 - (s * w).clamp(0.0, 1.0);
        w *= accumulate;
    }
    (1.0 - keep).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_is_diminishing() {
        assert_eq!(combine(&mut [], 0.5), 0.0);
        assert!((combine(&mut [0.9], 0.5) - 0.9).abs() < 1e-9);
        let two = combine(&mut [0.4, 0.4], 0.5);
        assert!((two - (1.0 - 0.6 * 0.8)).abs() < 1e-9, "{two}");
        assert!(combine(&mut [0.99, 0.99, 0.99], 1.0) <= 1.0);
    }
}
