//! The sidecar: a lenient, single pass over the (pre-cleaned) XML with
//! quick-xml that collects, per entry, the raw values feed-rs drops or
//! garbles: RSS 1.0 `rdf:about`, guids with their `isPermaLink`,
//! `content:encoded` and Atom `content`, descriptions that contain raw
//! markup (feed-rs keeps only their first text node), raw author strings
//! (`mail@x (Name)`), raw date strings, and links resolved against
//! `xml:base`. It also reads the feed-level values secwire needs
//! (`sy:updatePeriod`, `atom:link rel=next/prev-archive`).
//!
//! It survives what a strict parser rejects: end tags that do not match
//! (`<br>` in a description, an unclosed `<itunes:category>`) close the
//! elements left open, like an HTML parser; stray end tags are ignored; on
//! a syntax error it keeps what it has read. When feed-rs fails, or finds
//! a different number of entries, the entries come from here alone.

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use url::Url;

use super::person;

/// The kind of feed, from its root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rss,
    Rdf,
    Atom,
}

/// How a text construct is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// Plain text (Atom `type="text"`).
    Text,
    /// HTML, or text that may contain HTML (RSS).
    Html,
    /// Inline XHTML (Atom `type="xhtml"`), serialised.
    Xhtml,
}

/// How a captured value is encoded in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Plain,
    /// Atom 0.3 `mode="base64"`, or an Atom 1.0 text construct whose type
    /// is neither text nor XML (RFC 4287 section 4.1.3.3).
    Base64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextValue {
    pub value: String,
    pub kind: TextKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLink {
    /// Resolved against `xml:base` and the document URL when possible.
    pub href: String,
    pub rel: String,
    pub mime: Option<String>,
}

/// Where a date came from; the caller decides what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateSource {
    PubDate,
    Published,
    Issued,
    DcDate,
    Created,
    Updated,
    Modified,
}

#[derive(Debug, Clone, Default)]
pub struct RawEntry {
    pub guid: Option<String>,
    /// `isPermaLink` is absent or true.
    pub guid_is_permalink: bool,
    pub atom_id: Option<String>,
    /// RSS 1.0 `rdf:about`.
    pub about: Option<String>,
    pub title: Option<TextValue>,
    /// `dc:title` / `media:title`, used when there is no `title`.
    pub alt_title: Option<TextValue>,
    /// RSS `<link>` text, resolved.
    pub text_link: Option<String>,
    /// Atom-style `<link href>` elements, resolved.
    pub links: Vec<RawLink>,
    pub dates: Vec<(DateSource, String)>,
    /// Person names (e-mail addresses removed), in document order.
    pub authors: Vec<String>,
    /// RSS `description` / Atom `summary`.
    pub summary: Option<TextValue>,
    /// `itunes:summary`, `dc:description`, `media:description`.
    pub alt_summary: Option<TextValue>,
    /// `content:encoded`, Atom `content`, `xhtml:body`.
    pub content: Option<TextValue>,
    /// The base in effect for this entry (for resolving ids used as links).
    pub base: Option<Url>,
}

#[derive(Debug, Clone)]
pub struct RawFeed {
    pub format: Format,
    pub title: Option<TextValue>,
    pub site_link: Option<String>,
    pub ttl: Option<String>,
    pub update_period: Option<String>,
    pub update_frequency: Option<String>,
    pub next_page: Option<String>,
    pub prev_archive: Option<String>,
    /// `<generator>` text (WordPress feeds page with `?paged=N`).
    pub generator: Option<String>,
    pub entries: Vec<RawEntry>,
    /// False when reading stopped early at a syntax error.
    pub complete: bool,
    /// Elements closed implicitly or stray end tags ignored.
    pub repaired_tags: bool,
}

/// Namespaces the sidecar knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    /// No namespace, an unknown default namespace, or one of RSS's.
    Core,
    Atom,
    Rdf,
    Content,
    Dc,
    Dcterms,
    Itunes,
    Sy,
    Xhtml,
    Media,
    Other,
}

fn ns_of_uri(uri: &str) -> Ns {
    let u = uri.trim().trim_end_matches('/').to_ascii_lowercase();
    match u.as_str() {
        "http://www.w3.org/2005/atom" | "http://purl.org/atom/ns#" => Ns::Atom,
        "http://purl.org/rss/1.0"
        | "http://my.netscape.com/rdf/simple/0.9"
        | "http://channel.netscape.com/rdf/simple/0.9"
        | "http://backend.userland.com/rss2"
        | "http://backend.userland.com/rss"
        | "http://blogs.law.harvard.edu/tech/rss"
        | "http://purl.org/net/rss1.1#" => Ns::Core,
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#" => Ns::Rdf,
        "http://purl.org/rss/1.0/modules/content" => Ns::Content,
        "http://purl.org/dc/elements/1.1" | "http://purl.org/dc/elements/1.0" => Ns::Dc,
        "http://purl.org/dc/terms" => Ns::Dcterms,
        "http://www.itunes.com/dtds/podcast-1.0.dtd" | "urn:x-secwire:itunes" => Ns::Itunes,
        "http://purl.org/rss/1.0/modules/syndication" => Ns::Sy,
        "http://www.w3.org/1999/xhtml" => Ns::Xhtml,
        "http://search.yahoo.com/mrss" | "urn:x-secwire:mrss" => Ns::Media,
        _ => Ns::Other,
    }
}

/// Undeclared prefixes are read by their conventional meaning, as
/// feedparser does.
fn ns_of_prefix(prefix: &str) -> Ns {
    match prefix.to_ascii_lowercase().as_str() {
        "atom" | "atom10" | "atom03" => Ns::Atom,
        "rdf" => Ns::Rdf,
        "content" => Ns::Content,
        "dc" => Ns::Dc,
        "dcterms" => Ns::Dcterms,
        "itunes" => Ns::Itunes,
        "sy" => Ns::Sy,
        "xhtml" => Ns::Xhtml,
        "media" => Ns::Media,
        "rss" => Ns::Core,
        _ => Ns::Other,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Root,
    Channel,
    Entry,
    /// The element that started the active capture.
    Field,
    /// Anything else: tracked for nesting only.
    Other,
}

struct Frame {
    qname: String,
    /// Written as `<x/>` inside a capture: no end tag to serialise.
    empty: bool,
    /// An extension element (not RSS or Atom) without a role: looked
    /// through when deciding what an element belongs to, so that an
    /// unclosed `<itunes:category>` does not hide the items after it.
    transparent: bool,
    decls: Vec<(String, Ns)>,
    base: Option<Url>,
    role: Role,
}

/// What a capture is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Title,
    AltTitle,
    TextLink,
    Guid,
    AtomId,
    Summary,
    AltSummary,
    Content,
    Date(DateSource),
    Person,
    NamedAuthor,
    Ttl,
    UpdatePeriod,
    UpdateFrequency,
    Generator,
}

struct Capture {
    field: Field,
    in_entry: bool,
    /// Stack depth of the capturing element.
    depth: usize,
    kind: TextKind,
    encoding: Encoding,
    permalink: bool,
    base: Option<Url>,
    /// The text content (references resolved, except unknown entities).
    text: String,
    /// Byte offsets in `text` where an unknown entity was kept as written.
    raw_refs: Vec<usize>,
    /// The content serialised as markup; built from the first child
    /// element on (most fields are text only and never need it).
    markup: String,
    has_child: bool,
    /// Direct children's local names and texts (for Atom persons).
    children: Vec<(String, String)>,
    /// The last of `children` is still open.
    child_open: bool,
}

impl Capture {
    fn push_text(&mut self, t: &str) {
        self.text.push_str(t);
        if self.has_child {
            push_escaped(&mut self.markup, t);
        }
        if self.child_open
            && let Some((_, txt)) = self.children.last_mut()
        {
            txt.push_str(t);
        }
    }

    /// An unknown (HTML) entity, kept as written for the HTML layer.
    fn push_raw_entity(&mut self, name: &str) {
        let raw = format!("&{name};");
        self.raw_refs.push(self.text.len());
        self.text.push_str(&raw);
        if self.has_child {
            self.markup.push_str(&raw);
        }
        if self.child_open
            && let Some((_, txt)) = self.children.last_mut()
        {
            txt.push_str(&raw);
        }
    }

    /// Called at the first child element: the text so far becomes markup.
    fn start_markup(&mut self) {
        if self.has_child {
            return;
        }
        self.has_child = true;
        let mut from = 0;
        for &at in &self.raw_refs {
            push_escaped(&mut self.markup, &self.text[from..at]);
            let end = self.text[at..]
                .find(';')
                .map_or(self.text.len(), |e| at + e + 1);
            self.markup.push_str(&self.text[at..end]);
            from = end;
        }
        push_escaped(&mut self.markup, &self.text[from..]);
    }

    fn value(&self) -> String {
        if self.encoding == Encoding::Base64
            && !self.has_child
            && let Some(decoded) = decode_base64(&self.text)
        {
            return decoded;
        }
        if self.has_child {
            if self.kind == TextKind::Xhtml {
                strip_outer_div(&self.markup)
            } else {
                self.markup.clone()
            }
        } else {
            self.text.clone()
        }
    }
}

fn push_escaped(out: &mut String, t: &str) {
    if !t.bytes().any(|b| matches!(b, b'<' | b'>' | b'&')) {
        out.push_str(t);
        return;
    }
    for c in t.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
    }
}

/// Inline XHTML content is wrapped in one `<div>`; the content is inside.
fn strip_outer_div(markup: &str) -> String {
    let t = markup.trim();
    if t.starts_with("<div")
        && t.ends_with("</div>")
        && let Some(open_end) = t.find('>')
    {
        let inner = &t[open_end + 1..t.len() - "</div>".len()];
        // Only if that div is one element around everything.
        if !inner.contains("<div") {
            return inner.to_string();
        }
    }
    t.to_string()
}

struct State<'a> {
    stack: Vec<Frame>,
    format: Option<Format>,
    feed: RawFeed,
    entry: Option<RawEntry>,
    capture: Option<Capture>,
    doc_base: Option<&'a Url>,
}

/// Why the sidecar found no feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAFeed {
    /// The document has no element at all.
    NoElement,
    /// The root element (named) is not `rss`, `channel`, `rdf:RDF` or `feed`.
    Root(String),
}

/// Reads a feed document.
pub fn read(xml: &str, base: Option<&Url>) -> Result<RawFeed, NotAFeed> {
    let mut reader = Reader::from_str(xml);
    {
        let cfg = reader.config_mut();
        cfg.check_end_names = false;
        cfg.allow_unmatched_ends = true;
        cfg.allow_dangling_amp = true;
        cfg.check_comments = false;
        cfg.expand_empty_elements = false;
        cfg.trim_text(false);
    }
    let mut st = State {
        stack: Vec::new(),
        format: None,
        feed: RawFeed {
            format: Format::Rss,
            title: None,
            site_link: None,
            ttl: None,
            update_period: None,
            update_frequency: None,
            next_page: None,
            prev_archive: None,
            generator: None,
            entries: Vec::new(),
            complete: true,
            repaired_tags: false,
        },
        entry: None,
        capture: None,
        doc_base: base,
    };
    let mut errors = 0;
    loop {
        let before = reader.buffer_position();
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                if !st.start(&e, false) {
                    return Err(NotAFeed::Root(e.name().0.to_string()));
                }
            }
            Ok(Event::Empty(e)) => {
                if !st.start(&e, true) {
                    return Err(NotAFeed::Root(e.name().0.to_string()));
                }
                let qname = e.name().0.to_string();
                st.end(&qname);
            }
            Ok(Event::End(e)) => st.end(e.name().0),
            Ok(Event::Text(t)) => {
                if let Some(c) = st.capture.as_mut() {
                    c.push_text(&t.xml10_content());
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(c) = st.capture.as_mut() {
                    c.push_text(&t.xml10_content());
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(c) = st.capture.as_mut() {
                    match r.resolve_char_ref() {
                        Ok(Some(ch)) => c.push_text(ch.encode_utf8(&mut [0; 4])),
                        Ok(None) => match quick_xml::escape::resolve_predefined_entity(&r) {
                            Some(s) => c.push_text(s),
                            None => c.push_raw_entity(&r),
                        },
                        Err(_) => {}
                    }
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(_) => {
                errors += 1;
                st.feed.complete = false;
                if reader.buffer_position() <= before || errors > 50 {
                    break;
                }
            }
        }
    }
    if st.format.is_none() {
        return Err(NotAFeed::NoElement);
    }
    // Close whatever is still open, innermost first.
    while let Some(top) = st.stack.last() {
        let q = top.qname.clone();
        st.end(&q);
    }
    Ok(st.feed)
}

impl State<'_> {
    /// Resolves an element or attribute prefix to a namespace.
    fn ns(&self, own: &[(String, Ns)], prefix: Option<&str>) -> Ns {
        let key = prefix.unwrap_or("");
        let found = own
            .iter()
            .rev()
            .chain(self.stack.iter().rev().flat_map(|f| f.decls.iter().rev()))
            .find(|(p, _)| p == key)
            .map(|&(_, ns)| ns);
        match (prefix, found) {
            (None, Some(Ns::Other)) | (None, None) => Ns::Core,
            (_, Some(ns)) => ns,
            (Some(p), None) => ns_of_prefix(p),
        }
    }

    /// Handles a start tag; false when the root is not a feed.
    fn start(&mut self, e: &BytesStart<'_>, empty: bool) -> bool {
        let qname = e.name().0;
        let (prefix, local) = match qname.split_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, qname),
        };
        // Attributes: namespace declarations, xml:base and the rest.
        let mut decls: Vec<(String, Ns)> = Vec::new();
        let mut attrs: Vec<(String, String)> = Vec::new();
        for a in e.attributes().with_checks(false).flatten() {
            let key = a.key.0;
            let value = unescape_lenient(&a.value);
            if key == "xmlns" {
                decls.push((String::new(), ns_of_uri(&value)));
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                decls.push((p.to_string(), ns_of_uri(&value)));
            } else {
                attrs.push((key.to_string(), value));
            }
        }
        let parent_base = self
            .stack
            .last()
            .and_then(|f| f.base.clone())
            .or_else(|| self.doc_base.cloned());
        let base = match attrs.iter().find(|(k, _)| k == "xml:base") {
            Some((_, b)) => resolve_url(b.trim(), parent_base.as_ref())
                .and_then(|u| Url::parse(&u).ok())
                .or(parent_base),
            None => parent_base,
        };

        if let Some(c) = self.capture.as_mut() {
            // Inside a captured field: serialise, track nesting.
            c.start_markup();
            c.markup.push('<');
            c.markup.push_str(e);
            c.markup.push_str(if empty { "/>" } else { ">" });
            if self.stack.len() == c.depth + 1 {
                c.children.push((local.to_string(), String::new()));
                c.child_open = !empty;
            }
            self.stack.push(Frame {
                qname: qname.to_string(),
                empty,
                transparent: false,
                decls,
                base,
                role: Role::Other,
            });
            return true;
        }

        let ns = self.ns(&decls, prefix);
        let attr = |name: &str| {
            attrs
                .iter()
                .find(|(k, _)| k == name || k.rsplit(':').next() == Some(name))
                .map(|(_, v)| v.as_str())
        };
        let parent_role = self
            .stack
            .iter()
            .rev()
            .find(|f| !f.transparent)
            .or(self.stack.first())
            .map(|f| f.role);
        let in_entry = self.stack.iter().any(|f| f.role == Role::Entry);
        let is_atom_ns = ns == Ns::Atom || (ns == Ns::Core && self.format == Some(Format::Atom));
        let is_entry = !in_entry
            && !self.stack.is_empty()
            && ((local == "item" && (ns == Ns::Core || is_atom_ns))
                || (local == "entry" && is_atom_ns));
        let mut role = Role::Other;
        if is_entry {
            role = Role::Entry;
            let mut entry = RawEntry {
                base: base.clone(),
                ..RawEntry::default()
            };
            entry.about = attr("about")
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            self.entry = Some(entry);
        }
        match parent_role {
            _ if is_entry => {}
            None => {
                // Case matters: `<CHANNEL>` is Microsoft's CDF, not RSS.
                let fmt = match local {
                    "rss" | "channel" => Some(Format::Rss),
                    "RDF" | "rdf" => Some(Format::Rdf),
                    "feed" => Some(Format::Atom),
                    _ => None,
                };
                let Some(fmt) = fmt else {
                    return false;
                };
                self.format = Some(fmt);
                self.feed.format = fmt;
                role = if local == "channel" {
                    Role::Channel
                } else {
                    Role::Root
                };
            }
            Some(Role::Root | Role::Channel) => {
                if local == "channel" && ns == Ns::Core {
                    role = Role::Channel;
                } else if let Some(field) = feed_field(ns, local) {
                    role = Role::Field;
                    self.begin_capture(field, false, &attrs, base.clone());
                } else if local == "link" && (ns == Ns::Core || ns == Ns::Atom) {
                    if let Some(href) = attr("href") {
                        let href = resolve_url(href.trim(), base.as_ref());
                        let rel = attr("rel")
                            .unwrap_or("alternate")
                            .trim()
                            .to_ascii_lowercase();
                        if let Some(href) = href {
                            match rel.as_str() {
                                "alternate" if self.feed.site_link.is_none() => {
                                    self.feed.site_link = Some(href)
                                }
                                "next" if self.feed.next_page.is_none() => {
                                    self.feed.next_page = Some(href)
                                }
                                "prev-archive" if self.feed.prev_archive.is_none() => {
                                    self.feed.prev_archive = Some(href)
                                }
                                _ => {}
                            }
                        }
                    } else if ns == Ns::Core {
                        role = Role::Field;
                        self.begin_capture(Field::TextLink, false, &attrs, base.clone());
                    }
                }
            }
            Some(Role::Entry) => {
                if let Some(field) = entry_field(ns, local) {
                    role = Role::Field;
                    self.begin_capture(field, true, &attrs, base.clone());
                } else if local == "link" && matches!(ns, Ns::Core | Ns::Atom) {
                    if let Some(href) = attr("href") {
                        if let (Some(href), Some(entry)) =
                            (resolve_url(href.trim(), base.as_ref()), self.entry.as_mut())
                        {
                            entry.links.push(RawLink {
                                href,
                                rel: attr("rel")
                                    .unwrap_or("alternate")
                                    .trim()
                                    .to_ascii_lowercase(),
                                mime: attr("type").map(|t| t.trim().to_ascii_lowercase()),
                            });
                        }
                    } else if attr("rel").is_none_or(|r| r.trim().eq_ignore_ascii_case("alternate"))
                    {
                        // `<link>URL</link>`; with a `rel` other than
                        // alternate it is an enclosure, comments etc.
                        role = Role::Field;
                        self.begin_capture(Field::TextLink, true, &attrs, base.clone());
                    }
                }
            }
            Some(Role::Field | Role::Other) => {}
        }
        self.stack.push(Frame {
            qname: qname.to_string(),
            empty,
            transparent: role == Role::Other && !matches!(ns, Ns::Core | Ns::Atom),
            decls,
            base,
            role,
        });
        true
    }

    fn begin_capture(
        &mut self,
        field: Field,
        in_entry: bool,
        attrs: &[(String, String)],
        base: Option<Url>,
    ) {
        let attr = |name: &str| {
            attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_ascii_lowercase())
        };
        let mime = attr("type");
        let mode = attr("mode");
        let kind = match (mime.as_deref(), mode.as_deref()) {
            (_, Some("escaped")) => TextKind::Html,
            (Some("xhtml" | "application/xhtml+xml"), _) => TextKind::Xhtml,
            (Some(t), _) if t == "html" || t.contains("html") => TextKind::Html,
            (Some("text" | "text/plain"), _) => TextKind::Text,
            _ => TextKind::Html,
        };
        let binary_type = mime.as_deref().is_some_and(|t| {
            t.contains('/')
                && !t.starts_with("text/")
                && !t.ends_with("+xml")
                && !t.ends_with("/xml")
        });
        let encoding = if mode.as_deref() == Some("base64") || (binary_type && mode.is_none()) {
            Encoding::Base64
        } else {
            Encoding::Plain
        };
        let permalink = attr("ispermalink").is_none_or(|v| v != "false");
        self.capture = Some(Capture {
            field,
            in_entry,
            depth: self.stack.len(),
            kind,
            encoding,
            permalink,
            base,
            text: String::new(),
            raw_refs: Vec::new(),
            markup: String::new(),
            has_child: false,
            children: Vec::new(),
            child_open: false,
        });
    }

    /// Handles an end tag: closes the matching open element and any left
    /// open inside it; a stray end tag is ignored.
    fn end(&mut self, qname: &str) {
        let qname = qname.trim();
        let Some(pos) = self.stack.iter().rposition(|f| f.qname == qname) else {
            self.feed.repaired_tags = true;
            return;
        };
        // Inside a capture, an end tag that would close the capture's
        // ancestors only closes the capture's own subtree first.
        if pos + 1 < self.stack.len() {
            self.feed.repaired_tags = true;
        }
        while self.stack.len() > pos {
            let Some(frame) = self.stack.pop() else {
                break;
            };
            let implicit = self.stack.len() > pos;
            self.close(frame, implicit);
        }
    }

    /// Closes one element; `implicit` when its end tag was missing.
    fn close(&mut self, frame: Frame, implicit: bool) {
        let depth = self.stack.len();
        if let Some(c) = self.capture.as_mut() {
            if depth > c.depth {
                if depth == c.depth + 1 {
                    c.child_open = false;
                }
                let local = frame.qname.rsplit(':').next().unwrap_or("");
                let omit = frame.empty || (implicit && is_void_html(local));
                if !omit {
                    c.markup.push_str("</");
                    c.markup.push_str(&frame.qname);
                    c.markup.push('>');
                }
                return;
            }
            if depth == c.depth
                && let Some(c) = self.capture.take()
            {
                self.finish_capture(c);
                return;
            }
        }
        if frame.role == Role::Entry
            && let Some(e) = self.entry.take()
        {
            self.feed.entries.push(e);
        }
    }

    fn finish_capture(&mut self, c: Capture) {
        let value = c.value();
        let tv = |value: String| TextValue {
            value,
            kind: c.kind,
        };
        if !c.in_entry {
            let f = &mut self.feed;
            match c.field {
                Field::Title if f.title.is_none() => f.title = Some(tv(value)),
                Field::TextLink if f.site_link.is_none() => {
                    f.site_link = resolve_url(value.trim(), c.base.as_ref())
                }
                Field::Ttl => f.ttl = Some(value.trim().to_string()),
                Field::UpdatePeriod => f.update_period = Some(value.trim().to_string()),
                Field::UpdateFrequency => f.update_frequency = Some(value.trim().to_string()),
                Field::Generator if f.generator.is_none() => {
                    f.generator = Some(value.trim().to_string()).filter(|g| !g.is_empty())
                }
                _ => {}
            }
            return;
        }
        let Some(e) = self.entry.as_mut() else {
            return;
        };
        let set = |slot: &mut Option<TextValue>, v: TextValue| {
            if slot.as_ref().is_none_or(|s| s.value.trim().is_empty()) {
                *slot = Some(v);
            }
        };
        match c.field {
            Field::Title => set(&mut e.title, tv(value)),
            Field::AltTitle => set(&mut e.alt_title, tv(value)),
            Field::Summary => set(&mut e.summary, tv(value)),
            Field::AltSummary => set(&mut e.alt_summary, tv(value)),
            Field::Content => set(&mut e.content, tv(value)),
            Field::TextLink => {
                if e.text_link.is_none() {
                    e.text_link = resolve_url(value.trim(), c.base.as_ref());
                }
            }
            Field::Guid => {
                let v = value.trim();
                if e.guid.is_none() && !v.is_empty() {
                    e.guid = Some(v.to_string());
                    e.guid_is_permalink = c.permalink;
                }
            }
            Field::AtomId => {
                let v = value.trim();
                if e.atom_id.is_none() && !v.is_empty() {
                    e.atom_id = Some(v.to_string());
                }
            }
            Field::Date(src) => {
                let v = value.trim();
                if !v.is_empty() {
                    e.dates.push((src, v.to_string()));
                }
            }
            Field::Person => {
                let name = if c.has_child {
                    let child = |n: &str| {
                        c.children
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(n))
                            .map(|(_, v)| v.as_str())
                    };
                    child("name").and_then(person::name_of)
                } else {
                    person::name_of(&value)
                };
                push_author(&mut e.authors, name);
            }
            Field::NamedAuthor => push_author(&mut e.authors, person::name_of(&value)),
            Field::Ttl | Field::UpdatePeriod | Field::UpdateFrequency | Field::Generator => {}
        }
    }
}

/// HTML elements without content, often left unclosed in feeds.
fn is_void_html(local: &str) -> bool {
    matches!(
        local.to_ascii_lowercase().as_str(),
        "br" | "img"
            | "hr"
            | "input"
            | "meta"
            | "link"
            | "wbr"
            | "source"
            | "area"
            | "col"
            | "embed"
            | "param"
            | "track"
    )
}

fn push_author(authors: &mut Vec<String>, name: Option<String>) {
    if let Some(n) = name
        && !authors.iter().any(|a| a.eq_ignore_ascii_case(&n))
    {
        authors.push(n);
    }
}

/// Feed-level fields (children of `channel`, or of the root).
fn feed_field(ns: Ns, local: &str) -> Option<Field> {
    Some(match (ns, local) {
        (Ns::Core | Ns::Atom, "title") => Field::Title,
        (Ns::Core, "ttl") => Field::Ttl,
        (Ns::Sy, "updatePeriod") => Field::UpdatePeriod,
        (Ns::Sy, "updateFrequency") => Field::UpdateFrequency,
        (Ns::Core | Ns::Atom, "generator") => Field::Generator,
        _ => return None,
    })
}

/// Entry-level fields (children of `item` / `entry`).
fn entry_field(ns: Ns, local: &str) -> Option<Field> {
    let core_or_atom = matches!(ns, Ns::Core | Ns::Atom);
    Some(match (ns, local) {
        (_, "title") if core_or_atom => Field::Title,
        (Ns::Dc | Ns::Media, "title") => Field::AltTitle,
        (Ns::Core, "guid") => Field::Guid,
        (_, "id") if core_or_atom => Field::AtomId,
        (Ns::Core, "description") => Field::Summary,
        (_, "summary") if core_or_atom => Field::Summary,
        (Ns::Itunes, "summary") | (Ns::Dc | Ns::Media, "description") => Field::AltSummary,
        (Ns::Content, "encoded") | (Ns::Xhtml, "body") => Field::Content,
        (_, "content") if core_or_atom => Field::Content,
        (Ns::Core, "fullitem") => Field::Content,
        (Ns::Core, "pubDate") => Field::Date(DateSource::PubDate),
        (_, "published") if core_or_atom => Field::Date(DateSource::Published),
        (_, "issued") if core_or_atom => Field::Date(DateSource::Issued),
        (Ns::Dcterms, "issued") => Field::Date(DateSource::Issued),
        (Ns::Dc, "date") => Field::Date(DateSource::DcDate),
        (_, "created") if core_or_atom => Field::Date(DateSource::Created),
        (Ns::Dcterms, "created") => Field::Date(DateSource::Created),
        (_, "updated") if core_or_atom => Field::Date(DateSource::Updated),
        (_, "modified") if core_or_atom => Field::Date(DateSource::Modified),
        (Ns::Dcterms, "modified") => Field::Date(DateSource::Modified),
        (_, "author") if core_or_atom => Field::Person,
        (Ns::Dc, "creator" | "author") | (Ns::Itunes, "author") => Field::NamedAuthor,
        _ => return None,
    })
}

/// Decodes standard base64 (whitespace ignored) to UTF-8 text; `None` if
/// it is not base64 or not text.
fn decode_base64(s: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            c if c.is_ascii_whitespace() => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    String::from_utf8(bytes).ok()
}

/// Resolves a possibly relative URL; absolute URLs are returned as written
/// (not normalised). `None` for an empty string.
pub fn resolve_url(href: &str, base: Option<&Url>) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    match Url::parse(href) {
        Ok(_) => Some(href.to_string()),
        Err(url::ParseError::RelativeUrlWithoutBase) => match base.map(|b| b.join(href)) {
            Some(Ok(u)) => Some(u.to_string()),
            _ => Some(href.to_string()),
        },
        Err(_) => Some(href.to_string()),
    }
}

/// Unescapes the predefined XML entities and character references; other
/// (HTML) entities are left as written.
pub fn unescape_lenient(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        let end = after.find(';').filter(|&e| e <= 12);
        let decoded = end.and_then(|e| {
            let name = &after[..e];
            let ch = match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                        u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                    } else if let Some(dec) = name.strip_prefix('#') {
                        dec.parse::<u32>().ok().and_then(char::from_u32)
                    } else {
                        None
                    }
                }
            };
            ch.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_from_unclosed_elements() {
        let doc = r#"<rss version="2.0"><channel><title>T</title>
            <itunes:category text="Tech">
            <item><title>A</title><description>one<br>two</description><link>/a</link></item>
            <item><title>B</title></item>
            </channel></rss>"#;
        let base = Url::parse("https://ex.com/feed").unwrap();
        let f = read(doc, Some(&base)).unwrap();
        assert_eq!(f.entries.len(), 2);
        assert_eq!(f.entries[0].text_link.as_deref(), Some("https://ex.com/a"));
        assert_eq!(f.entries[0].summary.as_ref().unwrap().value, "one<br>two");
        assert!(f.repaired_tags);
    }

    #[test]
    fn atom_person_and_xhtml() {
        let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry>
            <author><name>Jane</name><email>j@ex.com</email></author>
            <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">A <i>b</i></div></title>
            </entry></feed>"#;
        let f = read(doc, None).unwrap();
        let e = &f.entries[0];
        assert_eq!(e.authors, vec!["Jane"]);
        assert_eq!(e.title.as_ref().unwrap().value, "A <i>b</i>");
        assert_eq!(e.title.as_ref().unwrap().kind, TextKind::Xhtml);
    }

    #[test]
    fn person_children_exclude_trailing_text() {
        let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry>
            <author><name>Author Name</name>Mixed content</author></entry></feed>"#;
        let f = read(doc, None).unwrap();
        assert_eq!(f.entries[0].authors, vec!["Author Name"]);
    }

    #[test]
    fn text_links_with_other_rels_are_ignored() {
        let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry>
            <link rel="enclosure">http://ex.com/file.mp3</link>
            <link rel="alternate">http://ex.com/page</link></entry></feed>"#;
        let f = read(doc, None).unwrap();
        assert_eq!(
            f.entries[0].text_link.as_deref(),
            Some("http://ex.com/page")
        );
    }

    #[test]
    fn not_a_feed() {
        assert_eq!(
            read("<html><body/></html>", None).err(),
            Some(NotAFeed::Root("html".into()))
        );
        assert_eq!(read("just text", None).err(), Some(NotAFeed::NoElement));
    }

    #[test]
    fn base64_text_constructs() {
        let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry>
            <title type="application/octet-stream">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</title>
            <summary mode="base64" type="text/plain">SGk=</summary></entry></feed>"#;
        let f = read(doc, None).unwrap();
        assert_eq!(
            f.entries[0].title.as_ref().unwrap().value,
            "Example <b>Atom</b>"
        );
        assert_eq!(f.entries[0].summary.as_ref().unwrap().value, "Hi");
        assert_eq!(decode_base64("not base64!"), None);
    }

    #[test]
    fn markup_built_from_first_child_keeps_entities() {
        let doc = r#"<rss><channel><item><description>a &lt; b &nbsp;<b>c</b> &amp; d</description></item></channel></rss>"#;
        let f = read(doc, None).unwrap();
        assert_eq!(
            f.entries[0].summary.as_ref().unwrap().value,
            "a &lt; b &nbsp;<b>c</b> &amp; d"
        );
    }

    #[test]
    fn lenient_unescape() {
        assert_eq!(unescape_lenient("a&amp;b&#x41;&nbsp;&"), "a&bA&nbsp;&");
    }
}
