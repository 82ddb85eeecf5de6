//! Text fields from feeds: titles and names arrive with HTML tags and
//! entities (sometimes escaped twice); stored values are plain text.

use ego_tree::iter::Edge;
use scraper::{Html, Node};

/// Collapses runs of whitespace to one space and trims.
pub fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Plain text of a short HTML-ish string: tags removed, entities decoded,
/// whitespace collapsed. Strings without `<` or `&` are only collapsed.
///
/// Only real HTML tags are removed: a `<` that does not open a known HTML
/// element (`Parameters<Type>`, `a < b`) is kept as text. Block elements
/// and `<br>` separate words. The content of `<script>` and `<style>` is
/// dropped.
pub fn plain_text(s: &str) -> String {
    if !s.contains(['<', '&']) {
        return collapse_ws(s);
    }
    let prepared = escape_non_tags(s);
    let frag = Html::parse_fragment(&prepared);
    let mut out = String::with_capacity(s.len());
    let mut skip_depth = 0usize;
    for edge in frag.root_element().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(e) => {
                    let name = e.name();
                    if matches!(name, "script" | "style" | "template") {
                        skip_depth += 1;
                    } else if is_separating(name) {
                        out.push(' ');
                    }
                }
                Node::Text(t) if skip_depth == 0 => out.push_str(t),
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(e) = node.value() {
                    let name = e.name();
                    if matches!(name, "script" | "style" | "template") {
                        skip_depth = skip_depth.saturating_sub(1);
                    } else if is_separating(name) {
                        out.push(' ');
                    }
                }
            }
        }
    }
    collapse_ws(&out)
}

/// `Some(plain_text)` when the result is not empty.
pub fn non_empty_plain(s: Option<&str>) -> Option<String> {
    let t = plain_text(s?);
    (!t.is_empty()).then_some(t)
}

/// Elements whose boundaries separate words.
fn is_separating(name: &str) -> bool {
    matches!(
        name,
        "br" | "p"
            | "div"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "tr"
            | "td"
            | "th"
            | "table"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "pre"
            | "hr"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "figure"
            | "figcaption"
            | "img"
    )
}

/// HTML element names that are treated as markup inside text fields.
const HTML_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "area",
    "article",
    "aside",
    "audio",
    "b",
    "base",
    "bdi",
    "bdo",
    "big",
    "blink",
    "blockquote",
    "body",
    "br",
    "button",
    "canvas",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "data",
    "dd",
    "del",
    "details",
    "dfn",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hr",
    "html",
    "i",
    "iframe",
    "img",
    "input",
    "ins",
    "kbd",
    "label",
    "legend",
    "li",
    "link",
    "main",
    "map",
    "mark",
    "marquee",
    "math",
    "menu",
    "meta",
    "meter",
    "nav",
    "nobr",
    "noscript",
    "object",
    "ol",
    "optgroup",
    "option",
    "output",
    "p",
    "param",
    "picture",
    "pre",
    "progress",
    "q",
    "rp",
    "rt",
    "ruby",
    "s",
    "samp",
    "script",
    "section",
    "select",
    "small",
    "source",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "svg",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "title",
    "tr",
    "track",
    "tt",
    "u",
    "ul",
    "var",
    "video",
    "wbr",
];

/// Replaces each `<` that does not open or close a known HTML element (or
/// start a comment) by `&lt;`, so that the HTML parser keeps it as text.
fn escape_non_tags(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('<') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s;
    while let Some(p) = rest.find('<') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        if starts_html_tag(after) {
            out.push('<');
        } else {
            out.push_str("&lt;");
        }
        rest = after;
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

fn starts_html_tag(after_lt: &str) -> bool {
    if after_lt.starts_with("!--") {
        return true;
    }
    let name_part = after_lt.strip_prefix('/').unwrap_or(after_lt);
    let end = name_part
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(name_part.len());
    if end == 0 {
        return false;
    }
    let terminator = name_part[end..].chars().next();
    if !matches!(
        terminator,
        None | Some('>' | '/' | ' ' | '\t' | '\n' | '\r')
    ) {
        return false;
    }
    let name = name_part[..end].to_ascii_lowercase();
    HTML_ELEMENTS.binary_search(&name.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        assert_eq!(plain_text("  Foo &amp; <b>Bar</b>\n baz "), "Foo & Bar baz");
        assert_eq!(plain_text("AT&T wins"), "AT&T wins");
        assert_eq!(plain_text("&lt;script&gt;"), "<script>");
        assert_eq!(plain_text("caf&eacute; &#8217;s"), "café ’s");
    }

    #[test]
    fn unknown_tags_are_text() {
        assert_eq!(
            plain_text("Guide to Parameters<Type> in TS"),
            "Guide to Parameters<Type> in TS"
        );
        assert_eq!(plain_text("a < b and c > d"), "a < b and c > d");
        assert_eq!(plain_text("1930ft<sup>2</sup>"), "1930ft2");
        assert_eq!(plain_text("one<br>two<p>three</p>"), "one two three");
        assert_eq!(plain_text("x<script>alert(1)</script>y"), "xy");
    }

    #[test]
    fn element_table_is_sorted() {
        assert!(HTML_ELEMENTS.windows(2).all(|w| w[0] < w[1]));
    }
}
