//! JSON-LD (`<script type="application/ld+json">`): the article object's
//! headline, authors and dates.

use serde_json::{Map, Value};

/// What the page's JSON-LD says about the article.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct JsonLd {
    pub headline: Option<String>,
    /// Names of the article's authors that are people (or plain strings).
    pub authors: Vec<String>,
    /// The article's authors were only organisations.
    pub authors_are_orgs: bool,
    pub date_published: Option<String>,
    pub date_modified: Option<String>,
    /// `datePublished` of a non-article object (a `WebPage`).
    pub page_date: Option<String>,
    pub publisher: Option<String>,
    pub language: Option<String>,
}

/// Types that denote an article (Readability's list plus a few).
fn is_article_type(t: &str) -> bool {
    let t = t.rsplit(['/', ':']).next().unwrap_or(t);
    t.ends_with("Article")
        || matches!(
            t,
            "BlogPosting"
                | "LiveBlogPosting"
                | "SocialMediaPosting"
                | "DiscussionForumPosting"
                | "Report"
                | "APIReference"
                | "Review"
                | "Posting"
        )
}

fn types(o: &Map<String, Value>) -> Vec<&str> {
    match o.get("@type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    }
}

/// Parses one script's text leniently (comments, CDATA, raw newlines in
/// strings).
fn parse(text: &str) -> Option<Value> {
    let t = text.trim();
    let t = t.strip_prefix("<!--").unwrap_or(t);
    let t = t.strip_suffix("-->").unwrap_or(t);
    let t = t.trim();
    let t = t
        .strip_prefix("//<![CDATA[")
        .or_else(|| t.strip_prefix("<![CDATA["))
        .unwrap_or(t);
    let t = t
        .strip_suffix("//]]>")
        .or_else(|| t.strip_suffix("]]>"))
        .unwrap_or(t);
    let t = t.trim().trim_end_matches(';');
    if let Ok(v) = serde_json::from_str(t) {
        return Some(v);
    }
    // Raw control characters inside strings are the usual breakage.
    let fixed: String = t
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    serde_json::from_str(&fixed).ok()
}

fn string_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            let s = crate::parse::text::plain_text(s);
            (!s.is_empty()).then_some(s)
        }
        Value::Array(a) => a.iter().find_map(string_of),
        Value::Object(o) => o.get("@value").and_then(string_of),
        _ => None,
    }
}

/// Person names from an `author` (or `creator`) value.
fn people(v: &Value, out: &mut Vec<String>, orgs: &mut bool) {
    let list: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    for p in list {
        match p {
            Value::String(s) => {
                let s = s.trim();
                if !s.is_empty() && !s.starts_with("http") {
                    out.push(s.to_string());
                }
            }
            Value::Object(o) => {
                let ts = types(o);
                if ts
                    .iter()
                    .any(|t| t.contains("Organization") || *t == "NewsMediaOrganization")
                {
                    *orgs = true;
                    continue;
                }
                let name = o.get("name").and_then(string_of).or_else(|| {
                    let g = o.get("givenName").and_then(string_of)?;
                    let f = o.get("familyName").and_then(string_of).unwrap_or_default();
                    Some(format!("{g} {f}").trim().to_string())
                });
                if let Some(n) = name {
                    out.push(n);
                }
            }
            _ => {}
        }
    }
}

/// Reads all JSON-LD scripts of a page.
pub fn read(scripts: &[String]) -> JsonLd {
    let mut out = JsonLd::default();
    let mut articles: Vec<Map<String, Value>> = Vec::new();
    let mut others: Vec<Map<String, Value>> = Vec::new();
    for s in scripts {
        let Some(v) = parse(s) else { continue };
        // Walk arrays, @graph and nested objects without recursion.
        let mut stack = vec![v];
        let mut seen = 0usize;
        while let Some(v) = stack.pop() {
            seen += 1;
            if seen > 10_000 {
                break;
            }
            match v {
                Value::Array(a) => stack.extend(a.into_iter().rev()),
                Value::Object(mut o) => {
                    if let Some(g) = o.remove("@graph") {
                        stack.push(g);
                    }
                    for key in [
                        "mainEntity",
                        "mainEntityOfPage",
                        "hasPart",
                        "itemListElement",
                    ] {
                        if let Some(Value::Object(_) | Value::Array(_)) = o.get(key)
                            && let Some(x) = o.remove(key)
                        {
                            stack.push(x);
                        }
                    }
                    if types(&o).iter().any(|t| is_article_type(t)) {
                        articles.push(o);
                    } else if !types(&o).is_empty() {
                        others.push(o);
                    }
                }
                _ => {}
            }
        }
    }
    for a in &articles {
        if out.headline.is_none() {
            out.headline = a
                .get("headline")
                .and_then(string_of)
                .or_else(|| a.get("name").and_then(string_of));
        }
        if out.authors.is_empty() {
            let mut names = Vec::new();
            let mut orgs = false;
            if let Some(v) = a.get("author") {
                people(v, &mut names, &mut orgs);
            }
            if names.is_empty()
                && let Some(v) = a.get("creator")
            {
                people(v, &mut names, &mut orgs);
            }
            out.authors_are_orgs |= orgs && names.is_empty();
            out.authors = names;
        }
        if out.date_published.is_none() {
            out.date_published = a
                .get("datePublished")
                .and_then(string_of)
                .or_else(|| a.get("dateCreated").and_then(string_of));
        }
        if out.date_modified.is_none() {
            out.date_modified = a.get("dateModified").and_then(string_of);
        }
        if out.publisher.is_none() {
            out.publisher = a.get("publisher").and_then(|p| match p {
                Value::Object(o) => o.get("name").and_then(string_of),
                other => string_of(other),
            });
        }
        if out.language.is_none() {
            out.language = a.get("inLanguage").and_then(string_of);
        }
    }
    for o in &others {
        if out.page_date.is_none() {
            out.page_date = o
                .get("datePublished")
                .and_then(string_of)
                .or_else(|| o.get("uploadDate").and_then(string_of));
        }
        if out.publisher.is_none() && types(o).contains(&"WebSite") {
            out.publisher = o.get("name").and_then(string_of);
        }
        if out.language.is_none() {
            out.language = o.get("inLanguage").and_then(string_of);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_article_with_people() {
        let j = read(&[r#"{"@context":"https://schema.org","@type":"NewsArticle",
            "headline":"Big &amp; news","datePublished":"2020-01-02T03:04:05Z",
            "author":[{"@type":"Person","name":"A One"},{"@type":"Person","givenName":"B","familyName":"Two"}],
            "publisher":{"@type":"Organization","name":"The Paper"}}"#
            .to_string()]);
        assert_eq!(j.headline.as_deref(), Some("Big & news"));
        assert_eq!(j.authors, vec!["A One", "B Two"]);
        assert_eq!(j.date_published.as_deref(), Some("2020-01-02T03:04:05Z"));
        assert_eq!(j.publisher.as_deref(), Some("The Paper"));
    }

    #[test]
    fn graph_and_lenient_parsing() {
        let j = read(&[
            "<!--\n{\"@graph\":[{\"@type\":\"WebPage\",\"datePublished\":\"2019-05-06\"},\n{\"@type\":[\"BlogPosting\"],\"author\":{\"@type\":\"Person\",\"name\":\"Line\nBreak\"}}]};\n-->"
                .to_string(),
        ]);
        assert_eq!(j.authors, vec!["Line Break"]);
        assert_eq!(j.page_date.as_deref(), Some("2019-05-06"));
    }

    #[test]
    fn organisations_are_not_people() {
        let j = read(&[
            r#"{"@type":"Article","author":{"@type":"Organization","name":"BBC News"}}"#
                .to_string(),
        ]);
        assert!(j.authors.is_empty());
        assert!(j.authors_are_orgs);
    }

    #[test]
    fn garbage_and_deep_nesting() {
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let j = read(&["not json".to_string(), deep, String::new()]);
        assert_eq!(j, JsonLd::default());
    }
}
