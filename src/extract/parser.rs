//! A fast HTML parser straight into the flat [`Dom`].
//!
//! html5ever builds a spec-exact tree but costs most of an extraction's
//! time; article extraction needs the text in order and a sensible
//! element structure, not the exact tree of every malformed page. This
//! parser is a single linear pass:
//!
//! * a tokenizer for text (entities decoded with the HTML entity table),
//!   start tags with attributes, end tags, comments, doctypes, raw text
//!   (`script`, `style`, ...) and escapable raw text (`title`, `textarea`);
//! * a tree builder with the rules that shape real pages: void elements,
//!   implied end tags (`p`, `li`, `dd`/`dt`, table rows and cells,
//!   headings, `option`), end tags matched within their scope, formatting
//!   elements closed by their end tag, `head` / `body` placement, and the
//!   depth cap of [`MAX_DEPTH`](super::prepass::MAX_DEPTH).
//!
//! Left out on purpose: the adoption agency's cloning of misnested
//! formatting elements and foster parenting of text inside tables (text
//! stays where it was written). Both change structure, not text.

use std::borrow::Cow;

use html5ever::data::{C1_REPLACEMENTS, NAMED_ENTITIES};
use memchr::{memchr, memmem};

use super::dom::{Dom, DomNode, Tag};
use super::prepass::MAX_DEPTH;

/// The builder's own depth cap; input from the pre-pass stays below it
/// (the pre-pass does not count elements with optional end tags).
const BUILDER_MAX_DEPTH: usize = MAX_DEPTH * 2 + 32;

/// Parses a whole document.
pub fn parse_document(html: &str) -> Dom<'_> {
    let mut b = Builder::new();
    Tokenizer {
        src: html,
        b: html.as_bytes(),
        pos: 0,
    }
    .run(&mut b);
    b.finish()
}

// ---------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------

struct Tokenizer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

type Attrs<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

impl<'a> Tokenizer<'a> {
    fn run(&mut self, b: &mut Builder<'a>) {
        let len = self.b.len();
        while self.pos < len {
            let start = self.pos;
            let Some(off) = memchr(b'<', &self.b[start..]) else {
                b.text(decode(&self.src[start..], false));
                break;
            };
            let lt = start + off;
            let next = self.b.get(lt + 1).copied().unwrap_or(0);
            let is_markup = next == b'!'
                || next == b'?'
                || next.is_ascii_alphabetic()
                || (next == b'/'
                    && self
                        .b
                        .get(lt + 2)
                        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'>'));
            if !is_markup {
                // A literal '<': text up to and including it.
                b.text(decode(&self.src[start..lt + 1], false));
                self.pos = lt + 1;
                continue;
            }
            if lt > start {
                b.text(decode(&self.src[start..lt], false));
            }
            match next {
                b'!' => self.markup_declaration(lt),
                b'?' => self.skip_past(lt, b'>'),
                b'/' => self.end_tag(lt, b),
                _ => self.start_tag(lt, b),
            }
        }
    }

    fn skip_past(&mut self, from: usize, c: u8) {
        self.pos = memchr(c, &self.b[from..]).map_or(self.b.len(), |p| from + p + 1);
    }

    fn markup_declaration(&mut self, lt: usize) {
        let rest = &self.b[lt..];
        if rest.starts_with(b"<!--") {
            let body = lt + 4;
            self.pos = if self.b[body..].starts_with(b">") {
                body + 1
            } else if self.b[body..].starts_with(b"->") {
                body + 2
            } else {
                memmem::find(&self.b[body..], b"-->").map_or(self.b.len(), |p| body + p + 3)
            };
        } else {
            self.skip_past(lt, b'>');
        }
    }

    /// Reads a tag name starting at `from`; returns (lower-cased name, end).
    fn tag_name(&self, from: usize) -> (Cow<'a, str>, usize) {
        let b = self.b;
        let mut j = from;
        while j < b.len() && !is_ws(b[j]) && b[j] != b'/' && b[j] != b'>' {
            j += 1;
        }
        (lower(&self.src[from..j]), j)
    }

    fn end_tag(&mut self, lt: usize, b: &mut Builder<'a>) {
        if self.b.get(lt + 2) == Some(&b'>') {
            self.pos = lt + 3; // `</>` is ignored
            return;
        }
        let (name, j) = self.tag_name(lt + 2);
        self.skip_past(j, b'>');
        b.end_tag(&name);
    }

    fn start_tag(&mut self, lt: usize, b: &mut Builder<'a>) {
        let (name, mut j) = self.tag_name(lt + 1);
        let bytes = self.b;
        let len = bytes.len();
        let mut attrs: Attrs<'a> = Vec::new();
        let mut self_closing = false;
        loop {
            while j < len && (is_ws(bytes[j]) || bytes[j] == b'/') {
                self_closing = bytes[j] == b'/';
                j += 1;
            }
            if j >= len {
                break;
            }
            if bytes[j] == b'>' {
                j += 1;
                break;
            }
            self_closing = false;
            let n0 = j;
            j += 1; // a name may start with '='
            while j < len && !is_ws(bytes[j]) && !matches!(bytes[j], b'/' | b'>' | b'=') {
                j += 1;
            }
            let n1 = j;
            while j < len && is_ws(bytes[j]) {
                j += 1;
            }
            let mut value: Cow<'a, str> = Cow::Borrowed("");
            if j < len && bytes[j] == b'=' {
                j += 1;
                while j < len && is_ws(bytes[j]) {
                    j += 1;
                }
                if j < len && (bytes[j] == b'"' || bytes[j] == b'\'') {
                    let q = bytes[j];
                    let v0 = j + 1;
                    let v1 = memchr(q, &bytes[v0..]).map_or(len, |p| v0 + p);
                    value = decode(&self.src[v0..v1], true);
                    j = (v1 + 1).min(len);
                } else {
                    let v0 = j;
                    while j < len && !is_ws(bytes[j]) && bytes[j] != b'>' {
                        j += 1;
                    }
                    value = decode(&self.src[v0..j], true);
                }
            } else {
                // Not an attribute with a value: rewind over the spaces so
                // that the next name starts right.
                j = n1;
            }
            let aname = lower(&self.src[n0..n1]);
            if !attrs.iter().any(|(k, _)| *k == aname) {
                attrs.push((aname, value));
            }
        }
        self.pos = j.min(len);
        let tag = Tag::from_name(&name);
        b.start_tag(tag, name.clone(), attrs, self_closing);
        // Raw text and escapable raw text.
        let raw = match &*name {
            "script" | "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                Some(false)
            }
            "title" | "textarea" => Some(true),
            "plaintext" => {
                b.text(Cow::Borrowed(&self.src[self.pos..]));
                self.pos = len;
                return;
            }
            _ => None,
        };
        if let Some(escapable) = raw {
            let from = self.pos;
            let (c_end, after) = find_end_tag(bytes, from, name.as_bytes());
            if c_end > from {
                let t = &self.src[from..c_end];
                b.text(if escapable {
                    decode(t, false)
                } else {
                    Cow::Borrowed(t)
                });
            }
            b.end_tag(&name);
            self.pos = after;
        }
    }
}

fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|c| c.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Finds `</name` at or after `from` (case-insensitive): (its start, just
/// past its `>`), or the end of input twice.
fn find_end_tag(b: &[u8], from: usize, name: &[u8]) -> (usize, usize) {
    let len = b.len();
    let mut i = from;
    while i < len {
        let Some(p) = memmem::find(&b[i..], b"</") else {
            return (len, len);
        };
        let at = i + p;
        let n1 = at + 2 + name.len();
        if n1 <= len
            && b[at + 2..n1].eq_ignore_ascii_case(name)
            && b.get(n1)
                .is_none_or(|c| is_ws(*c) || *c == b'/' || *c == b'>')
        {
            let end = memchr(b'>', &b[n1..]).map_or(len, |q| n1 + q + 1);
            return (at, end);
        }
        i = at + 2;
    }
    (len, len)
}

/// Decodes character references (`&amp;`, `&#8217;`, `&eacute`) in text or
/// an attribute value.
pub fn decode(s: &str, in_attr: bool) -> Cow<'_, str> {
    let b = s.as_bytes();
    let Some(first) = memchr(b'&', b) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut i = first;
    while i < b.len() {
        if b[i] != b'&' {
            match memchr(b'&', &b[i..]) {
                Some(p) => i += p,
                None => break,
            }
            continue;
        }
        if let Some((decoded, used)) = reference(&b[i + 1..], in_attr) {
            out.push_str(&s[copied..i]);
            out.push(decoded.0);
            if let Some(c2) = decoded.1 {
                out.push(c2);
            }
            i += 1 + used;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

/// One character reference after its `&`: the characters and the number of
/// bytes used.
fn reference(b: &[u8], in_attr: bool) -> Option<((char, Option<char>), usize)> {
    if b.first() == Some(&b'#') {
        let (hex, start) = match b.get(1) {
            Some(b'x' | b'X') => (true, 2),
            _ => (false, 1),
        };
        let mut j = start;
        let mut v: u32 = 0;
        while j < b.len() && j - start < 10 {
            let d = if hex {
                (b[j] as char).to_digit(16)
            } else {
                (b[j] as char).to_digit(10)
            };
            let Some(d) = d else { break };
            v = v
                .saturating_mul(if hex { 16 } else { 10 })
                .saturating_add(d);
            j += 1;
        }
        if j == start {
            return None;
        }
        while j < b.len() && (b[j] as char).is_ascii_hexdigit() {
            j += 1; // absurdly long numbers: swallowed, decoded as U+FFFD
            v = u32::MAX;
        }
        if b.get(j) == Some(&b';') {
            j += 1;
        }
        let c = match v {
            0 => '\u{FFFD}',
            0x80..=0x9F => C1_REPLACEMENTS[(v - 0x80) as usize].unwrap_or('\u{FFFD}'),
            v => char::from_u32(v).unwrap_or('\u{FFFD}'),
        };
        return Some(((c, None), j));
    }
    let mut j = 0;
    while j < b.len() && j < 32 && b[j].is_ascii_alphanumeric() {
        j += 1;
    }
    if j == 0 {
        return None;
    }
    let name = std::str::from_utf8(&b[..j]).ok()?;
    let to_chars = |(c1, c2): (u32, u32)| {
        let c1 = char::from_u32(c1)?;
        let c2 = if c2 == 0 { None } else { char::from_u32(c2) };
        Some((c1, c2))
    };
    if b.get(j) == Some(&b';') {
        let mut key = String::with_capacity(j + 1);
        key.push_str(name);
        key.push(';');
        // The table also holds every prefix of a name, valued (0, 0).
        if let Some(&v) = NAMED_ENTITIES.get(key.as_str())
            && v.0 != 0
        {
            return Some((to_chars(v)?, j + 1));
        }
    }
    // Legacy references without a semicolon (`&amp`, `&eacute`): the longest
    // known prefix.
    for k in (2..=j.min(8)).rev() {
        let prefix = &name[..k];
        if let Some(&v) = NAMED_ENTITIES.get(prefix)
            && v.0 != 0
        {
            if in_attr
                && b.get(k)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'=')
            {
                return None;
            }
            return Some((to_chars(v)?, k));
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Tree builder
// ---------------------------------------------------------------------------

#[derive(PartialEq, Eq, Clone, Copy)]
enum Mode {
    BeforeBody,
    InHead,
    InBody,
}

struct Builder<'a> {
    dom: Dom<'a>,
    /// Open elements (indices); `stack[0]` is the `html` root.
    stack: Vec<u32>,
    /// Names of open `Tag::Other` elements, to match their end tags.
    other_names: Vec<(u32, Cow<'a, str>)>,
    mode: Mode,
    body: Option<u32>,
    head: Option<u32>,
    /// Open `svg`/`math` elements (self-closing tags count there).
    foreign: usize,
}

/// Elements that close an open `p`.
fn closes_p(t: Tag) -> bool {
    use Tag::*;
    matches!(
        t,
        Address
            | Article
            | Aside
            | Blockquote
            | Center
            | Details
            | Dialog
            | Div
            | Dl
            | Fieldset
            | Figcaption
            | Figure
            | Footer
            | Header
            | Hgroup
            | Main
            | Menu
            | Nav
            | Ol
            | P
            | Section
            | Summary
            | Ul
            | H1
            | H2
            | H3
            | H4
            | H5
            | H6
            | Pre
            | Form
            | Table
            | Hr
    )
}

fn is_void(t: Tag) -> bool {
    use Tag::*;
    matches!(
        t,
        Br | Hr | Img | Input | Link | Meta | Col | Embed | Source | Wbr
    )
}

/// "Special" elements in the spec's sense: a generic end tag does not
/// close past them.
fn is_special(t: Tag) -> bool {
    use Tag::*;
    matches!(
        t,
        Address
            | Article
            | Aside
            | Blockquote
            | Body
            | Button
            | Caption
            | Center
            | Col
            | Colgroup
            | Dd
            | Details
            | Dialog
            | Div
            | Dl
            | Dt
            | Fieldset
            | Figcaption
            | Figure
            | Footer
            | Form
            | H1
            | H2
            | H3
            | H4
            | H5
            | H6
            | Head
            | Header
            | Hgroup
            | Html
            | Iframe
            | Li
            | Main
            | Menu
            | Nav
            | Object
            | Ol
            | P
            | Pre
            | Section
            | Select
            | Summary
            | Table
            | Tbody
            | Td
            | Template
            | Textarea
            | Tfoot
            | Th
            | Thead
            | Title
            | Tr
            | Ul
    )
}

fn is_formatting(t: Tag) -> bool {
    use Tag::*;
    matches!(
        t,
        A | B | Big | Code | Em | Font | I | S | Small | Strong | Tt | U
    )
}

/// Boundaries of the default scope.
fn scope_boundary(t: Tag) -> bool {
    matches!(
        t,
        Tag::Html | Tag::Table | Tag::Td | Tag::Th | Tag::Caption | Tag::Template | Tag::Object
    )
}

fn is_head_content(t: Tag) -> bool {
    matches!(
        t,
        Tag::Meta
            | Tag::Title
            | Tag::Link
            | Tag::Style
            | Tag::Script
            | Tag::Noscript
            | Tag::Template
    )
}

impl<'a> Builder<'a> {
    fn new() -> Builder<'a> {
        let mut dom = Dom::default();
        dom.nodes.push(DomNode {
            tag: Tag::Html,
            parent: 0,
            end: 1,
            text: Cow::Borrowed(""),
            attrs: 0..0,
        });
        Builder {
            dom,
            stack: vec![0],
            other_names: Vec::new(),
            mode: Mode::BeforeBody,
            body: None,
            head: None,
            foreign: 0,
        }
    }

    fn current(&self) -> u32 {
        self.stack.last().copied().unwrap_or(0)
    }

    fn tag_at(&self, k: usize) -> Tag {
        self.dom.nodes[self.stack[k] as usize].tag
    }

    fn append(&mut self, tag: Tag, attrs: Attrs<'a>) -> u32 {
        let idx = self.dom.nodes.len() as u32;
        let a0 = self.dom.attrs.len() as u32;
        self.dom.attrs.extend(attrs);
        let a1 = self.dom.attrs.len() as u32;
        self.dom.nodes.push(DomNode {
            tag,
            parent: self.current(),
            end: idx + 1,
            text: Cow::Borrowed(""),
            attrs: a0..a1,
        });
        idx
    }

    fn push(&mut self, idx: u32) {
        self.stack.push(idx);
    }

    /// Pops the top element (never the root), closing its range.
    fn pop(&mut self) {
        if self.stack.len() <= 1 {
            return;
        }
        if let Some(idx) = self.stack.pop() {
            let end = self.dom.nodes.len() as u32;
            self.dom.nodes[idx as usize].end = end;
            if self.dom.nodes[idx as usize].tag == Tag::Other {
                self.other_names.retain(|(i, _)| *i != idx);
            }
            if matches!(self.dom.nodes[idx as usize].tag, Tag::Svg | Tag::Math) {
                self.foreign = self.foreign.saturating_sub(1);
            }
        }
    }

    /// Pops up to and including stack position `k`.
    fn pop_to(&mut self, k: usize) {
        while self.stack.len() > k.max(1) {
            self.pop();
        }
    }

    /// Position of the topmost open `tag` in scope (stopping at the
    /// boundaries of the default scope, plus `extra`).
    fn in_scope(&self, pred: impl Fn(Tag) -> bool, extra: impl Fn(Tag) -> bool) -> Option<usize> {
        for k in (1..self.stack.len()).rev() {
            let t = self.tag_at(k);
            if pred(t) {
                return Some(k);
            }
            if scope_boundary(t) || extra(t) {
                return None;
            }
        }
        None
    }

    fn close_p(&mut self) {
        if let Some(k) = self.in_scope(|t| t == Tag::P, |t| t == Tag::Button) {
            self.pop_to(k);
        }
    }

    fn ensure_body(&mut self) {
        if self.mode == Mode::InBody {
            return;
        }
        if self.mode == Mode::InHead {
            self.pop_to(1);
        }
        if self.body.is_none() {
            self.pop_to(1);
            let b = self.append(Tag::Body, Vec::new());
            self.push(b);
            self.body = Some(b);
        }
        self.mode = Mode::InBody;
    }

    fn text(&mut self, t: Cow<'a, str>) {
        if t.is_empty() {
            return;
        }
        if self.mode != Mode::InBody {
            if t.trim().is_empty() {
                return;
            }
            let cur = self.dom.nodes[self.current() as usize].tag;
            if self.mode == Mode::InHead
                && matches!(
                    cur,
                    Tag::Title | Tag::Script | Tag::Style | Tag::Noscript | Tag::Template
                )
            {
                // Raw text of a head element (sent right after its start tag).
            } else {
                self.ensure_body();
            }
        }
        let cur = self.current();
        // Merge with a text node that is the current element's last child.
        if let Some(last) = self.dom.nodes.last_mut()
            && last.tag == Tag::Text
            && last.parent == cur
        {
            last.text.to_mut().push_str(&t);
            return;
        }
        let idx = self.dom.nodes.len() as u32;
        self.dom.nodes.push(DomNode {
            tag: Tag::Text,
            parent: cur,
            end: idx + 1,
            text: t,
            attrs: 0..0,
        });
    }

    fn start_tag(&mut self, tag: Tag, name: Cow<'a, str>, attrs: Attrs<'a>, self_closing: bool) {
        match tag {
            Tag::Html => {
                // Attributes of <html> (lang) go on the root.
                if self.dom.nodes[0].attrs.is_empty() {
                    let a0 = self.dom.attrs.len() as u32;
                    self.dom.attrs.extend(attrs);
                    self.dom.nodes[0].attrs = a0..self.dom.attrs.len() as u32;
                }
                return;
            }
            Tag::Head => {
                if self.mode == Mode::BeforeBody && self.head.is_none() {
                    let h = self.append(Tag::Head, attrs);
                    self.push(h);
                    self.head = Some(h);
                    self.mode = Mode::InHead;
                }
                return;
            }
            Tag::Body => {
                if self.body.is_none() {
                    if self.mode == Mode::InHead {
                        self.pop_to(1);
                    }
                    self.pop_to(1);
                    let b = self.append(Tag::Body, attrs);
                    self.push(b);
                    self.body = Some(b);
                }
                self.mode = Mode::InBody;
                return;
            }
            _ => {}
        }
        if self.mode != Mode::InBody {
            if is_head_content(tag) {
                if self.mode == Mode::BeforeBody {
                    let h = self.append(Tag::Head, Vec::new());
                    self.push(h);
                    self.head = Some(h);
                    self.mode = Mode::InHead;
                }
            } else {
                self.ensure_body();
            }
        }
        let foreign = self.foreign > 0;
        if !foreign {
            self.implied_closes(tag);
        }
        let idx = self.append(tag, attrs);
        let leaf = is_void(tag) || (self_closing && foreign);
        if leaf || self.stack.len() >= BUILDER_MAX_DEPTH {
            return;
        }
        if tag == Tag::Other {
            // The name is needed to match the end tag.
            self.other_names.push((idx, name));
        }
        if matches!(tag, Tag::Svg | Tag::Math) {
            self.foreign += 1;
        }
        self.push(idx);
    }

    /// Closes what a start tag of `tag` implicitly ends.
    fn implied_closes(&mut self, tag: Tag) {
        use Tag::*;
        match tag {
            Li => {
                for k in (1..self.stack.len()).rev() {
                    let t = self.tag_at(k);
                    if t == Li {
                        self.pop_to(k);
                        break;
                    }
                    if is_special(t) && !matches!(t, Address | Div | P) {
                        break;
                    }
                }
                self.close_p();
            }
            Dd | Dt => {
                for k in (1..self.stack.len()).rev() {
                    let t = self.tag_at(k);
                    if matches!(t, Dd | Dt) {
                        self.pop_to(k);
                        break;
                    }
                    if is_special(t) && !matches!(t, Address | Div | P) {
                        break;
                    }
                }
                self.close_p();
            }
            H1 | H2 | H3 | H4 | H5 | H6 => {
                self.close_p();
                if self.dom.nodes[self.current() as usize].tag.is_heading() {
                    self.pop();
                }
            }
            Option if self.dom.nodes[self.current() as usize].tag == Option => {
                self.pop();
            }
            A => {
                // An open <a> is closed by a new one.
                if let Some(k) = self.in_scope(|t| t == A, |_| false) {
                    self.pop_to(k);
                }
            }
            Button => {
                if let Some(k) = self.in_scope(|t| t == Button, |_| false) {
                    self.pop_to(k);
                }
            }
            Tr => {
                self.close_table_part(
                    |t| matches!(t, Tr | Td | Th),
                    |t| matches!(t, Tbody | Thead | Tfoot | Table),
                );
            }
            Td | Th => {
                self.close_table_part(
                    |t| matches!(t, Td | Th),
                    |t| matches!(t, Tr | Tbody | Thead | Tfoot | Table),
                );
            }
            Tbody | Thead | Tfoot | Caption | Colgroup => {
                self.close_table_part(
                    |t| matches!(t, Tr | Td | Th | Tbody | Thead | Tfoot | Caption | Colgroup),
                    |t| t == Table,
                );
            }
            t if closes_p(t) => self.close_p(),
            _ => {}
        }
    }

    /// Pops open table parts (`part`) down to the nearest `stop` (kept) in
    /// the current table.
    fn close_table_part(&mut self, part: impl Fn(Tag) -> bool, stop: impl Fn(Tag) -> bool) {
        let mut target = None;
        for k in (1..self.stack.len()).rev() {
            let t = self.tag_at(k);
            if stop(t) || t == Tag::Html {
                break;
            }
            if part(t) {
                target = Some(k);
            }
            if t == Tag::Table {
                break;
            }
        }
        if let Some(k) = target {
            self.pop_to(k);
        }
    }

    fn end_tag(&mut self, name: &str) {
        let tag = Tag::from_name(name);
        use Tag::*;
        match tag {
            Html | Body => {}
            Head => {
                if self.mode == Mode::InHead {
                    self.pop_to(1);
                    self.mode = Mode::BeforeBody;
                }
            }
            Br => self.start_tag(Br, Cow::Borrowed("br"), Vec::new(), false),
            P => {
                if let Some(k) = self.in_scope(|t| t == P, |t| t == Button) {
                    self.pop_to(k);
                }
            }
            Li => {
                if let Some(k) = self.in_scope(|t| t == Li, |t| matches!(t, Ol | Ul)) {
                    self.pop_to(k);
                }
            }
            Dd | Dt => {
                if let Some(k) = self.in_scope(|t| t == tag, |_| false) {
                    self.pop_to(k);
                }
            }
            H1 | H2 | H3 | H4 | H5 | H6 => {
                if let Some(k) = self.in_scope(|t| t.is_heading(), |_| false) {
                    self.pop_to(k);
                }
            }
            Td | Th | Tr | Tbody | Thead | Tfoot | Caption | Table | Colgroup => {
                // Table scope: stop at the table (or the root).
                for k in (1..self.stack.len()).rev() {
                    let t = self.tag_at(k);
                    if t == tag {
                        self.pop_to(k);
                        break;
                    }
                    if t == Table || t == Html {
                        break;
                    }
                }
            }
            Other => {
                // Custom and unknown elements: matched by name, unless a
                // special element is in the way.
                let Some(&(idx, _)) = self.other_names.iter().rev().find(|(_, n)| n == name) else {
                    return;
                };
                if let Some(k) = self.stack.iter().rposition(|&x| x == idx)
                    && (k + 1..self.stack.len()).all(|j| !is_special(self.tag_at(j)))
                {
                    self.pop_to(k);
                }
            }
            t if is_formatting(t) => {
                // Simplified adoption agency: close up to the element if it
                // is open within the current table cell or root.
                for k in (1..self.stack.len()).rev() {
                    let x = self.tag_at(k);
                    if x == t {
                        self.pop_to(k);
                        break;
                    }
                    if matches!(x, Table | Td | Th | Caption | Template | Html | Body) {
                        break;
                    }
                }
            }
            t if is_special(t) => {
                if let Some(k) = self.in_scope(|x| x == t, |_| false) {
                    self.pop_to(k);
                }
            }
            t => {
                // Any other end tag: the nearest open element of that name,
                // unless a special element is in the way.
                for k in (1..self.stack.len()).rev() {
                    let x = self.tag_at(k);
                    if x == t {
                        self.pop_to(k);
                        break;
                    }
                    if is_special(x) {
                        break;
                    }
                }
            }
        }
    }

    fn finish(mut self) -> Dom<'a> {
        if self.body.is_none() {
            self.ensure_body();
        }
        while self.stack.len() > 1 {
            self.pop();
        }
        let n = self.dom.nodes.len() as u32;
        self.dom.nodes[0].end = n;
        self.dom
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outline(html: &str) -> String {
        let dom = parse_document(html);
        let mut s = String::new();
        let mut open: Vec<usize> = Vec::new();
        for i in 0..dom.len() {
            while let Some(&o) = open.last() {
                if dom.end(o) <= i {
                    s.push(')');
                    open.pop();
                } else {
                    break;
                }
            }
            let n = &dom.nodes[i];
            if n.tag == Tag::Text {
                s.push_str(&format!("'{}'", n.text));
            } else {
                s.push_str(&format!("{:?}(", n.tag).to_lowercase());
                open.push(i);
            }
        }
        for _ in open {
            s.push(')');
        }
        s
    }

    #[test]
    fn document_structure() {
        assert_eq!(
            outline(
                "<!DOCTYPE html><html lang=en><head><title>T &amp; U</title><meta charset=utf-8></head><body><p>a<b>b</b></p></body></html>"
            ),
            "html(head(title('T & U')meta())body(p('a'b('b'))))"
        );
        // Missing html/head/body.
        assert_eq!(
            outline("<title>x</title><p>y"),
            "html(head(title('x'))body(p('y')))"
        );
    }

    #[test]
    fn implied_end_tags() {
        assert_eq!(
            outline("<p>a<p>b<div>c</div>"),
            "html(body(p('a')p('b')div('c')))"
        );
        assert_eq!(
            outline("<ul><li>a<li>b</ul>"),
            "html(body(ul(li('a')li('b'))))"
        );
        assert_eq!(
            outline("<table><tr><td>a<td>b<tr><td>c</table>d"),
            "html(body(table(tr(td('a')td('b'))tr(td('c')))'d'))"
        );
        assert_eq!(outline("<h2>a<h3>b"), "html(body(h2('a')h3('b')))");
        assert_eq!(outline("<div><p>x</div>y"), "html(body(div(p('x'))'y'))");
        assert_eq!(
            outline("<a href=1>x<a href=2>y"),
            "html(body(a('x')a('y')))"
        );
    }

    #[test]
    fn stray_and_misnested_end_tags() {
        assert_eq!(outline("<div>a</span>b</div>"), "html(body(div('ab')))");
        assert_eq!(outline("<b>a<i>b</b>c"), "html(body(b('a'i('b'))'c'))");
        assert_eq!(outline("<p>a</p></p>b"), "html(body(p('a')'b'))");
    }

    #[test]
    fn attributes_and_entities() {
        let dom = parse_document(
            "<div CLASS=\"a &amp; b\" id='x' data-v=u&v hidden>&lt;&eacute;&#8217;&#x41;&copy &notit; &bogus;</div>",
        );
        let div = dom.nodes.iter().position(|n| n.tag == Tag::Div).unwrap();
        assert_eq!(dom.attr(div, "class"), Some("a & b"));
        assert_eq!(dom.attr(div, "id"), Some("x"));
        assert_eq!(dom.attr(div, "data-v"), Some("u&v"));
        assert_eq!(dom.attr(div, "hidden"), Some(""));
        assert_eq!(dom.nodes[div + 1].text, "<é’A© ¬it; &bogus;");
    }

    #[test]
    fn raw_text_elements() {
        assert_eq!(
            outline("<p>a<textarea><b>&amp;</textarea>b</p><script>if(a<b)x()</script>"),
            "html(body(p('a'textarea('<b>&')'b')script('if(a<b)x()')))"
        );
        assert_eq!(outline("<p>1 < 2 <3</p>"), "html(body(p('1 < 2 <3')))");
    }

    #[test]
    fn depth_is_capped() {
        let html = "<div>".repeat(BUILDER_MAX_DEPTH * 3) + "x";
        let dom = parse_document(&html);
        assert!(dom.len() > BUILDER_MAX_DEPTH * 3);
        let deepest = dom.len() - 1;
        let mut depth = 0;
        let mut i = deepest;
        while let Some(p) = dom.parent(i) {
            depth += 1;
            i = p;
        }
        assert!(depth <= BUILDER_MAX_DEPTH + 1, "{depth}");
    }

    #[test]
    fn truncated_input_does_not_panic() {
        for s in [
            "<",
            "<a",
            "<a b",
            "<a b=",
            "<a b='",
            "</",
            "</a",
            "&",
            "&#",
            "&#x",
            "&#99999999999;",
            "<!--",
            "<?",
            "<!x",
            "é<b>é",
        ] {
            let _ = parse_document(s);
        }
    }
}
