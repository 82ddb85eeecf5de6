//! URL lists for `backfill --urls FILE`: one URL a line, `#` starts a
//! comment, blank lines are ignored.

use url::Url;

/// The URLs of a list, and the lines that were not URLs (line number, text).
#[derive(Debug, Default, PartialEq)]
pub struct UrlList {
    pub urls: Vec<Url>,
    pub rejected: Vec<(usize, String)>,
}

pub fn parse(text: &str) -> UrlList {
    let mut out = UrlList::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.split(" #").next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match crate::config::parse_http_url(line) {
            Ok(u) => out.urls.push(u),
            Err(e) => out.rejected.push((i + 1, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_and_errors() {
        let l = parse(
            "# my list\nhttps://ex.com/a\n\n  https://ex.com/b  # note\nftp://x/y\nnot a url\n",
        );
        assert_eq!(l.urls.len(), 2);
        assert_eq!(l.urls[1].as_str(), "https://ex.com/b");
        assert_eq!(
            l.rejected.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![5, 6]
        );
    }
}
