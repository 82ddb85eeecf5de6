//! Turning fetched bytes into text.
//!
//! Order of evidence, as browsers and feedparser do it: a byte-order mark,
//! then the HTTP `charset`, then the document's own declaration (`<?xml
//! encoding=…?>` or `<meta charset>`), then UTF-8. One correction on top:
//! documents that declare a single-byte Latin charset but are in fact valid,
//! non-ASCII UTF-8 are read as UTF-8 — a common publishing mistake that
//! otherwise turns every accented letter into mojibake.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// What kind of document the bytes are; it decides which in-document
/// declaration is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Xml,
    Html,
}

/// The decoded text and the encoding that was used.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    /// True when some bytes were not valid in that encoding and were replaced.
    pub had_errors: bool,
}

/// Extracts the `charset` parameter of a `Content-Type` header value.
pub fn charset_from_content_type(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("charset") {
            let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
            (!v.is_empty()).then_some(v)
        } else {
            None
        }
    })
}

/// Finds `encoding="…"` in an XML declaration at the start of the document.
pub fn xml_declared_encoding(bytes: &[u8]) -> Option<&str> {
    let head = &bytes[..bytes.len().min(1024)];
    let start = find(head, b"<?xml")?;
    let end = start + find(&head[start..], b"?>")?;
    let decl = &head[start..end];
    let pos = find(decl, b"encoding")?;
    let rest = &decl[pos + b"encoding".len()..];
    let rest = trim_ascii_start(rest).strip_prefix(b"=")?;
    let rest = trim_ascii_start(rest);
    let quote = *rest.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let body = &rest[1..];
    let close = body.iter().position(|&b| b == quote)?;
    std::str::from_utf8(&body[..close]).ok()
}

/// Finds `<meta charset=…>` or `<meta http-equiv=content-type content="…;
/// charset=…">` in the first 4 KiB of an HTML document.
pub fn html_declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(p) = find(&lower[from..], b"<meta") {
        let start = from + p;
        let end = start + find(&lower[start..], b">").unwrap_or(lower.len() - start);
        let tag = &lower[start..end];
        if let Some(cp) = find(tag, b"charset") {
            let rest = &tag[cp + b"charset".len()..];
            let rest = trim_ascii_start(rest);
            if let Some(rest) = rest.strip_prefix(b"=") {
                let rest = trim_ascii_start(rest);
                let rest = rest
                    .strip_prefix(b"\"")
                    .or_else(|| rest.strip_prefix(b"'"))
                    .unwrap_or(rest);
                let len = rest
                    .iter()
                    .position(|&b| !(b.is_ascii_alphanumeric() || b"-_.:".contains(&b)))
                    .unwrap_or(rest.len());
                if len > 0 {
                    return std::str::from_utf8(&rest[..len]).ok().map(str::to_string);
                }
            }
        }
        from = end.max(start + 1);
    }
    None
}

/// Decodes `bytes` following the order of evidence described in the module
/// documentation. `content_type` is the HTTP header value, if any.
///
/// XML documents get two more rules. Without a BOM, a document that starts
/// with `<?` in UTF-16 is read as UTF-16 (XML 1.0 appendix F). And a
/// document read as UTF-8 that is not valid UTF-8 is decoded run by run:
/// valid UTF-8 stays UTF-8, each invalid byte is read as windows-1252 (an
/// undeclared Latin-1 feed, or a UTF-8 feed with a few stray Latin-1
/// bytes, both come out right) — unless the HTTP header and the document
/// disagree and the other one names a non-UTF-8 encoding, which is then
/// believed instead.
pub fn decode(bytes: &[u8], content_type: Option<&str>, kind: DocKind) -> Decoded {
    if let Some((big_endian, skip)) = utf32_layout(bytes) {
        let (text, had_errors) = decode_utf32(&bytes[skip..], big_endian);
        return Decoded {
            text,
            encoding: UTF_8,
            had_errors,
        };
    }
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded {
            text: text.into_owned(),
            encoding: enc,
            had_errors,
        };
    }
    if kind == DocKind::Xml
        && let Some(enc) = utf16_without_bom(bytes)
    {
        let (text, had_errors) = enc.decode_without_bom_handling(bytes);
        return Decoded {
            text: text.into_owned(),
            encoding: enc,
            had_errors,
        };
    }
    let from_http = content_type
        .and_then(charset_from_content_type)
        .and_then(|l| Encoding::for_label(l.trim().as_bytes()));
    let declared = match kind {
        DocKind::Xml => {
            xml_declared_encoding(bytes).and_then(|l| Encoding::for_label(l.trim().as_bytes()))
        }
        DocKind::Html => {
            html_declared_encoding(bytes).and_then(|l| Encoding::for_label(l.trim().as_bytes()))
        }
    };
    // UTF-16 cannot be declared inside an ASCII-compatible document that we
    // could read: without a BOM such a declaration is a lie.
    let declared = declared.filter(|e| e.is_ascii_compatible());
    let from_http = from_http.filter(|e| e.is_ascii_compatible());
    let chosen = from_http.or(declared);
    let encoding = match chosen {
        Some(enc) if enc == UTF_8 => UTF_8,
        Some(enc) if is_single_byte_latin(enc) && looks_like_utf8(bytes) => UTF_8,
        Some(enc) => enc,
        None => {
            if kind == DocKind::Html && std::str::from_utf8(bytes).is_err() {
                // Undeclared, invalid UTF-8 HTML: the web's default.
                WINDOWS_1252
            } else {
                UTF_8
            }
        }
    };
    if kind == DocKind::Xml && encoding == UTF_8 {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return Decoded {
                text: text.to_string(),
                encoding: UTF_8,
                had_errors: false,
            };
        }
        let other = [from_http, declared]
            .into_iter()
            .flatten()
            .find(|e| *e != UTF_8);
        if let Some(enc) = other {
            let (text, had_errors) = enc.decode_without_bom_handling(bytes);
            return Decoded {
                text: text.into_owned(),
                encoding: enc,
                had_errors,
            };
        }
        return Decoded {
            text: decode_utf8_or_1252(bytes),
            encoding: UTF_8,
            had_errors: true,
        };
    }
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    Decoded {
        text: text.into_owned(),
        encoding,
        had_errors,
    }
}

/// UTF-32 (which encoding_rs does not support), by BOM or by how `<` is
/// encoded: big-endian or not, and the BOM length to skip.
fn utf32_layout(bytes: &[u8]) -> Option<(bool, usize)> {
    match bytes.get(..4)? {
        [0x00, 0x00, 0xFE, 0xFF] => Some((true, 4)),
        [0xFF, 0xFE, 0x00, 0x00] => Some((false, 4)),
        [0x00, 0x00, 0x00, 0x3C] => Some((true, 0)),
        [0x3C, 0x00, 0x00, 0x00] => Some((false, 0)),
        _ => None,
    }
}

/// Decodes UTF-32; invalid code points become U+FFFD. The result's
/// `encoding` is reported as UTF-8 (what the text now is).
fn decode_utf32(bytes: &[u8], big_endian: bool) -> (String, bool) {
    let mut out = String::with_capacity(bytes.len() / 4);
    let mut had_errors = !bytes.len().is_multiple_of(4);
    for c in bytes.chunks_exact(4) {
        let arr = [c[0], c[1], c[2], c[3]];
        let v = if big_endian {
            u32::from_be_bytes(arr)
        } else {
            u32::from_le_bytes(arr)
        };
        match char::from_u32(v) {
            Some(ch) => out.push(ch),
            None => {
                had_errors = true;
                out.push('\u{fffd}');
            }
        }
    }
    (out, had_errors)
}

/// UTF-16 without a byte-order mark, recognised by how `<?` is encoded.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    match bytes.get(..4)? {
        [0x3C, 0x00, 0x3F, 0x00] | [0x3C, 0x00, _, 0x00] if bytes.len().is_multiple_of(2) => {
            Some(encoding_rs::UTF_16LE)
        }
        [0x00, 0x3C, 0x00, 0x3F] | [0x00, 0x3C, 0x00, _] if bytes.len().is_multiple_of(2) => {
            Some(encoding_rs::UTF_16BE)
        }
        _ => None,
    }
}

/// Valid UTF-8 runs as UTF-8, every invalid byte as windows-1252.
fn decode_utf8_or_1252(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        let invalid = chunk.invalid();
        if !invalid.is_empty() {
            let (text, _) = WINDOWS_1252.decode_without_bom_handling(invalid);
            out.push_str(&text);
        }
    }
    out
}

/// ISO-8859-x and windows-125x: encodings in which any byte sequence is
/// valid, so a mislabelled UTF-8 document decodes "successfully" to mojibake.
fn is_single_byte_latin(enc: &'static Encoding) -> bool {
    let name = enc.name();
    name.starts_with("ISO-8859") || name.starts_with("windows-125")
}

/// Valid UTF-8 that contains at least one multi-byte sequence.
fn looks_like_utf8(bytes: &[u8]) -> bool {
    !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_charset_parameter() {
        assert_eq!(
            charset_from_content_type("text/xml; charset=\"windows-1251\""),
            Some("windows-1251")
        );
        assert_eq!(charset_from_content_type("text/html"), None);
    }

    #[test]
    fn windows_1251_declared_in_xml() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("Привет, мир");
        let mut doc = b"<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss><t>".to_vec();
        doc.extend_from_slice(&bytes);
        doc.extend_from_slice(b"</t></rss>");
        let d = decode(&doc, None, DocKind::Xml);
        assert!(d.text.contains("Привет, мир"), "{}", d.text);
        assert_eq!(d.encoding.name(), "windows-1251");
    }

    #[test]
    fn http_charset_wins_over_declaration() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("Київ");
        let mut doc = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><t>".to_vec();
        doc.extend_from_slice(&bytes);
        doc.extend_from_slice(b"</t>");
        let d = decode(&doc, Some("text/xml; charset=windows-1251"), DocKind::Xml);
        assert!(d.text.contains("Київ"));
    }

    #[test]
    fn bom_wins_over_everything() {
        let mut doc = vec![0xEF, 0xBB, 0xBF];
        doc.extend_from_slice("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><t>é</t>".as_bytes());
        let d = decode(&doc, Some("text/xml; charset=iso-8859-1"), DocKind::Xml);
        assert!(d.text.contains("<t>é</t>"));
        assert!(!d.text.starts_with('\u{feff}'));
    }

    #[test]
    fn latin1_declared_but_really_utf8() {
        let doc = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><t>Müller</t>".as_bytes();
        let d = decode(doc, None, DocKind::Xml);
        assert!(d.text.contains("Müller"), "{}", d.text);
    }

    #[test]
    fn real_latin1_stays_latin1() {
        let mut doc = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><t>M".to_vec();
        doc.push(0xFC);
        doc.extend_from_slice(b"ller</t>");
        let d = decode(&doc, None, DocKind::Xml);
        assert!(d.text.contains("Müller"), "{}", d.text);
    }

    #[test]
    fn undeclared_latin1_xml() {
        let mut doc = b"<rss><t>tr".to_vec();
        doc.push(0xE8);
        doc.extend_from_slice(b"s ".as_slice());
        doc.extend_from_slice("déjà".as_bytes());
        doc.extend_from_slice(b"</t></rss>");
        let d = decode(&doc, None, DocKind::Xml);
        assert!(d.text.contains("très déjà"), "{}", d.text);
    }

    #[test]
    fn http_utf8_lie_falls_back_to_declaration() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("Новости");
        let mut doc = b"<?xml version=\"1.0\" encoding=\"windows-1251\"?><t>".to_vec();
        doc.extend_from_slice(&bytes);
        doc.extend_from_slice(b"</t>");
        let d = decode(&doc, Some("text/xml; charset=utf-8"), DocKind::Xml);
        assert_eq!(d.encoding.name(), "windows-1251");
        assert!(d.text.contains("Новости"), "{}", d.text);
    }

    #[test]
    fn utf32_with_and_without_bom() {
        let text = "<?xml version=\"1.0\"?><t>é€😀</t>";
        let be: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect();
        let mut le_bom = vec![0xFF, 0xFE, 0, 0];
        le_bom.extend(text.chars().flat_map(|c| (c as u32).to_le_bytes()));
        assert_eq!(decode(&be, None, DocKind::Xml).text, text);
        assert_eq!(decode(&le_bom, None, DocKind::Xml).text, text);
    }

    #[test]
    fn utf16_without_bom_is_detected() {
        let text = "<?xml version=\"1.0\"?><t>é</t>";
        let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let d = decode(&bytes, None, DocKind::Xml);
        assert!(d.text.contains("<t>é</t>"), "{}", d.text);
    }

    #[test]
    fn html_meta_charset() {
        let mut doc = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"></head><body>".to_vec();
        doc.push(0xE9);
        doc.extend_from_slice(b"</body></html>");
        let d = decode(&doc, None, DocKind::Html);
        assert!(d.text.contains('é'));
        let doc = b"<meta charset='utf-8'><p>ok</p>";
        assert_eq!(html_declared_encoding(doc).as_deref(), Some("utf-8"));
    }

    #[test]
    fn undeclared_invalid_utf8_html_is_windows_1252() {
        let doc = [b'<', b'p', b'>', 0x93, b'q', 0x94, b'<'];
        let d = decode(&doc, None, DocKind::Html);
        assert!(d.text.contains('\u{201c}'));
    }
}
