//! Author strings: RSS `<author>` is meant to be an e-mail address, often
//! with the name in parentheses (`mail@x (Name)`); `dc:creator` and
//! `itunes:author` carry a name; some feeds write `Name <mail@x>`. Secwire
//! keeps names only.

use super::text;

/// The person's name in an author string, or `None` when there is none
/// (an e-mail address alone, or nothing).
///
/// Differs from feedparser on purpose: feedparser's e-mail pattern only
/// knows two-to-four letter top-level domains, so `x@y.network (Name)`
/// keeps part of the address in the name; here any domain is recognised.
pub fn name_of(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let without_mail = match find_email(raw) {
        Some((start, end)) => {
            let mut s = String::with_capacity(raw.len());
            s.push_str(&raw[..start]);
            s.push_str(&raw[end..]);
            s
        }
        None => raw.to_string(),
    };
    let mut name = without_mail
        .replace("()", " ")
        .replace("<>", " ")
        .replace("[]", " ")
        .replace("&lt;&gt;", " ");
    // Strip the brackets that were around the name or the address.
    loop {
        let t = name.trim();
        let stripped = t
            .strip_prefix('(')
            .and_then(|x| x.strip_suffix(')'))
            .or_else(|| {
                t.strip_prefix('<')
                    .and_then(|x| x.strip_suffix('>'))
                    .filter(|x| !x.contains(['<', '>']))
            })
            .or_else(|| t.strip_prefix('"').and_then(|x| x.strip_suffix('"')));
        match stripped {
            Some(inner) => name = inner.to_string(),
            None => break,
        }
    }
    let mut name = name.trim().trim_matches(',').trim();
    // A bracket left over from `(mail@x Name)`-style strings, but not the
    // closing one of `Name (Org)`.
    let opens = name.matches('(').count();
    let closes = name.matches(')').count();
    if closes > opens {
        name = name.strip_suffix(')').unwrap_or(name).trim();
    } else if opens > closes {
        name = name.strip_prefix('(').unwrap_or(name).trim();
    }
    let name = text::plain_text(name);
    (!name.is_empty()).then_some(name)
}

/// Byte range of the first e-mail address (with an optional `mailto:`).
fn find_email(s: &str) -> Option<(usize, usize)> {
    let at = s.find('@')?;
    let b = s.as_bytes();
    let is_local = |c: u8| c.is_ascii_alphanumeric() || b"._%+-'".contains(&c);
    let is_domain = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'-';
    let mut start = at;
    while start > 0 && is_local(b[start - 1]) {
        start -= 1;
    }
    let mut end = at + 1;
    while end < b.len() && is_domain(b[end]) {
        end += 1;
    }
    // Trailing dots are punctuation, not part of the domain.
    while end > at + 1 && b[end - 1] == b'.' {
        end -= 1;
    }
    let domain = &s[at + 1..end];
    if start == at || !domain.contains('.') || domain.starts_with('.') {
        return None;
    }
    if s[..start].to_ascii_lowercase().ends_with("mailto:") {
        start -= "mailto:".len();
    }
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_with_name_in_parentheses() {
        assert_eq!(
            name_of("mail@x.com (Jane Doe)").as_deref(),
            Some("Jane Doe")
        );
        assert_eq!(name_of("  jd@ex.network  (Jane) ").as_deref(), Some("Jane"));
    }

    #[test]
    fn name_with_email_in_brackets() {
        assert_eq!(
            name_of("Jane Doe <jane@ex.com>").as_deref(),
            Some("Jane Doe")
        );
        assert_eq!(
            name_of("Jane Doe (mailto:jane@ex.com)").as_deref(),
            Some("Jane Doe")
        );
    }

    #[test]
    fn email_only_and_name_only() {
        assert_eq!(name_of("jane@ex.com"), None);
        assert_eq!(name_of("(jane@ex.com)"), None);
        assert_eq!(name_of("   "), None);
        assert_eq!(name_of("Jane &amp; John").as_deref(), Some("Jane & John"));
        assert_eq!(name_of("(Cornucopia?)").as_deref(), Some("Cornucopia?"));
        assert_eq!(
            name_of("Pei Mei (E. James O'Kelly)").as_deref(),
            Some("Pei Mei (E. James O'Kelly)")
        );
        assert_eq!(
            name_of("x@ex.com (Grote Projecten (GPO))").as_deref(),
            Some("Grote Projecten (GPO)")
        );
        assert_eq!(name_of("@handle").as_deref(), Some("@handle"));
        assert_eq!(
            name_of("<p>Item Author</p>").as_deref(),
            Some("Item Author")
        );
    }
}
