//! Links: resolving them against a base and reducing them to the canonical
//! form under which an article is stored once.

use url::Url;

/// Query parameters that only track the reader; they are removed from the
/// stored URL so that the same article reached through two feeds (or two
/// campaigns) is one item.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "yclid",
    "igshid",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "rb_clickid",
    "s_cid",
    "cmpid",
    "ncid",
    "sr_share",
    "ref_src",
    "spm",
    "twclid",
    "li_fat_id",
];

fn is_tracking_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("utm_")
        || lower.starts_with("__hs")
        || TRACKING_PARAMS.contains(&lower.as_str())
}

/// Resolves `href` against `base` (when given) and returns an absolute URL
/// string, or the trimmed input when it cannot be resolved.
pub fn resolve(href: &str, base: Option<&Url>) -> String {
    let href = href.trim();
    match Url::parse(href) {
        Ok(u) => u.to_string(),
        Err(url::ParseError::RelativeUrlWithoutBase) => match base.map(|b| b.join(href)) {
            Some(Ok(u)) => u.to_string(),
            _ => href.to_string(),
        },
        Err(_) => href.to_string(),
    }
}

/// The canonical form of an article URL: absolute http(s), no fragment, no
/// tracking parameters, host in lower case (the `url` crate already does
/// that), default port dropped. Returns `None` for anything that is not an
/// absolute http(s) URL.
pub fn canonical_url(link: &str) -> Option<String> {
    let mut u = Url::parse(link.trim()).ok()?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return None;
    }
    u.set_fragment(None);
    if u.query().is_some() {
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| !is_tracking_param(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    Some(u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tracking_and_fragment() {
        assert_eq!(
            canonical_url("https://Example.com:443/a/b?utm_source=rss&id=7&fbclid=x#top")
                .as_deref(),
            Some("https://example.com/a/b?id=7")
        );
        assert_eq!(
            canonical_url("http://example.com/p?utm_medium=feed").as_deref(),
            Some("http://example.com/p")
        );
        assert_eq!(canonical_url("mailto:x@example.com"), None);
        assert_eq!(canonical_url("/relative"), None);
    }

    #[test]
    fn resolves_relative() {
        let base = Url::parse("https://example.com/feeds/all.xml").unwrap();
        assert_eq!(
            resolve("../news/1.html", Some(&base)),
            "https://example.com/news/1.html"
        );
        assert_eq!(resolve(" /x ", Some(&base)), "https://example.com/x");
        assert_eq!(resolve("/x", None), "/x");
        assert_eq!(
            resolve("https://other.org/y", Some(&base)),
            "https://other.org/y"
        );
    }
}
