//! Reading feed lists from OPML files (`secwire feeds import`).

use quick_xml::Reader;
use quick_xml::events::Event;
use thiserror::Error;

/// One feed found in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    pub url: String,
    pub name: Option<String>,
}

#[derive(Debug, Error)]
pub enum OpmlError {
    #[error("not valid OPML (XML error at byte {position}): {message}")]
    Xml { position: u64, message: String },
    #[error("no <outline xmlUrl=…> elements found: is this an OPML feed list?")]
    NoFeeds,
}

/// Every `<outline>` with an `xmlUrl`, at any depth, in document order.
pub fn parse_opml(text: &str) -> Result<Vec<OpmlFeed>, OpmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut out = Vec::new();
    loop {
        let ev = reader.read_event().map_err(|e| OpmlError::Xml {
            position: reader.buffer_position(),
            message: e.to_string(),
        })?;
        match ev {
            Event::Start(e) | Event::Empty(e)
                if e.local_name().into_inner().eq_ignore_ascii_case("outline") =>
            {
                let mut url = None;
                let mut title = None;
                let mut text_attr = None;
                for attr in e.attributes().flatten() {
                    let key = attr.key.local_name();
                    let value = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map(|v| v.trim().to_string())
                        .unwrap_or_default();
                    if value.is_empty() {
                        continue;
                    }
                    match key.into_inner() {
                        k if k.eq_ignore_ascii_case("xmlUrl") => url = Some(value),
                        "title" => title = Some(value),
                        "text" => text_attr = Some(value),
                        _ => {}
                    }
                }
                if let Some(url) = url {
                    out.push(OpmlFeed {
                        url,
                        name: title.or(text_attr),
                    });
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(OpmlError::NoFeeds);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_outlines() {
        let doc = r#"<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
            <outline text="Security"><outline type="rss" text="Krebs" xmlUrl="https://krebsonsecurity.com/feed/"/>
            <outline title="A &amp; B" text="ab" xmlUrl=" https://ab.example/rss "/></outline>
            <outline text="no feed here" htmlUrl="https://x"/></body></opml>"#;
        let feeds = parse_opml(doc).unwrap();
        assert_eq!(feeds.len(), 2);
        assert_eq!(feeds[0].name.as_deref(), Some("Krebs"));
        assert_eq!(feeds[1].url, "https://ab.example/rss");
        assert_eq!(feeds[1].name.as_deref(), Some("A & B"));
    }

    #[test]
    fn not_opml() {
        assert!(matches!(
            parse_opml("<html><body/></html>"),
            Err(OpmlError::NoFeeds)
        ));
        assert!(matches!(
            parse_opml("<opml><body><outline xmlUrl='x'></body>"),
            Err(OpmlError::Xml { .. })
        ));
    }
}
