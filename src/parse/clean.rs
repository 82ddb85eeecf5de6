//! Pre-cleaning: turns decoded feed text into XML that a strict reader
//! accepts, without changing what a lenient reader would see.
//!
//! * the XML declaration is dropped (the text is UTF-8 now; a leftover
//!   `encoding="windows-1251"` would make the reader decode it twice), and
//!   so is anything before the first `<`;
//! * characters XML 1.0 forbids (control characters, U+FFFE/U+FFFF) are
//!   removed, and character references to them are dropped; UTF-16
//!   surrogate pairs written as two references (`&#55357;&#56832;`) are
//!   joined into one;
//! * general entities declared in the DOCTYPE's internal subset
//!   (`<!ENTITY id "tag:example.com,">`) are expanded in text, one level
//!   deep and size-capped (no "billion laughs");
//! * a bare `&` (not starting a reference) becomes `&amp;`, a `<` that
//!   cannot start markup becomes `&lt;` — in text and in attribute values;
//!   CDATA sections, comments and the DOCTYPE are left alone;
//! * the iTunes and Media RSS namespaces are renamed to private URNs
//!   (which the sidecar knows): feed-rs 3.0.0 panics on an over-long
//!   `itunes:duration` or Media RSS time (it unwraps a `u64` parse), and
//!   secwire needs nothing from its handling of them;
//! * the root element is repaired: `<rss>` without a `version` (or with one
//!   feed-rs does not know, such as `0.94`) gets `version="2.0"`; a default
//!   namespace on `<rss>` (`<rss xmlns="http://backend.userland.com/rss2">`)
//!   is removed, because it makes feed-rs ignore every element; RSS 0.90's
//!   namespace on `rdf:RDF` is mapped to RSS 1.0's and Atom 0.3's to Atom
//!   1.0's, whose element names they share.

use std::fmt::Write as _;

/// The cleaned text and the repairs that were made (for warnings).
#[derive(Debug, Default)]
pub struct Cleaned {
    pub text: String,
    pub repairs: Vec<&'static str>,
}

const ATOM_03_NS: &str = "http://purl.org/atom/ns#";
const ATOM_10_NS: &str = "http://www.w3.org/2005/Atom";
const RSS_10_NS: &str = "http://purl.org/rss/1.0/";

/// Pre-cleans decoded XML text; see the module documentation.
pub fn clean_xml(input: &str) -> Cleaned {
    let mut repairs = Vec::new();
    let mut s = input.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if let Some(p) = s.find('<')
        && p > 0
    {
        repairs.push("text before the first tag removed");
        s = &s[p..];
    }
    if s.starts_with("<?xml")
        && let Some(end) = s.find("?>")
    {
        s = &s[end + 2..];
    }
    let mut out = String::with_capacity(s.len() + 64);
    let mut root_done = false;
    let b = s.as_bytes();
    let mut i = 0;
    let mut run_start = 0;
    let mut bare_amp = false;
    let mut bad_lt = false;
    let mut bad_char = false;
    let mut entities: Vec<(String, String)> = Vec::new();
    while i < b.len() {
        let c = b[i];
        match c {
            b'<' => {
                out.push_str(&s[run_start..i]);
                let rest = &s[i..];
                if rest.starts_with("<!--") {
                    let end = rest.find("-->").map_or(rest.len(), |e| e + 3);
                    out.push_str(&rest[..end]);
                    i += end;
                } else if rest.starts_with("<![CDATA[") {
                    let end = rest.find("]]>").map_or(rest.len(), |e| e + 3);
                    bad_char |= push_valid_chars(&mut out, &rest[..end]);
                    i += end;
                } else if rest.starts_with("<!") {
                    let end = doctype_end(rest);
                    entities.extend(internal_entities(&rest[..end]));
                    out.push_str(&rest[..end]);
                    i += end;
                } else if rest.starts_with("<?") {
                    let end = rest.find("?>").map_or(rest.len(), |e| e + 2);
                    out.push_str(&rest[..end]);
                    i += end;
                } else if rest.starts_with("</") {
                    let end = rest.find('>').map_or(rest.len(), |e| e + 1);
                    out.push_str(&rest[..end]);
                    i += end;
                } else if rest[1..].starts_with(is_name_start) {
                    let (len, fixed) = scan_start_tag(rest);
                    bare_amp |= fixed;
                    let tag = hide_namespaces(&rest[..len]);
                    let tag = tag.as_ref();
                    if root_done {
                        push_tag(&mut out, tag, fixed);
                    } else {
                        root_done = true;
                        let mut buf = String::new();
                        push_tag(&mut buf, tag, fixed);
                        match fix_root(&buf) {
                            Some((fixed, what)) => {
                                repairs.extend(what);
                                out.push_str(&fixed);
                            }
                            None => out.push_str(&buf),
                        }
                    }
                    i += len;
                } else {
                    bad_lt = true;
                    out.push_str("&lt;");
                    i += 1;
                }
                run_start = i;
            }
            b'&' => {
                out.push_str(&s[run_start..i]);
                let (consumed, ok) = push_reference(&mut out, &s[i..], &entities);
                bare_amp |= !ok;
                i += consumed;
                run_start = i;
            }
            0x00..=0x08 | 0x0B | 0x0C | 0x0E..=0x1F => {
                out.push_str(&s[run_start..i]);
                bad_char = true;
                i += 1;
                run_start = i;
            }
            0xEF if b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)) => {
                out.push_str(&s[run_start..i]);
                bad_char = true;
                i += 3;
                run_start = i;
            }
            _ => {
                // Skip ahead to the next byte that needs a look.
                i += 1;
                while i < b.len() && !SPECIAL[usize::from(b[i])] {
                    i += 1;
                }
            }
        }
    }
    out.push_str(&s[run_start.min(s.len())..]);
    if bare_amp {
        repairs.push("bare '&' escaped");
    }
    if bad_lt {
        repairs.push("bare '<' escaped");
    }
    if bad_char {
        repairs.push("characters invalid in XML removed");
    }
    Cleaned { text: out, repairs }
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == ':'
}

/// Namespaces hidden from feed-rs, and the URNs that replace them.
pub const HIDDEN_NAMESPACES: &[(&str, &str)] = &[
    (
        "http://www.itunes.com/dtds/podcast-1.0.dtd",
        "urn:x-secwire:itunes",
    ),
    ("http://search.yahoo.com/mrss/", "urn:x-secwire:mrss"),
    ("http://search.yahoo.com/mrss", "urn:x-secwire:mrss"),
];

/// Renames the [`HIDDEN_NAMESPACES`] in a start tag's declarations.
fn hide_namespaces(tag: &str) -> std::borrow::Cow<'_, str> {
    if !tag.contains("xmlns") || !HIDDEN_NAMESPACES.iter().any(|(u, _)| tag.contains(u)) {
        return std::borrow::Cow::Borrowed(tag);
    }
    let mut t = tag.to_string();
    for (uri, urn) in HIDDEN_NAMESPACES {
        for q in ['"', '\''] {
            t = t.replace(&format!("{q}{uri}{q}"), &format!("{q}{urn}{q}"));
        }
    }
    std::borrow::Cow::Owned(t)
}

/// Length of a `<!DOCTYPE …>` declaration, internal subset included.
fn doctype_end(rest: &str) -> usize {
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    for (i, &c) in rest.as_bytes().iter().enumerate() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'[') => depth += 1,
            (None, b']') => depth -= 1,
            (None, b'>') if depth <= 0 => return i + 1,
            _ => {}
        }
    }
    rest.len()
}

/// Length of a start tag beginning at `rest[0] == '<'`, and whether an
/// attribute value needed escaping (done by [`push_tag`]).
fn scan_start_tag(rest: &str) -> (usize, bool) {
    let b = rest.as_bytes();
    let mut quote: Option<u8> = None;
    let mut needs_fix = false;
    for (i, &c) in b.iter().enumerate().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), b'<') => needs_fix = true,
            (Some(_), b'&') => needs_fix |= !reference_ok(&rest[i..]),
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'>') => return (i + 1, needs_fix),
            // A tag cut short by the next tag: end it here.
            (None, b'<') => return (i, needs_fix),
            _ => {}
        }
    }
    (rest.len(), needs_fix)
}

/// Copies a start tag (`needs_escaping` as found by [`scan_start_tag`]),
/// escaping `<` and bare `&` inside quoted values and
/// dropping characters XML forbids; a tag cut short gets its `>`.
fn push_tag(out: &mut String, tag: &str, needs_escaping: bool) {
    if !needs_escaping && tag.ends_with('>') && !has_forbidden_chars(tag) {
        out.push_str(tag);
        return;
    }
    let mut quote: Option<char> = None;
    for (i, c) in tag.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), '<') => out.push_str("&lt;"),
            (Some(_), '&') => {
                if reference_ok(&tag[i..]) {
                    out.push('&');
                } else {
                    out.push_str("&amp;");
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                out.push(c);
            }
            (_, c) if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
    if !tag.ends_with('>') {
        if let Some(q) = quote {
            out.push(q);
        }
        out.push('>');
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Bytes that may start a character XML forbids: control bytes and the
/// lead byte of U+FFFE/U+FFFF.
const FORBIDDEN_LEAD: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = !matches!(c as u8, b'\t' | b'\n' | b'\r');
        c += 1;
    }
    t[0xEF] = true;
    t
};

/// Bytes the main loop of [`clean_xml`] stops at.
const SPECIAL: [bool; 256] = {
    let mut t = FORBIDDEN_LEAD;
    t[b'<' as usize] = true;
    t[b'&' as usize] = true;
    t
};

/// Whether `s` contains a character XML forbids, judged on its UTF-8
/// bytes: a control byte, or the encodings of U+FFFE and U+FFFF.
fn has_forbidden_chars(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        FORBIDDEN_LEAD[usize::from(c)]
            && (c != 0xEF
                || (b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF))))
    })
}

/// Pushes the characters of `s` that XML allows; true if any were dropped.
fn push_valid_chars(out: &mut String, s: &str) -> bool {
    if !has_forbidden_chars(s) {
        out.push_str(s);
        return false;
    }
    out.extend(s.chars().filter(|&c| is_xml_char(c)));
    true
}

/// Whether `s` (starting with `&`) starts a syntactically valid reference.
fn reference_ok(s: &str) -> bool {
    parse_reference(s).is_some()
}

enum Ref<'a> {
    Named(&'a str),
    Char(u32),
}

/// Parses `&name;`, `&#123;` or `&#x7B;` at the start of `s`; returns the
/// reference and its length.
fn parse_reference(s: &str) -> Option<(Ref<'_>, usize)> {
    let b = s.as_bytes();
    if b.first() != Some(&b'&') {
        return None;
    }
    if b.get(1) == Some(&b'#') {
        let (hex, start) = match b.get(2) {
            Some(b'x' | b'X') => (true, 3),
            _ => (false, 2),
        };
        let mut j = start;
        while j < b.len()
            && j - start < 10
            && (if hex {
                b[j].is_ascii_hexdigit()
            } else {
                b[j].is_ascii_digit()
            })
        {
            j += 1;
        }
        if j == start || b.get(j) != Some(&b';') {
            return None;
        }
        let v = u32::from_str_radix(&s[start..j], if hex { 16 } else { 10 }).ok()?;
        return Some((Ref::Char(v), j + 1));
    }
    let name_len = s[1..]
        .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | ':' | '.' | '-')))
        .unwrap_or(s.len() - 1);
    if name_len == 0 || name_len > 64 || !s[1..].starts_with(is_name_start) {
        return None;
    }
    if s.as_bytes().get(1 + name_len) != Some(&b';') {
        return None;
    }
    Some((Ref::Named(&s[1..1 + name_len]), name_len + 2))
}

/// Handles the `&` at the start of `s`: copies a valid reference (repairing
/// character references to forbidden code points), or escapes a bare `&`.
/// Returns the bytes consumed and whether the reference was valid.
fn push_reference(out: &mut String, s: &str, entities: &[(String, String)]) -> (usize, bool) {
    match parse_reference(s) {
        Some((Ref::Named(name), len)) => {
            match entities.iter().find(|(n, _)| n == name) {
                Some((_, value)) => push_entity_value(out, value),
                None => {
                    out.push('&');
                    out.push_str(name);
                    out.push(';');
                }
            }
            (len, true)
        }
        Some((Ref::Char(v), len)) => {
            if (0xD800..0xDC00).contains(&v) {
                // A high surrogate: join it with the low one that follows.
                if let Some((Ref::Char(lo), len2)) = parse_reference(&s[len..])
                    && (0xDC00..0xE000).contains(&lo)
                {
                    let cp = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                    let _ = write!(out, "&#{cp};");
                    return (len + len2, true);
                }
                return (len, true);
            }
            if char::from_u32(v).is_some_and(is_xml_char) {
                // Also normalises `&#X41;`, which XML does not allow.
                let _ = write!(out, "&#{v};");
            }
            (len, true)
        }
        None => {
            out.push_str("&amp;");
            (1, false)
        }
    }
}

/// The text of an internal entity: its own references are kept if valid
/// (not expanded again), a bare `&` is escaped.
fn push_entity_value(out: &mut String, value: &str) {
    let mut rest = value;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        match parse_reference(&rest[p..]) {
            Some((_, len)) => {
                out.push_str(&rest[p..p + len]);
                rest = &rest[p + len..];
            }
            None => {
                out.push_str("&amp;");
                rest = &rest[p + 1..];
            }
        }
    }
    out.push_str(rest);
}

/// General entities declared with a literal value in a DOCTYPE's internal
/// subset. At most 64, each at most 1 KiB.
fn internal_entities(doctype: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = doctype;
    while let Some(p) = rest.find("<!ENTITY") {
        rest = &rest[p + "<!ENTITY".len()..];
        let decl = rest.trim_start();
        if decl.starts_with('%') {
            continue;
        }
        let name_end = decl.find(char::is_whitespace).unwrap_or(decl.len());
        let name = &decl[..name_end];
        let after = decl[name_end..].trim_start();
        let Some(q) = after.chars().next().filter(|&c| c == '"' || c == '\'') else {
            continue;
        };
        let Some(close) = after[1..].find(q) else {
            break;
        };
        let value = &after[1..1 + close];
        if !name.is_empty() && value.len() <= 1024 && found.len() < 64 {
            found.push((name.to_string(), value.to_string()));
        }
    }
    found
}

/// A parsed start tag: name and attributes in order.
struct Tag<'a> {
    name: &'a str,
    attrs: Vec<(String, String, char)>,
    self_closing: bool,
}

fn parse_tag(tag: &str) -> Option<Tag<'_>> {
    let inner = tag.strip_prefix('<')?.strip_suffix('>')?;
    let (inner, self_closing) = match inner.strip_suffix('/') {
        Some(x) => (x, true),
        None => (inner, false),
    };
    let name_end = inner
        .find(|c: char| c.is_whitespace())
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    let mut attrs = Vec::new();
    let mut rest = inner[name_end..].trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let q = after.chars().next()?;
        if q != '"' && q != '\'' {
            return None;
        }
        let close = after[1..].find(q)?;
        attrs.push((key.to_string(), after[1..1 + close].to_string(), q));
        rest = after[close + 2..].trim_start();
    }
    Some(Tag {
        name,
        attrs,
        self_closing,
    })
}

fn render_tag(t: &Tag<'_>) -> String {
    let mut s = format!("<{}", t.name);
    for (k, v, q) in &t.attrs {
        let _ = write!(s, " {k}={q}{v}{q}");
    }
    s.push_str(if t.self_closing { "/>" } else { ">" });
    s
}

/// Repairs the root start tag; `None` when nothing needed repair.
fn fix_root(tag: &str) -> Option<(String, Vec<&'static str>)> {
    let mut t = parse_tag(tag)?;
    let local = t
        .name
        .rsplit(':')
        .next()
        .unwrap_or(t.name)
        .to_ascii_lowercase();
    let mut what = Vec::new();
    match local.as_str() {
        "rss" => {
            let before = t.attrs.len();
            t.attrs.retain(|(k, _, _)| k != "xmlns");
            if t.attrs.len() != before {
                what.push("default namespace on <rss> removed");
            }
            match t.attrs.iter_mut().find(|(k, _, _)| k == "version") {
                Some((_, v, _)) => {
                    if !matches!(v.trim(), "2.0" | "0.91" | "0.92") {
                        *v = "2.0".into();
                        what.push("unknown RSS version read as 2.0");
                    }
                }
                None => {
                    t.attrs.push(("version".into(), "2.0".into(), '"'));
                    what.push("missing RSS version read as 2.0");
                }
            }
        }
        "rdf" => {
            for (k, v, _) in &mut t.attrs {
                if k == "xmlns" && v.trim() != RSS_10_NS {
                    *v = RSS_10_NS.into();
                    what.push("default namespace of rdf:RDF (RSS 0.90) read as RSS 1.0");
                }
            }
        }
        "feed" => {
            for (k, v, _) in &mut t.attrs {
                if (k == "xmlns" || k.starts_with("xmlns:")) && v.trim() == ATOM_03_NS {
                    *v = ATOM_10_NS.into();
                    what.push("Atom 0.3 namespace read as Atom 1.0");
                }
            }
        }
        _ => {}
    }
    (!what.is_empty()).then(|| (render_tag(&t), what))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        clean_xml(s).text
    }

    #[test]
    fn bare_ampersands_and_lt() {
        assert_eq!(
            c("<a>x & y &amp; &#38; &eacute; &#x41; &foo=1 1 < 2 <c/></a>"),
            "<a>x &amp; y &amp; &#38; &eacute; &#65; &amp;foo=1 1 &lt; 2 <c/></a>"
        );
        // A tag cut short by the next one is closed.
        assert_eq!(c("<a><b x=1 <c/></a>"), "<a><b x=1 ><c/></a>");
        assert_eq!(
            c(r#"<a href="/x?a=1&b=2&amp;c=3">t</a>"#),
            r#"<a href="/x?a=1&amp;b=2&amp;c=3">t</a>"#
        );
    }

    #[test]
    fn cdata_comments_doctype_untouched() {
        let doc = "<!DOCTYPE rss [<!ENTITY x \"&#38;\">]><a><![CDATA[a & b < c]]><!-- & < --></a>";
        assert_eq!(c(doc), doc);
    }

    #[test]
    fn declaration_and_junk_removed() {
        assert_eq!(
            c("\u{feff}  junk<?xml version=\"1.0\" encoding=\"windows-1251\"?><a/>"),
            "<a/>"
        );
    }

    #[test]
    fn invalid_chars_and_references() {
        assert_eq!(c("<a>x\u{1}y&#0;z&#x8;</a>"), "<a>xyz</a>");
        assert_eq!(c("<a>&#55357;&#56832;</a>"), "<a>&#128512;</a>");
    }

    #[test]
    fn internal_entities_expanded_once() {
        let doc = r#"<!DOCTYPE feed [<!ENTITY id "tag:ex.com,"><!ENTITY a "&id;&id;">]><feed><id>&id;1</id><t>&a;</t></feed>"#;
        let out = c(doc);
        assert!(
            out.ends_with("<feed><id>tag:ex.com,1</id><t>&id;&id;</t></feed>"),
            "{out}"
        );
        assert_eq!(c("<a>&#X41;</a>"), "<a>&#65;</a>");
    }

    #[test]
    fn itunes_and_media_namespaces_hidden() {
        assert_eq!(
            c(
                r#"<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><x xmlns:m='http://search.yahoo.com/mrss/'/></rss>"#
            ),
            r#"<rss version="2.0" xmlns:itunes="urn:x-secwire:itunes"><x xmlns:m='urn:x-secwire:mrss'/></rss>"#
        );
    }

    #[test]
    fn rss_root_repairs() {
        assert_eq!(
            c("<rss><channel/></rss>"),
            r#"<rss version="2.0"><channel/></rss>"#
        );
        assert_eq!(
            c(
                r#"<rss version="0.94" xmlns="http://backend.userland.com/rss2" xmlns:dc="http://purl.org/dc/elements/1.1/">"#
            ),
            r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">"#
        );
        assert_eq!(
            c(r#"<rss version="2.0"><x/></rss>"#),
            r#"<rss version="2.0"><x/></rss>"#
        );
    }

    #[test]
    fn old_namespaces_mapped() {
        assert_eq!(
            c(r#"<feed xmlns="http://purl.org/atom/ns#" version="0.3">"#),
            r#"<feed xmlns="http://www.w3.org/2005/Atom" version="0.3">"#
        );
        assert_eq!(
            c(
                r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">"#
            ),
            r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">"#
        );
    }
}
