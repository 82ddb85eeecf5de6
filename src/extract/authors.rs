//! Author names from bylines and metadata values: "By A and B",
//! "By A, Staff Writer", "A | Editor-in-Chief", "Von A, 18. Oktober 2019"
//! become the bare names.

use std::sync::LazyLock;

use regex::Regex;

use super::text::collapse_ws;

fn re(s: &str) -> Regex {
    // Only called on the pattern literals in this file; covered by tests.
    Regex::new(s).unwrap_or_else(|e| panic!("static regex {s:?}: {e}"))
}

/// Leading words that introduce a byline.
static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:(?:written|posted|published|words|text|story|reported|compiled|edited|photos?|video|interview)\s+by|by|von|vom|par|por|door|av|af|autor(?:in)?|author|authors|verfasser(?:in)?|text|redakteur(?:in)?|reporter|writer|geschrieben\s+von|ein\s+(?:beitrag|artikel)\s+von|napisał(?:a)?|autorstwo)\b\s*[:\-–—]?\s*",
    )
});

/// Separators between several names (after the part splits on punctuation).
static AND: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\s+(?:and|&|und|et|y|e|en|og|och|i|oraz|with|with\s+additional\s+reporting\s+by)\s+")
});

/// Words that make a part a job title or a label rather than a name.
static ROLE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:editor|editors|editorial|writer|writers|reporter|reporters|correspondent|contributor|contributing|columnist|staff|journalist|producer|analyst|photographer|senior|chief|director|manager|founder|co-founder|ceo|cto|president|intern|freelance|freelancer|redakteur|redakteurin|redaktion|korrespondent|korrespondentin|volont[äa]r|rédacteur|rédactrice|journaliste|periodista|redactor|redactora|dziennikarz|team|desk|newsroom|updated|published|posted|min|mins|minute|minutes|read|ago|share|follow|email|e-mail|twitter|facebook|linkedin|comments?|view|profile|articles|more|about|bio|biography|contact|guest|sponsored|associate|professor|dr\.?\s*$|phd|md|fellow|researcher|expert|specialist|officer|head|lead|host|anchor|presenter|mitarbeiter|autor|autorin|author|authors|by|von)\b",
    )
});

/// Words that end the name part of a byline (a date or time follows).
static CUT: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\s(?:on|am|le|el|il|op|dnia|at|um)\s+(?:\S+\s+)?\d.*$|\s(?:posted|published|updated|aktualisiert|veröffentlicht|publié|publicado)\b.*$|\s+(?:{})\.?\s+\d.*$|\s*\d.*$|\s*\(.*$|\s*@.*$|\s*https?://.*$",
        super::dates::month_alternation()
    ))
});

static URL_OR_MAIL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?:https?://|www\.)\S+|\S+@\S+\.\w+|\S+\.(?:com|org|net|de|co\.uk)\b\S*"));

/// Cleans one byline or metadata value into names. `site_names` are the
/// publication's names (normalised, see [`squash`]); parts equal to one are
/// dropped.
pub fn clean_names(raw: &str, site_names: &[String]) -> Vec<String> {
    let s = collapse_ws(raw);
    if s.is_empty() || s.chars().count() > 300 {
        return Vec::new();
    }
    let s = URL_OR_MAIL.replace_all(&s, " ");
    let mut out: Vec<String> = Vec::new();
    // Top-level separators that never occur inside a name.
    for group in s.split(['|', ';', '/', '·', '•', '\n', '–', '—']) {
        let group = strip_prefix(group.trim());
        // "A, B and C": split on the conjunctions first, then on commas.
        for sub in AND.split(&group) {
            let parts: Vec<&str> = sub.split([',', '，']).collect();
            for (k, part) in parts.iter().enumerate() {
                let p = clean_part(part);
                if p.is_empty() {
                    continue;
                }
                if ROLE.is_match(&p) || is_site(&p, site_names) {
                    // "A, Staff Writer, The Paper": the rest is affiliation.
                    if k > 0 {
                        break;
                    }
                    continue;
                }
                if looks_like_name(&p) && !out.iter().any(|o| o.to_lowercase() == p.to_lowercase()) {
                    out.push(p);
                }
            }
        }
    }
    out
}

fn strip_prefix(s: &str) -> String {
    let mut s = s.trim().to_string();
    for _ in 0..3 {
        let t = PREFIX.replace(&s, "").to_string();
        if t == s {
            break;
        }
        s = t;
    }
    s
}

fn clean_part(part: &str) -> String {
    let p = strip_prefix(part);
    let p = CUT.replace(&p, "");
    let p = p.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '-' | ':' | '.' | '"' | '\'' | '“' | '”' | '(' | ')' | '[' | ']' | '*')
    });
    // "Jane Doe." vs "J. Doe": keep inner dots, drop a trailing one only.
    collapse_ws(p)
}

fn looks_like_name(p: &str) -> bool {
    let words: Vec<&str> = p.split_whitespace().collect();
    if words.is_empty() || words.len() > 5 || p.chars().count() > 50 {
        return false;
    }
    if p.chars().any(|c| c.is_ascii_digit() || matches!(c, '@' | '<' | '>' | '=' | '{' | '}' | '?' | '!')) {
        return false;
    }
    // At least one letter, and no word that is all punctuation.
    p.chars().any(char::is_alphabetic)
        && words.iter().all(|w| w.chars().any(char::is_alphanumeric))
}

/// Lower-cased letters and digits only: "Dark Reading" -> "darkreading".
pub fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_site(p: &str, site_names: &[String]) -> bool {
    let q = squash(p);
    !q.is_empty() && site_names.iter().any(|s| !s.is_empty() && (*s == q || (q.len() >= 4 && s.contains(&q) && q.len() * 2 >= s.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<String> {
        clean_names(s, &["darkreading".to_string(), "darkreadingcom".to_string()])
    }

    #[test]
    fn bylines() {
        assert_eq!(names("By Jane Roe and John Doe"), vec!["Jane Roe", "John Doe"]);
        assert_eq!(names("By Jane Roe, Staff Writer"), vec!["Jane Roe"]);
        assert_eq!(names("Jane Roe | Editor-in-Chief"), vec!["Jane Roe"]);
        assert_eq!(
            names("Kelly Jackson Higgins, Editor-in-Chief, Dark Reading"),
            vec!["Kelly Jackson Higgins"]
        );
        assert_eq!(names("A. One, B. Two & C. Three"), vec!["A. One", "B. Two", "C. Three"]);
        assert_eq!(names("Von Heike Buchter 18. Oktober 2019"), vec!["Heike Buchter"]);
        assert_eq!(names("Posted by admin on October 18, 2019"), vec!["admin"]);
        assert_eq!(names("by Jane Roe (AFP)"), vec!["Jane Roe"]);
        assert_eq!(names("Jane Roe @janeroe"), vec!["Jane Roe"]);
        assert_eq!(names("Dark Reading"), Vec::<String>::new());
        assert_eq!(names("Jane Roe, Jane Roe"), vec!["Jane Roe"]);
        assert_eq!(names("https://example.com/jane"), Vec::<String>::new());
        assert_eq!(names("Staff"), Vec::<String>::new());
    }

    #[test]
    fn not_names() {
        assert!(names("This is a whole sentence that is much too long to be anybody's name").is_empty());
        assert!(names("").is_empty());
        assert!(names("12 comments").is_empty());
    }
}
