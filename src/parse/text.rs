//! Text fields from feeds: titles and names arrive with HTML tags and
//! entities (sometimes escaped twice); stored values are plain text.

use scraper::Html;

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
pub fn plain_text(s: &str) -> String {
    if !s.contains(['<', '&']) {
        return collapse_ws(s);
    }
    let frag = Html::parse_fragment(s);
    let text: String = frag.root_element().text().collect();
    collapse_ws(&text)
}

/// `Some(plain_text)` when the result is not empty.
pub fn non_empty_plain(s: Option<&str>) -> Option<String> {
    let t = plain_text(s?);
    (!t.is_empty()).then_some(t)
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
}
