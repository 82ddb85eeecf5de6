//! Text handling for the classifier: normalisation with an offset map back
//! to the original text, sentence splitting and word positions.
//!
//! Normalisation lowercases, maps typographic quotes, dashes and ellipses to
//! ASCII, drops zero-width characters and collapses runs of whitespace (a run
//! containing a line break becomes one `\n`, any other run one space), so that
//! lexicon terms match however the publisher typeset the text. Every byte of
//! the normalised text remembers the byte of the original it came from, so
//! evidence is reported in the caller's coordinates.

/// A normalised text and the way back to the original.
#[derive(Debug, Default)]
pub struct Normalized {
    /// Lowercased, ASCII-punctuated, whitespace-collapsed text.
    pub text: String,
    /// For each byte of `text` (and one past the end), the offset of the
    /// original byte it came from.
    map: Vec<u32>,
    /// Where each part given to [`Normalized::new`] starts in `text`.
    pub part_starts: Vec<usize>,
}

impl Normalized {
    /// Normalises `parts`: each is `(original offset, text)`; a line break is
    /// put between consecutive parts so that no sentence spans two of them.
    pub fn new(parts: &[(usize, &str)]) -> Self {
        let cap: usize = parts.iter().map(|(_, t)| t.len() + 1).sum();
        let mut n = Normalized {
            text: String::with_capacity(cap),
            map: Vec::with_capacity(cap + 1),
            part_starts: Vec::with_capacity(parts.len()),
        };
        let mut end = 0;
        for (i, &(offset, part)) in parts.iter().enumerate() {
            if i > 0 && !n.text.ends_with('\n') {
                n.push('\n', offset);
            }
            n.part_starts.push(n.text.len());
            n.push_text(offset, part);
            end = offset + part.len();
        }
        n.map.push(to_u32(end));
        n
    }

    fn push(&mut self, c: char, orig: usize) {
        let o = to_u32(orig);
        if c.is_ascii() {
            self.text.push(c);
            self.map.push(o);
            return;
        }
        let mut buf = [0u8; 4];
        for _ in 0..c.encode_utf8(&mut buf).len() {
            self.map.push(o);
        }
        self.text.push(c);
    }

    fn push_text(&mut self, offset: usize, part: &str) {
        // Pending whitespace: (contains a line break, where the run started).
        let mut pending: Option<(bool, usize)> = None;
        let bytes = part.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let at = offset + i;
            if b < 0x80 {
                i += 1;
                if b.is_ascii_whitespace() || b.is_ascii_control() {
                    let nl = b == b'\n';
                    pending = Some(match pending {
                        Some((was_nl, start)) => (was_nl || nl, start),
                        None => (nl, at),
                    });
                    continue;
                }
                if let Some((nl, start)) = pending.take()
                    && !self.text.is_empty()
                {
                    self.push(if nl { '\n' } else { ' ' }, start);
                }
                self.text.push(b.to_ascii_lowercase() as char);
                self.map.push(to_u32(at));
                continue;
            }
            let Some(c) = part[i..].chars().next() else {
                break;
            };
            i += c.len_utf8();
            if c.is_whitespace() {
                let nl = c == '\u{2028}' || c == '\u{2029}';
                pending = Some(match pending {
                    Some((was_nl, start)) => (was_nl || nl, start),
                    None => (nl, at),
                });
                continue;
            }
            if matches!(
                c,
                '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}'
            ) {
                continue;
            }
            if let Some((nl, start)) = pending.take()
                && !self.text.is_empty()
            {
                self.push(if nl { '\n' } else { ' ' }, start);
            }
            match c {
                '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}' | '\u{2032}' | '\u{00b4}' => {
                    self.push('\'', at)
                }
                '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{201f}' | '\u{2033}' | '\u{00ab}'
                | '\u{00bb}' => self.push('"', at),
                '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
                | '\u{2212}' => self.push('-', at),
                '\u{2026}' => {
                    for _ in 0..3 {
                        self.push('.', at);
                    }
                }
                _ => {
                    for l in c.to_lowercase() {
                        self.push(l, at);
                    }
                }
            }
        }
        if let Some((nl, start)) = pending {
            self.push(if nl { '\n' } else { ' ' }, start);
        }
    }

    /// The original byte offset of normalised offset `i` (clamped).
    pub fn orig(&self, i: usize) -> usize {
        self.map
            .get(i)
            .or(self.map.last())
            .map_or(0, |&o| o as usize)
    }

    /// The original byte range of the normalised range `start..end`;
    /// `original` is the text the offsets map to.
    pub fn orig_range(&self, original: &str, start: usize, end: usize) -> (usize, usize) {
        let s = self.orig(start);
        if end <= start {
            return (s, s);
        }
        // Up to the end of the original character the last byte came from.
        let last = self.orig(end - 1);
        let len = original
            .get(last..)
            .and_then(|t| t.chars().next())
            .map_or(1, char::len_utf8);
        (s, (last + len).min(original.len()).max(s))
    }
}

fn to_u32(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}

/// True for bytes that are part of a word: ASCII letters and digits and any
/// non-ASCII byte (letters of other scripts; typographic punctuation has
/// been mapped to ASCII by normalisation).
pub fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// Start offsets of the words of `text`, in order.
pub fn word_starts(text: &str) -> Vec<u32> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 5 + 1);
    let mut prev_word = false;
    for (i, &c) in b.iter().enumerate() {
        let w = is_word_byte(c);
        if w && !prev_word {
            out.push(to_u32(i));
        }
        prev_word = w;
    }
    out
}

/// Words that end with a period without ending a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "gov", "sen", "rep", "reps", "sens", "gen", "col", "lt",
    "capt", "sgt", "st", "jr", "sr", "inc", "corp", "ltd", "co", "no", "nos", "vs", "etc", "e.g",
    "i.e", "approx", "dept", "est", "fig", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "u.s", "u.k", "e.u", "u.n", "a.i", "d.c", "pres", "min", "govt",
    "assn", "bros", "mt", "ft", "op", "vol", "art", "sec",
];

/// Splits a normalised text into sentences: byte ranges, trimmed. A sentence
/// ends at a line break, and at `.`, `!`, `?` or `...` followed by white
/// space and an upper-case letter, digit or quote in the original — except
/// after a known abbreviation or a single letter (`U.S.`, `J. Smith`).
/// Only `from..to` of the normalised text is split; `original` is the text
/// the normalised offsets map back to.
pub fn split_sentences(
    n: &Normalized,
    original: &str,
    from: usize,
    to: usize,
    out: &mut Vec<(u32, u32)>,
) {
    let text = &n.text;
    let to = to.min(text.len());
    let b = &text.as_bytes()[..to];
    let ob = original.as_bytes();
    let mut start = from;
    let mut i = from;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            push_trimmed(text, start, i, out);
            start = i + 1;
            i += 1;
            continue;
        }
        if matches!(c, b'.' | b'!' | b'?') {
            // Swallow a run of terminal punctuation and closing quotes/brackets.
            let mut j = i + 1;
            while j < b.len() && matches!(b[j], b'.' | b'!' | b'?' | b'"' | b'\'' | b')' | b']') {
                j += 1;
            }
            let at_end = j >= b.len();
            let followed = at_end
                || (b[j] == b' '
                    && next_starts_sentence(ob, n.orig(j + 1))
                    && !(c == b'.' && j == i + 1 && is_abbreviation(b, i)));
            if followed {
                push_trimmed(text, start, j, out);
                start = j;
            }
            i = j;
            continue;
        }
        i += 1;
    }
    push_trimmed(text, start, b.len(), out);
}

/// Does the original text at `at` start like a sentence (upper-case letter,
/// digit or opening quote)?
fn next_starts_sentence(orig: &[u8], at: usize) -> bool {
    let Some(&c) = orig.get(at) else {
        return true;
    };
    if c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, b'"' | b'\'' | b'(' | b'[') {
        return true;
    }
    if c >= 0x80 {
        // Non-ASCII: an upper-case letter or a typographic opening quote.
        let s = std::str::from_utf8(&orig[at..orig.len().min(at + 4)])
            .ok()
            .or_else(|| std::str::from_utf8(&orig[at..orig.len().min(at + 3)]).ok())
            .or_else(|| std::str::from_utf8(&orig[at..orig.len().min(at + 2)]).ok());
        if let Some(ch) = s.and_then(|s| s.chars().next()) {
            return ch.is_uppercase() || matches!(ch, '\u{201c}' | '\u{2018}' | '\u{00ab}');
        }
    }
    false
}

/// Is the word ending just before the period at `dot` an abbreviation?
fn is_abbreviation(b: &[u8], dot: usize) -> bool {
    let mut s = dot;
    while s > 0 && (is_word_byte(b[s - 1]) || b[s - 1] == b'.') {
        s -= 1;
    }
    let word = &b[s..dot];
    if word.is_empty() {
        return false;
    }
    // Single letters and initials ("j", "u.s").
    if word.len() == 1 && word[0].is_ascii_alphabetic() {
        return true;
    }
    if word.iter().all(|&c| c.is_ascii_alphabetic() || c == b'.')
        && word.split(|&c| c == b'.').all(|p| p.len() <= 1)
    {
        return true;
    }
    ABBREVIATIONS.iter().any(|a| a.as_bytes() == word)
}

/// Adds `start..end` of `text`, trimmed of white space, unless it is empty.
pub fn push_trimmed(text: &str, start: usize, end: usize, out: &mut Vec<(u32, u32)>) {
    if start >= end {
        return;
    }
    let piece = &text[start..end];
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    if start + lead < end - trail {
        out.push((to_u32(start + lead), to_u32(end - trail)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences(t: &str) -> Vec<String> {
        let n = Normalized::new(&[(0, t)]);
        let mut out = Vec::new();
        split_sentences(&n, t, 0, n.text.len(), &mut out);
        out.iter()
            .map(|&(a, b)| {
                let (s, e) = n.orig_range(t, a as usize, b as usize);
                t[s..e].to_string()
            })
            .collect()
    }

    #[test]
    fn normalises_case_quotes_dashes_and_space() {
        let n = Normalized::new(&[(
            0,
            "Kaspersky\u{2019}s  \u{201c}Ban\u{201d}\u{a0}\u{2014} now\u{2026}",
        )]);
        assert_eq!(n.text, "kaspersky's \"ban\" - now...");
    }

    #[test]
    fn offsets_map_back_to_the_original() {
        let t = "Caf\u{e9} \u{201c}TikTok\u{201d} ban";
        let n = Normalized::new(&[(0, t)]);
        let at = n.text.find("tiktok").unwrap();
        let (s, e) = n.orig_range(t, at, at + 6);
        assert_eq!(&t[s..e], "TikTok");
        let (s, e) = n.orig_range(t, 0, n.text.len());
        assert_eq!(&t[s..e], t);
    }

    #[test]
    fn parts_are_separated_by_a_line_break() {
        let n = Normalized::new(&[(0, "Title"), (7, "Body")]);
        assert_eq!(n.text, "title\nbody");
        assert_eq!(n.orig(6), 7);
    }

    #[test]
    fn sentence_ends_and_abbreviations() {
        assert_eq!(
            sentences("The U.S. Department of Commerce banned it. Then Gov. Smith spoke! Why? ok"),
            vec![
                "The U.S. Department of Commerce banned it.",
                "Then Gov. Smith spoke!",
                "Why? ok"
            ]
        );
        assert_eq!(
            sentences("It said \u{201c}no.\u{201d} Next one.\n\nLast"),
            vec!["It said \u{201c}no.\u{201d}", "Next one.", "Last"]
        );
        assert_eq!(
            sentences("Version 2.5 of it. 2024 was"),
            vec!["Version 2.5 of it.", "2024 was"]
        );
    }

    #[test]
    fn words() {
        assert_eq!(word_starts("tp-link, ban"), vec![0, 3, 9]);
    }
}
