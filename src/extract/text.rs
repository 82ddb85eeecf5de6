//! Small text helpers shared by the extractor's parts.

pub use crate::parse::text::collapse_ws;

/// Length in characters of `s` with whitespace runs counted as one
/// character, and the number of commas (Latin, Arabic, CJK, ...).
pub fn measure(s: &str) -> (u32, u32) {
    let mut len = 0u32;
    let mut commas = 0u32;
    let mut in_ws = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if !in_ws {
                len += 1;
                in_ws = true;
            }
        } else {
            in_ws = false;
            len += 1;
            if is_comma(c) {
                commas += 1;
            }
        }
    }
    (len, commas)
}

fn is_comma(c: char) -> bool {
    matches!(
        c,
        '\u{002C}'
            | '\u{060C}'
            | '\u{FE50}'
            | '\u{FE10}'
            | '\u{FE11}'
            | '\u{2E41}'
            | '\u{2E34}'
            | '\u{2E32}'
            | '\u{FF0C}'
    )
}

/// Lower-cased words (alphanumeric runs) of `s`.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// Readability's text similarity: the share of `b`'s word characters that
/// are also words of `a` (1.0 = `b` adds nothing to `a`).
pub fn similarity(a: &str, b: &str) -> f64 {
    let ta = words(a);
    let tb = words(b);
    if ta.is_empty() || tb.is_empty() {
        return 0.0;
    }
    let total: usize = tb.iter().map(|w| w.chars().count()).sum::<usize>() + tb.len() - 1;
    let uniq: Vec<&String> = tb.iter().filter(|w| !ta.contains(w)).collect();
    let uniq_len: usize =
        uniq.iter().map(|w| w.chars().count()).sum::<usize>() + uniq.len().saturating_sub(1);
    if total == 0 {
        return 0.0;
    }
    1.0 - uniq_len as f64 / total as f64
}

/// Normalises a string for comparisons: NFKC-free lower-casing, quotes and
/// dashes unified, whitespace collapsed.
pub fn norm_cmp(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' | '`' | '\u{00B4}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}' => '"',
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            c => c,
        })
        .collect();
    collapse_ws(&mapped).to_lowercase()
}

/// Cuts `s` to at most `max` bytes on a character boundary.
pub fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut e = max;
    while !s.is_char_boundary(e) {
        e -= 1;
    }
    &s[..e]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures() {
        assert_eq!(measure("  a,  b \n c "), (8, 1));
        assert_eq!(measure("日本，語"), (4, 1));
        assert_eq!(measure(""), (0, 0));
    }

    #[test]
    fn similarities() {
        assert!(similarity("Big news today", "big news today") > 0.99);
        assert!(similarity("Big news today", "Other words entirely") < 0.1);
        assert_eq!(similarity("", "x"), 0.0);
    }

    #[test]
    fn norms() {
        assert_eq!(norm_cmp("  It’s  “Big” — News "), "it's \"big\" - news");
        assert_eq!(cut("héllo", 2), "h");
    }
}
