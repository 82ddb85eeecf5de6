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
        r"(?i)^(?:(?:written|posted|published|words|text|story|reported|compiled|interview)\s+(?:by|von)|by|von|vom|par|por|door|av|af|autor(?:in)?|auteurs?|author|authors|verfasser(?:in)?|text|texte|redakteur(?:in)?|reporter|writer|geschrieben\s+von|ein\s+(?:beitrag|artikel)\s+von|napisał(?:a)?|autorstwo|interview|veröffentlicht\s+von|publiziert\s+von|beitrag\s+von|from)\b\s*[:\-–—]?\s*",
    )
});
/// A byline word glued to the name ("vonChris Jung"): case-sensitive.
static GLUED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^((?:[Vv]eröffentlicht von|[Vv]on|[Bb]y|[Pp]osted by|[Ww]ritten by|[Bb]eitrag von))(\p{Lu})",
    )
});
/// Groups that credit someone other than the author.
static NOT_AUTHOR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:edited|photos?|photography|pictures?|images?|illustrations?|graphics?|videos?|translated|translation|fotos?|bilder?|grafiken?|übersetzung|redigiert|lektorat)\s*(?:by|von|:)",
    )
});

/// Separators between several names (after the part splits on punctuation).
static AND: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\s+(?:and|&|und|et|y|e|en|og|och|i|oraz|with|with\s+additional\s+reporting\s+by)\s+")
});

/// Words that make a part a job title or a label rather than a name.
static ROLE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:editor|editors|editorial|writer|writers|reporter|reporters|correspondent|contributor|contributing|columnist|staff|journalist|producer|analyst|photographer|senior|chief|director|manager|founder|co-founder|ceo|cto|president|intern|freelance|freelancer|redakteur|redakteurin|redaktion|korrespondent|korrespondentin|volont[äa]r|rédacteur|rédactrice|journaliste|periodista|redactor|redactora|dziennikarz|team|desk|newsroom|updated|published|posted|publiziert|veröffentlicht|min|mins|minute|minutes|read|ago|share|follow|email|e-mail|twitter|facebook|linkedin|comments?|kommentare?|view|profile|articles|more|about|bio|biography|contact|guest|sponsored|associate|professor|dr\.?\s*$|fellow|researcher|expert|experte|expertin|specialist|officer|head|lead|host|anchor|presenter|mitarbeiter|autor|autorin|auteur|author|authors|name|stand|interview|beitrag|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|monday|tuesday|wednesday|thursday|friday|saturday|sunday|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\b",
    )
});
/// Academic and professional credentials after a name (case-sensitive).
static CREDENTIAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:MA|MD|PhD|Ph\.D\.?|MS|MSc|BSc|MBA|RN|MPH|DO|DDS|JD|FACP|FACS|LCSW|RD|CPA|CFA|PE|Esq\.?)$",
    )
});

/// Words that end the name part of a byline (a date, time or other credit
/// follows).
static CUT: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\s(?:on|am|le|el|il|op|dnia|at|um)\s+(?:\S+\s+)?\d.*$|\s(?:posted|published|updated|aktualisiert|veröffentlicht|publiziert|publié|publicado|erschienen|stand)\b.*$|\s(?:am\s+|on\s+)?(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b.*$|\s(?:illustrations?|fotos?|photos?|bilder?|grafik|edited)\s+(?:von|by)\b.*$|\s+(?:{})\.?\s+\d.*$|(?:^|\s)\d.*$|\s*\(.*$|\s*@.*$|\s*https?://.*$",
        super::dates::month_alternation()
    ))
});

static URL_OR_MAIL: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(?:https?://|www\.)\S+|\S+@\S+\.\w+|\S+\.(?:com|org|net|de|co\.uk)\b\S*")
});
static PARENS: LazyLock<Regex> = LazyLock::new(|| re(r"\(([^()]*)\)"));
static WITH: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\s*(?:avec|with|mit|con|and|und|et|y|com)\s+"));

/// Cleans one byline or metadata value into names. `site_names` are the
/// publication's names (normalised, see [`squash`]); parts equal to one are
/// dropped. Lines (`\n`) are separate groups.
pub fn clean_names(raw: &str, site_names: &[String]) -> Vec<String> {
    let s: Vec<String> = raw
        .lines()
        .map(collapse_ws)
        .filter(|l| !l.is_empty())
        .collect();
    let s = s.join("\n");
    if s.is_empty() || s.chars().count() > 300 {
        return Vec::new();
    }
    let s = URL_OR_MAIL.replace_all(&s, " ");
    // "(avec B et C)" adds names; other parentheticals go.
    let s = PARENS.replace_all(&s, |c: &regex::Captures<'_>| {
        let inner = &c[1];
        if WITH.is_match(inner) {
            format!(", {}", WITH.replace(inner, ""))
        } else {
            " ".to_string()
        }
    });
    let mut out: Vec<String> = Vec::new();
    // Top-level separators that never occur inside a name.
    for group in s.split(['|', ';', '/', '·', '•', '\n', '–', '—']) {
        let group = group.trim();
        if NOT_AUTHOR.is_match(group) {
            continue;
        }
        let group = strip_prefix(group);
        // "A, B and C": split on the conjunctions first, then on commas.
        for sub in AND.split(&group) {
            let parts: Vec<&str> = sub.split([',', '，']).collect();
            for (k, part) in parts.iter().enumerate() {
                let p = clean_part(part);
                if p.is_empty() || CREDENTIAL.is_match(&p) {
                    continue;
                }
                if ROLE.is_match(&p) || is_site(&p, site_names) {
                    // "A, Staff Writer, The Paper": the rest is affiliation.
                    if k > 0 {
                        break;
                    }
                    continue;
                }
                if looks_like_name(&p) && !out.iter().any(|o| o.to_lowercase() == p.to_lowercase())
                {
                    out.push(p);
                }
            }
        }
    }
    out
}

fn strip_prefix(s: &str) -> String {
    let mut s = GLUED.replace(s.trim(), "$1 $2").to_string();
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
        c.is_whitespace()
            || matches!(
                c,
                '-' | ':' | '.' | '"' | '\'' | '“' | '”' | '(' | ')' | '[' | ']' | '*'
            )
    });
    // "Jane Doe." vs "J. Doe": keep inner dots, drop a trailing one only.
    collapse_ws(p)
}

fn looks_like_name(p: &str) -> bool {
    let words: Vec<&str> = p.split_whitespace().collect();
    if words.is_empty() || words.len() > 5 || p.chars().count() > 50 {
        return false;
    }
    // A month ("March") or a lone short lower-case word ("le") is not a name.
    if words.len() == 1 {
        let w = words[0];
        if super::dates::is_month_name(w) || STOPWORDS.contains(&w.to_lowercase().as_str()) {
            return false;
        }
    }
    if p.chars()
        .any(|c| c.is_ascii_digit() || matches!(c, '@' | '<' | '>' | '=' | '{' | '}' | '?' | '!'))
    {
        return false;
    }
    // At least one letter, and no word that is all punctuation.
    p.chars().any(char::is_alphabetic) && words.iter().all(|w| w.chars().any(char::is_alphanumeric))
}

/// Short words that are never a name on their own.
const STOPWORDS: &[&str] = &[
    "le", "la", "les", "de", "des", "am", "on", "at", "by", "the", "a", "an", "et", "und", "and",
    "von", "par", "por", "y", "e", "i", "il", "el", "der", "die", "das", "en", "of", "in", "to",
];

/// Words that may start with a lower-case letter inside a name.
const PARTICLES: &[&str] = &[
    "von", "van", "de", "der", "den", "del", "della", "di", "da", "dos", "das", "du", "la", "le",
    "zu", "ten", "ter", "bin", "ibn", "al", "el", "y", "e", "zum", "zur", "vom",
];

/// Every word capitalised, or a name particle ("Alexa von Heyden"): the
/// stricter test for names found in running text.
pub fn is_capitalised_name(p: &str) -> bool {
    p.split_whitespace().all(|w| {
        w.chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || !c.is_alphabetic())
            || PARTICLES.contains(&w)
    })
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
    !q.is_empty()
        && site_names.iter().any(|s| {
            !s.is_empty() && (*s == q || (q.len() >= 4 && s.contains(&q) && q.len() * 2 >= s.len()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<String> {
        clean_names(
            s,
            &["darkreading".to_string(), "darkreadingcom".to_string()],
        )
    }

    #[test]
    fn bylines() {
        assert_eq!(
            names("By Jane Roe and John Doe"),
            vec!["Jane Roe", "John Doe"]
        );
        assert_eq!(names("By Jane Roe, Staff Writer"), vec!["Jane Roe"]);
        assert_eq!(names("Jane Roe | Editor-in-Chief"), vec!["Jane Roe"]);
        assert_eq!(
            names("Kelly Jackson Higgins, Editor-in-Chief, Dark Reading"),
            vec!["Kelly Jackson Higgins"]
        );
        assert_eq!(
            names("A. One, B. Two & C. Three"),
            vec!["A. One", "B. Two", "C. Three"]
        );
        assert_eq!(
            names("Von Heike Buchter 18. Oktober 2019"),
            vec!["Heike Buchter"]
        );
        assert_eq!(names("Posted by admin on October 18, 2019"), vec!["admin"]);
        assert_eq!(names("by Jane Roe (AFP)"), vec!["Jane Roe"]);
        assert_eq!(names("Jane Roe @janeroe"), vec!["Jane Roe"]);
        assert_eq!(names("Dark Reading"), Vec::<String>::new());
        assert_eq!(names("Jane Roe, Jane Roe"), vec!["Jane Roe"]);
        assert_eq!(names("https://example.com/jane"), Vec::<String>::new());
        assert_eq!(names("Staff"), Vec::<String>::new());
        assert_eq!(
            names("Written by Rob Roe\nEdited by Bob Doe"),
            vec!["Rob Roe"]
        );
        assert_eq!(names("Ann Roe, MA"), vec!["Ann Roe"]);
        assert_eq!(
            names("Martin Roe (avec Damien Doe et Anne Poe)"),
            vec!["Martin Roe", "Damien Doe", "Anne Poe"]
        );
        assert_eq!(names("Richard (R.J.) Roe"), vec!["Richard Roe"]);
        assert_eq!(names("Christoph von Ritter"), vec!["Christoph von Ritter"]);
        assert_eq!(names("Veröffentlicht vonChris Jung"), vec!["Chris Jung"]);
        assert_eq!(names("Isabella Roe am Samstag"), vec!["Isabella Roe"]);
        assert_eq!(names("Donnerstag"), Vec::<String>::new());
        assert_eq!(
            names("Text von Chris Roe Illustration von Mark Doe"),
            vec!["Chris Roe"]
        );
        assert_eq!(names("CC7567"), Vec::<String>::new());
    }

    #[test]
    fn not_names() {
        assert!(
            names("This is a whole sentence that is much too long to be anybody's name").is_empty()
        );
        assert!(names("").is_empty());
        assert!(names("12 comments").is_empty());
    }
}
