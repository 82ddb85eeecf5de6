//! A linear pre-pass over the raw HTML, before html5ever sees it.
//!
//! Three jobs:
//!
//! * **Bound the work.** html5ever's tree builder checks element scopes by
//!   walking its stack of open elements, so a document of `n` nested elements
//!   costs it O(n²). The pre-pass keeps its own (bounded) stack of open
//!   elements and drops start tags, with their end tags, beyond
//!   [`MAX_DEPTH`]: the text stays, the structure is flattened. Absurdly large
//!   inputs are cut at [`MAX_INPUT_BYTES`].
//! * **Save parsing time.** Scripts, styles, `<noscript>`, `<template>`,
//!   `<svg>`, `<iframe>` contents and comments never hold article text but
//!   are half the bytes of a modern page; they are cut here, and attribute
//!   values over [`MAX_ATTR_BYTES`] (inline `data:` images) are dropped.
//! * **Keep what metadata needs.** The text of JSON-LD scripts is returned
//!   on the side.
//!
//! The scanner follows the HTML tokenizer closely enough for these jobs:
//! comments, raw-text elements (`script`, `style`, ...), escapable raw text
//! (`title`, `textarea`) and quoted attribute values are recognised; what it
//! gets wrong on malformed markup only costs structure, never text.

use memchr::{memchr, memmem};

/// Deepest element nesting passed to the parser. Real pages stay well below
/// 100; hostile ones are flattened here.
pub const MAX_DEPTH: usize = 192;
/// Inputs are cut to this many bytes (on a character boundary).
pub const MAX_INPUT_BYTES: usize = 24 << 20;
/// Attribute values longer than this are dropped (a tag is only rewritten
/// when it is longer than this).
pub const MAX_ATTR_BYTES: usize = 2048;

/// The page, ready for the parser, plus what was lifted out of it.
#[derive(Debug, Default)]
pub struct Prepared {
    pub html: String,
    /// Text of every `<script type="application/ld+json">`, in order.
    pub json_ld: Vec<String>,
    /// The input was longer than [`MAX_INPUT_BYTES`] and was cut.
    pub truncated: bool,
    /// Start tags dropped because they were nested deeper than [`MAX_DEPTH`].
    pub dropped_tags: usize,
}

/// Elements whose content is dropped together with the element.
const DROP_WITH_CONTENT: &[&[u8]] = &[
    b"script",
    b"style",
    b"noscript",
    b"template",
    b"svg",
    b"iframe",
    b"noembed",
    b"noframes",
    b"object",
];
/// Elements whose content is text up to the end tag; kept as they are.
const KEEP_RAW: &[&[u8]] = &[b"title", b"textarea", b"xmp"];
/// Void elements: no end tag, no nesting.
const VOID: &[&[u8]] = &[
    b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta", b"param",
    b"source", b"track", b"wbr", b"keygen", b"image",
];
/// Elements whose end tag is optional or that the tree builder closes
/// implicitly; they never count towards the depth (and are never dropped).
const IMPLIED_END: &[&[u8]] = &[
    b"p",
    b"li",
    b"dt",
    b"dd",
    b"option",
    b"optgroup",
    b"tr",
    b"td",
    b"th",
    b"thead",
    b"tbody",
    b"tfoot",
    b"rb",
    b"rt",
    b"rtc",
    b"rp",
    b"colgroup",
    b"caption",
    b"html",
    b"head",
    b"body",
];

fn is_one_of(name: &[u8], set: &[&[u8]]) -> bool {
    set.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// Prepares `input` for parsing. Linear in the input size.
pub fn prepare(input: &str) -> Prepared {
    let mut truncated = false;
    let input = if input.len() > MAX_INPUT_BYTES {
        truncated = true;
        let mut cut = MAX_INPUT_BYTES;
        while !input.is_char_boundary(cut) {
            cut -= 1;
        }
        &input[..cut]
    } else {
        input
    };
    let mut s = Scanner {
        src: input,
        b: input.as_bytes(),
        out: String::with_capacity(input.len() / 2 + 64),
        copied: 0,
        json_ld: Vec::new(),
        stack: Vec::new(),
        dropped: Vec::new(),
        dropped_tags: 0,
    };
    s.run();
    Prepared {
        html: s.out,
        json_ld: s.json_ld,
        truncated,
        dropped_tags: s.dropped_tags,
    }
}

struct Scanner<'a> {
    src: &'a str,
    b: &'a [u8],
    out: String,
    /// Input before this offset has been copied to `out` (or skipped).
    copied: usize,
    json_ld: Vec<String>,
    /// Open elements (lower-case names), at most [`MAX_DEPTH`].
    stack: Vec<Box<[u8]>>,
    /// Start tags dropped for depth, per name, whose end tags are still due.
    dropped: Vec<(Box<[u8]>, usize)>,
    dropped_tags: usize,
}

/// A parsed tag: name range and the offset just past its `>`.
struct TagInfo {
    name_start: usize,
    name_end: usize,
    end: usize,
}

impl<'a> Scanner<'a> {
    /// Copies input up to `pos` into the output.
    fn flush_to(&mut self, pos: usize) {
        if pos > self.copied {
            self.out.push_str(&self.src[self.copied..pos]);
        }
        self.copied = self.copied.max(pos);
    }

    /// Skips input from the current copy point up to `pos` (nothing copied).
    fn skip_to(&mut self, pos: usize) {
        self.copied = self.copied.max(pos);
    }

    fn run(&mut self) {
        let len = self.b.len();
        let mut i = 0;
        while i < len {
            let Some(off) = memchr(b'<', &self.b[i..]) else {
                break;
            };
            let lt = i + off;
            let next = self.b.get(lt + 1).copied().unwrap_or(0);
            i = match next {
                b'!' => self.markup_declaration(lt),
                b'/' => self.end_tag(lt),
                c if c.is_ascii_alphabetic() => self.start_tag(lt),
                b'?' => {
                    // A processing instruction is a bogus comment: drop it.
                    let end = memchr(b'>', &self.b[lt..]).map_or(len, |p| lt + p + 1);
                    self.flush_to(lt);
                    self.skip_to(end);
                    end
                }
                _ => lt + 1,
            };
        }
        self.flush_to(len);
    }

    /// `<!--…-->` is dropped; `<!DOCTYPE …>` and other declarations are kept.
    fn markup_declaration(&mut self, lt: usize) -> usize {
        let len = self.b.len();
        if self.b[lt..].starts_with(b"<!--") {
            let body = lt + 4;
            // `<!-->` and `<!--->` are complete (empty) comments.
            let end = if self.b[body..].starts_with(b">") {
                body + 1
            } else if self.b[body..].starts_with(b"->") {
                body + 2
            } else {
                memmem::find(&self.b[body..], b"-->").map_or(len, |p| body + p + 3)
            };
            self.flush_to(lt);
            self.skip_to(end);
            return end;
        }
        memchr(b'>', &self.b[lt..]).map_or(len, |p| lt + p + 1)
    }

    /// Finds the end of a tag that starts at `lt` (quotes respected).
    fn parse_tag(&self, lt: usize, name_start: usize) -> TagInfo {
        let b = self.b;
        let len = b.len();
        let mut j = name_start;
        while j < len && !matches!(b[j], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>') {
            j += 1;
        }
        let name_end = j;
        // Attributes: quotes only matter right after `=`.
        let mut after_eq = false;
        while j < len {
            match b[j] {
                b'>' => {
                    return TagInfo {
                        name_start,
                        name_end,
                        end: j + 1,
                    };
                }
                b'=' => after_eq = true,
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {}
                q @ (b'"' | b'\'') if after_eq => {
                    after_eq = false;
                    match memchr(q, &b[j + 1..]) {
                        Some(p) => j += p + 1,
                        None => j = len,
                    }
                }
                _ => after_eq = false,
            }
            j += 1;
        }
        let _ = lt;
        TagInfo {
            name_start,
            name_end,
            end: len,
        }
    }

    fn start_tag(&mut self, lt: usize) -> usize {
        let t = self.parse_tag(lt, lt + 1);
        let name = &self.b[t.name_start..t.name_end];
        let tag_bytes = &self.b[lt..t.end];

        if is_one_of(name, DROP_WITH_CONTENT) {
            let lname = name.to_ascii_lowercase();
            let content_end = self.find_end_tag(t.end, &lname);
            if lname == b"script" && contains_ignore_case(tag_bytes, b"ld+json") {
                let (c_end, _) = content_end;
                self.json_ld.push(self.src[t.end..c_end].to_string());
            }
            self.flush_to(lt);
            self.skip_to(content_end.1);
            return content_end.1;
        }
        if is_one_of(name, KEEP_RAW) {
            let lname = name.to_ascii_lowercase();
            let (_, after) = self.find_end_tag(t.end, &lname);
            self.emit_tag(lt, &t);
            return after;
        }
        if name.eq_ignore_ascii_case(b"plaintext") {
            self.emit_tag(lt, &t);
            return self.b.len();
        }
        if is_one_of(name, VOID) || is_one_of(name, IMPLIED_END) {
            self.emit_tag(lt, &t);
            return t.end;
        }
        // `<math/>`-style self-closing syntax only matters in foreign content;
        // nesting there is rare and bounded by the same stack anyway.
        let lname: Box<[u8]> = name.to_ascii_lowercase().into_boxed_slice();
        if self.stack.len() >= MAX_DEPTH {
            self.flush_to(lt);
            self.skip_to(t.end);
            self.dropped_tags += 1;
            match self.dropped.iter_mut().find(|(n, _)| *n == lname) {
                Some((_, c)) => *c += 1,
                None => self.dropped.push((lname, 1)),
            }
            return t.end;
        }
        self.stack.push(lname);
        self.emit_tag(lt, &t);
        t.end
    }

    fn end_tag(&mut self, lt: usize) -> usize {
        let name_start = lt + 2;
        if !self
            .b
            .get(name_start)
            .is_some_and(|c| c.is_ascii_alphabetic())
        {
            // `</>` is dropped by the tokenizer, `</ x>` is a bogus comment;
            // both are harmless to pass on.
            return lt + 2;
        }
        let t = self.parse_tag(lt, name_start);
        let name = &self.b[t.name_start..t.name_end];
        if let Some(pos) = self
            .dropped
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            self.flush_to(lt);
            self.skip_to(t.end);
            let entry = &mut self.dropped[pos];
            entry.1 -= 1;
            if entry.1 == 0 {
                self.dropped.swap_remove(pos);
            }
            return t.end;
        }
        if let Some(k) = self
            .stack
            .iter()
            .rposition(|n| n.eq_ignore_ascii_case(name))
        {
            self.stack.truncate(k);
        }
        t.end
    }

    /// Copies a tag, rewriting it without over-long attribute values.
    fn emit_tag(&mut self, lt: usize, t: &TagInfo) {
        if t.end - lt <= MAX_ATTR_BYTES {
            return; // copied as it is with the surrounding text
        }
        self.flush_to(lt);
        let src = self.src;
        let b = self.b;
        self.out.push('<');
        self.out.push_str(&src[t.name_start..t.name_end]);
        // Re-scan the attributes, keeping the short ones.
        let stop = if b.get(t.end.wrapping_sub(1)) == Some(&b'>') {
            t.end - 1
        } else {
            t.end
        };
        let mut j = t.name_end;
        while j < stop {
            while j < stop && matches!(b[j], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/') {
                j += 1;
            }
            let a0 = j;
            while j < stop && !matches!(b[j], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'=' | b'/')
            {
                j += 1;
            }
            let a1 = j;
            while j < stop && matches!(b[j], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') {
                j += 1;
            }
            let mut v = None;
            if j < stop && b[j] == b'=' {
                j += 1;
                while j < stop && matches!(b[j], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') {
                    j += 1;
                }
                let v0 = j;
                if j < stop && (b[j] == b'"' || b[j] == b'\'') {
                    let q = b[j];
                    j = memchr(q, &b[j + 1..stop]).map_or(stop, |p| j + 1 + p + 1);
                } else {
                    while j < stop && !matches!(b[j], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') {
                        j += 1;
                    }
                }
                v = Some(v0..j);
            }
            if a1 == a0 {
                if j == a0 {
                    j += 1; // a stray character; move on
                }
                continue;
            }
            let keep = v.as_ref().is_none_or(|r| r.len() <= MAX_ATTR_BYTES);
            if keep {
                self.out.push(' ');
                self.out.push_str(&src[a0..a1]);
                if let Some(r) = v {
                    self.out.push('=');
                    let raw = &src[r];
                    if raw.starts_with(['"', '\'']) && raw.len() >= 2 && raw.ends_with(&raw[..1]) {
                        self.out.push_str(raw);
                    } else {
                        self.out.push('"');
                        self.out.push_str(&raw.replace('"', "&quot;"));
                        self.out.push('"');
                    }
                }
            }
        }
        self.out.push('>');
        self.skip_to(t.end);
    }

    /// Finds `</name` (case-insensitive) at or after `from`; returns the
    /// offset where it starts and the offset just past its `>` (both the
    /// input length when it is missing).
    fn find_end_tag(&self, from: usize, lname: &[u8]) -> (usize, usize) {
        let b = self.b;
        let len = b.len();
        let mut i = from;
        while i < len {
            let Some(p) = memmem::find(&b[i..], b"</") else {
                return (len, len);
            };
            let at = i + p;
            let n0 = at + 2;
            let n1 = n0 + lname.len();
            if n1 <= len
                && b[n0..n1].eq_ignore_ascii_case(lname)
                && b.get(n1).is_none_or(|c| {
                    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>')
                })
            {
                let end = memchr(b'>', &b[n1..]).map_or(len, |q| n1 + q + 1);
                return (at, end);
            }
            i = at + 2;
        }
        (len, len)
    }
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_scripts_styles_comments_keeps_json_ld() {
        let p = prepare(
            r#"<html><head><title>a < b</title><script>if (a<b) {x="</p>"}</script>
            <script type="application/ld+json">{"@type":"NewsArticle"}</script>
            <STYLE>p{}</STYLE></head><body><!-- <p>hidden</p> --><p>text</p>
            <svg><text>icon</text></svg><noscript><p>no js</p></noscript></body></html>"#,
        );
        assert!(p.html.contains("<title>a < b</title>"));
        assert!(!p.html.contains("if (a<b)"));
        assert!(!p.html.contains("p{}"));
        assert!(!p.html.contains("hidden"));
        assert!(!p.html.contains("icon"));
        assert!(!p.html.contains("no js"));
        assert!(p.html.contains("<p>text</p>"));
        assert_eq!(p.json_ld, vec![r#"{"@type":"NewsArticle"}"#]);
    }

    #[test]
    fn caps_nesting_depth_and_keeps_text() {
        let mut html = String::new();
        for _ in 0..1000 {
            html.push_str("<div>");
        }
        html.push_str("deep text");
        for _ in 0..1000 {
            html.push_str("</div>");
        }
        html.push_str("<p>after</p>");
        let p = prepare(&html);
        assert_eq!(p.html.matches("<div>").count(), MAX_DEPTH);
        assert_eq!(p.html.matches("</div>").count(), MAX_DEPTH);
        assert_eq!(p.dropped_tags, 1000 - MAX_DEPTH);
        assert!(p.html.contains("deep text"));
        assert!(p.html.ends_with("<p>after</p>"));
    }

    #[test]
    fn long_attribute_values_are_dropped() {
        let big = "A".repeat(MAX_ATTR_BYTES + 10);
        let html =
            format!(r#"<p class="x"><img src="data:image/png;base64,{big}" alt='a "b"'>t</p>"#);
        let p = prepare(&html);
        assert_eq!(p.html, r#"<p class="x"><img alt='a "b"'>t</p>"#);
    }

    #[test]
    fn unterminated_constructs_do_not_panic() {
        for s in [
            "<",
            "<!",
            "<!--",
            "<!-- x",
            "<a href=\"x",
            "<script>x",
            "</",
            "</a",
            "<p/",
            "<!-->",
            "é<",
            "<\u{e9}",
            "<a b='\u{e9}",
            "<title>x",
            "</>",
            "<?x",
        ] {
            let p = prepare(s);
            assert!(p.html.len() <= s.len() + 2, "{s:?} -> {:?}", p.html);
        }
    }

    #[test]
    fn truncates_huge_input_on_char_boundary() {
        let s = "é".repeat(MAX_INPUT_BYTES / 2 + 3);
        let p = prepare(&s);
        assert!(p.truncated);
        assert!(p.html.len() <= MAX_INPUT_BYTES);
    }
}
