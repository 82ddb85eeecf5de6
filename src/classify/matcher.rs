//! Finding lexicon terms in a normalised text: one Aho-Corasick automaton
//! over every term of every lexicon, whole-word checks, `*` continuations,
//! exact-case terms, and leftmost-longest selection among overlapping hits.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::text::{Normalized, is_word_byte};

/// Lexicon index.
pub type LexId = u16;

/// One compiled pattern (a term after brace expansion).
#[derive(Debug)]
struct Pattern {
    /// The lowercased, normalised term (what the automaton looks for).
    text: String,
    /// For exact-case terms: the term as written, compared with the original.
    exact: Option<String>,
    /// `*` at the end: the match extends to the end of the word.
    wildcard: bool,
    /// Lexicons (and canonical names) this term belongs to.
    members: Vec<(LexId, u32)>,
    /// The term belongs to a shadowing lexicon: it hides the shorter terms
    /// inside it completely (see [`Matcher::find`]).
    shadow: bool,
}

/// Collects patterns before the automaton is built.
#[derive(Default)]
pub struct MatcherBuilder {
    patterns: Vec<Pattern>,
    index: HashMap<(String, Option<String>, bool), usize>,
}

/// A term occurrence in the normalised text.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    /// Byte range in the normalised text.
    pub start: u32,
    pub end: u32,
    /// Index of the first and last word covered.
    pub w0: u32,
    pub w1: u32,
    /// Range into [`Hits::members`].
    mem_start: u32,
    mem_end: u32,
}

/// All hits of one text, sorted by position and not overlapping.
#[derive(Debug, Default)]
pub struct Hits {
    pub hits: Vec<Hit>,
    members: Vec<(LexId, u32)>,
}

impl Hits {
    /// The `(lexicon, canonical name)` memberships of a hit.
    pub fn members(&self, h: &Hit) -> &[(LexId, u32)] {
        &self.members[h.mem_start as usize..h.mem_end as usize]
    }

    /// Does hit `h` belong to lexicon `lex`? Returns its canonical name id.
    pub fn canon_in(&self, h: &Hit, lex: LexId) -> Option<u32> {
        self.members(h)
            .iter()
            .find(|(l, _)| *l == lex)
            .map(|&(_, c)| c)
    }

    pub fn is_in(&self, h: &Hit, lex: LexId) -> bool {
        self.canon_in(h, lex).is_some()
    }
}

impl MatcherBuilder {
    /// Adds one expanded term. `text` is already normalised and lowercased;
    /// `shadow`: the term's lexicon hides shorter terms inside its terms.
    pub fn add(
        &mut self,
        text: String,
        exact: Option<String>,
        wildcard: bool,
        lex: LexId,
        canon: u32,
        shadow: bool,
    ) {
        let key = (text, exact, wildcard);
        let idx = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.patterns.len();
                self.patterns.push(Pattern {
                    text: key.0.clone(),
                    exact: key.1.clone(),
                    wildcard,
                    members: Vec::new(),
                    shadow: false,
                });
                self.index.insert(key, i);
                i
            }
        };
        self.patterns[idx].shadow |= shadow;
        let m = &mut self.patterns[idx].members;
        if !m.contains(&(lex, canon)) {
            m.push((lex, canon));
        }
    }

    pub fn build(self) -> Result<Matcher, String> {
        let marked: Vec<Vec<u8>> = self
            .patterns
            .iter()
            .map(|p| {
                let mut m = Vec::with_capacity(p.text.len() + 8);
                mark_words(p.text.as_bytes(), &mut m, &mut Vec::new(), !p.wildcard);
                m
            })
            .collect();
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            // Every pattern starts with a word mark, which is everywhere in
            // the marked text: a prefilter would only add work.
            .prefilter(false)
            .build(&marked)
            .map_err(|e| format!("cannot build the term matcher: {e}"))?;
        Ok(Matcher {
            ac,
            patterns: self.patterns,
        })
    }
}

/// The compiled term matcher.
pub struct Matcher {
    ac: AhoCorasick,
    patterns: Vec<Pattern>,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("patterns", &self.patterns.len())
            .finish()
    }
}

#[derive(Clone, Copy)]
struct Candidate {
    start: usize,
    end: usize,
    pat: usize,
}

impl Matcher {
    /// Finds all whole-word term occurrences in `n`, longest first among
    /// overlapping ones. `original` is the text `n` maps back to (for
    /// exact-case terms), `words` the word starts of `n.text`.
    pub fn find(&self, n: &Normalized, original: &str, words: &[u32]) -> Hits {
        let text = n.text.as_bytes();
        // The automaton runs over a copy of the text with a marker before
        // every word and after it, and the patterns carry the same markers:
        // a term can only match at word boundaries, so the many short terms
        // ("no", "us", "ban") do not fire inside other words.
        let mut marked = Vec::with_capacity(text.len() + text.len() / 2 + 2);
        let mut map = Vec::with_capacity(text.len() + text.len() / 2 + 2);
        mark_words(text, &mut marked, &mut map, true);
        let mut cands: Vec<Candidate> = Vec::new();
        for m in self.ac.find_overlapping_iter(&marked) {
            let pat = &self.patterns[m.pattern().as_usize()];
            let start = map[m.start()] as usize;
            let last = m.end() - 1;
            let mut end = if marked[last] == END_MARK {
                map[last] as usize
            } else {
                map[last] as usize + 1
            };
            if pat.wildcard {
                while end < text.len() && is_word_byte(text[end]) {
                    end += 1;
                }
            }
            if let Some(exact) = &pat.exact {
                let (s, e) = n.orig_range(original, start, end);
                if original.get(s..e) != Some(exact.as_str()) {
                    continue;
                }
            }
            cands.push(Candidate {
                start,
                end,
                pat: m.pattern().as_usize(),
            });
        }
        self.truncated_tail(n, &mut cands);
        // Leftmost-longest, keeping every pattern that matched the same span.
        // A shorter term that ends where the chosen one ends is its head
        // word ("cyber agency" is an "agency", "sales ban" a "ban"): the hit
        // belongs to its lexicons too, unless the chosen term shadows.
        cands.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut out = Hits::default();
        let mut last_end = 0usize;
        let mut last_shadow = false;
        let mut i = 0;
        while i < cands.len() {
            let c = cands[i];
            let mut j = i + 1;
            while j < cands.len() && cands[j].start == c.start && cands[j].end == c.end {
                j += 1;
            }
            if c.start < last_end
                && c.end == last_end
                && !last_shadow
                && let Some(h) = out.hits.last_mut()
            {
                let mem_start = h.mem_start as usize;
                for k in &cands[i..j] {
                    for &m in &self.patterns[k.pat].members {
                        if !out.members[mem_start..].contains(&m) {
                            out.members.push(m);
                        }
                    }
                }
                h.mem_end = out.members.len() as u32;
            }
            if c.start >= last_end || out.hits.is_empty() {
                last_shadow = cands[i..j].iter().any(|k| self.patterns[k.pat].shadow);
                let mem_start = out.members.len() as u32;
                for k in &cands[i..j] {
                    for &m in &self.patterns[k.pat].members {
                        if !out.members[mem_start as usize..].contains(&m) {
                            out.members.push(m);
                        }
                    }
                }
                out.hits.push(Hit {
                    start: c.start as u32,
                    end: c.end as u32,
                    w0: word_index(words, c.start),
                    w1: word_index(words, c.end.saturating_sub(1).max(c.start)),
                    mem_start,
                    mem_end: out.members.len() as u32,
                });
                last_end = c.end;
            }
            i = j;
        }
        out
    }

    /// Feed summaries are often cut mid-phrase ("... the Cyber Safety
    /// Rev…"). When the text ends with an ellipsis, the last words before it
    /// are matched as the beginning of a multi-word term.
    fn truncated_tail(&self, n: &Normalized, cands: &mut Vec<Candidate>) {
        let t = n.text.trim_end_matches([']', ')', ' ', '\n']);
        let Some(body) = t.strip_suffix("...") else {
            return;
        };
        let body = body.trim_end_matches(['[', '(', ' ']);
        let end = body.len();
        if end == 0 || !is_word_byte(body.as_bytes()[end - 1]) {
            return;
        }
        // Start offsets of the last four words.
        let mut starts = Vec::new();
        let b = body.as_bytes();
        let mut i = end;
        while i > 0 && starts.len() < 4 {
            while i > 0 && is_word_byte(b[i - 1]) {
                i -= 1;
            }
            starts.push(i);
            while i > 0 && !is_word_byte(b[i - 1]) && b[i - 1] != b'\n' && b[i - 1] != b'.' {
                i -= 1;
            }
            if i > 0 && (b[i - 1] == b'\n' || b[i - 1] == b'.') {
                break;
            }
        }
        for &s in starts.iter().rev() {
            let frag = &body[s..end];
            if !frag.contains(' ') || frag.len() < 8 {
                continue;
            }
            if cands.iter().any(|c| c.start <= s && c.end >= end) {
                return;
            }
            let best = self
                .patterns
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    p.exact.is_none() && p.text.len() > frag.len() && p.text.starts_with(frag)
                })
                .min_by_key(|(_, p)| p.text.len());
            if let Some((pat, _)) = best {
                cands.push(Candidate { start: s, end, pat });
                return;
            }
        }
    }
}

const START_MARK: u8 = 0x01;
const END_MARK: u8 = 0x02;

/// Copies `text` into `out` with [`START_MARK`] before each word and
/// [`END_MARK`] after it (the end mark is left off the last word when
/// `close_last` is false, for `*` terms). `map` receives, for each byte of
/// `out`, the offset in `text` it stands for (a start mark: the word's
/// start; an end mark: the word's end).
fn mark_words(text: &[u8], out: &mut Vec<u8>, map: &mut Vec<u32>, close_last: bool) {
    let mut in_word = false;
    for (i, &b) in text.iter().enumerate() {
        let w = is_word_byte(b);
        if w != in_word {
            out.push(if w { START_MARK } else { END_MARK });
            map.push(i as u32);
        }
        // Control bytes never occur in normalised text; keep the marks unique.
        out.push(if b == START_MARK || b == END_MARK {
            b' '
        } else {
            b
        });
        map.push(i as u32);
        in_word = w;
    }
    if in_word && close_last {
        out.push(END_MARK);
        map.push(text.len() as u32);
    }
}

/// Index of the word containing (or last starting before) byte `at`.
pub fn word_index(words: &[u32], at: usize) -> u32 {
    let i = words.partition_point(|&s| s as usize <= at);
    i.saturating_sub(1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::text::word_starts;

    fn matcher(terms: &[(&str, Option<&str>, bool)]) -> Matcher {
        let mut b = MatcherBuilder::default();
        for (i, (t, exact, wild)) in terms.iter().enumerate() {
            b.add(
                t.to_string(),
                exact.map(str::to_string),
                *wild,
                0,
                i as u32,
                false,
            );
        }
        b.build().unwrap()
    }

    fn found(m: &Matcher, t: &str) -> Vec<String> {
        let n = Normalized::new(&[(0, t)]);
        let w = word_starts(&n.text);
        let hits = m.find(&n, t, &w);
        hits.hits
            .iter()
            .map(|h| n.text[h.start as usize..h.end as usize].to_string())
            .collect()
    }

    #[test]
    fn whole_words_longest_first() {
        let m = matcher(&[
            ("ban", None, false),
            ("kaspersky", None, false),
            ("kaspersky lab", None, false),
        ]);
        assert_eq!(
            found(&m, "Urban banks ban Kaspersky Lab's kit"),
            vec!["ban", "kaspersky lab"]
        );
    }

    #[test]
    fn wildcard_and_exact_case() {
        let m = matcher(&[("prohibit", None, true), ("us", Some("US"), false)]);
        assert_eq!(
            found(&m, "Prohibition: let us see. US prohibits"),
            vec!["prohibition", "us", "prohibits"]
        );
    }

    #[test]
    fn longer_term_also_counts_as_its_head_unless_it_shadows() {
        let mut b = MatcherBuilder::default();
        b.add("agency".into(), None, false, 0, 0, false);
        b.add("cyber agency".into(), None, false, 1, 1, false);
        b.add("kaspersky".into(), None, false, 2, 2, false);
        b.add("eugene kaspersky".into(), None, false, 3, 3, true);
        let m = b.build().unwrap();
        let t = "The cyber agency and Eugene Kaspersky";
        let n = Normalized::new(&[(0, t)]);
        let w = word_starts(&n.text);
        let hits = m.find(&n, t, &w);
        assert_eq!(hits.hits.len(), 2);
        assert!(hits.is_in(&hits.hits[0], 0) && hits.is_in(&hits.hits[0], 1));
        assert!(hits.is_in(&hits.hits[1], 3) && !hits.is_in(&hits.hits[1], 2));
    }

    #[test]
    fn truncated_summary_matches_term_prefix() {
        let m = matcher(&[("cyber safety review board", None, false)]);
        assert_eq!(
            found(&m, "He fired the Cyber Safety Rev\u{2026}"),
            vec!["cyber safety rev"]
        );
        assert!(found(&m, "He fired the Cyber Safety Rev").is_empty());
    }
}
