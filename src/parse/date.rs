//! Lenient feed timestamps.
//!
//! Feeds are supposed to carry RFC 822 (RSS) or RFC 3339 (Atom, JSON Feed)
//! dates; in practice they carry almost anything. [`parse_date`] reads:
//!
//! * ISO 8601 / W3C-DTF and its common deformations: a space instead of `T`
//!   (`2018-12-13 00:00:00`), one-digit fields (`2009-01-12T5:40:14-05:00`),
//!   missing or truncated zones (`2017-06-13T03:18:00+00:0`), fractions,
//!   `/` or `.` as date separator (`2020/1/10 14:33:00`), basic format
//!   (`20081230T102400Z`), date only (`2019-08-27`);
//! * RFC 822 / 1123 / 2822 and relatives: any or no weekday, long or short
//!   month names (English and the common European languages), day and month
//!   in either order, two-digit years, missing seconds, `GMT+0200`,
//!   numeric and named zones, asctime (`Sun Nov  6 08:49:37 1994`) and
//!   JavaScript's `Date.toString()` (`Sat Oct 06 2018 00:00:00 GMT+0200 (CEST)`);
//! * Unix time in seconds or milliseconds (a 10 or 13 digit number).
//!
//! A time without a zone is taken as UTC, as feedparser does. Named zones
//! follow feedparser's table for the North American and military names;
//! unlike feedparser (which reads every other name as UTC) the common
//! European, Asian and Australian abbreviations get their real offsets.
//! Years before 1900 or after 2200 are rejected as placeholders.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// Parses a feed date; `None` when the text is not a recognisable date.
pub fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 120 {
        return None;
    }
    parse_iso(s)
        .or_else(|| parse_textual(s))
        .or_else(|| parse_epoch(s))
}

/// Date and time fields before validation.
#[derive(Debug, Default, Clone, Copy)]
struct Fields {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    /// Offset east of UTC, minutes.
    offset_min: i32,
}

fn build(f: Fields) -> Option<DateTime<Utc>> {
    if !(1900..=2200).contains(&f.year) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(f.year, f.month, f.day)?;
    // 24:00 is midnight at the end of the day; a leap second is clamped.
    let (hour, extra_day) = if f.hour == 24 && f.minute == 0 && f.second == 0 {
        (0, 1)
    } else {
        (f.hour, 0)
    };
    let time = NaiveTime::from_hms_opt(hour, f.minute, f.second.min(59))?;
    let local = NaiveDateTime::new(date, time).checked_add_signed(Duration::days(extra_day))?;
    let utc = local.checked_sub_signed(Duration::minutes(i64::from(f.offset_min)))?;
    Some(utc.and_utc())
}

/// A small cursor over ASCII bytes.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn new(s: &'a str) -> Self {
        Cur {
            b: s.as_bytes(),
            i: 0,
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(c) if c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    /// Reads `min..=max` digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        let mut v: u32 = 0;
        while self.i - start < max {
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    v = v * 10 + u32::from(c - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        (self.i - start >= min).then_some(v)
    }
    fn rest(&self) -> &'a [u8] {
        &self.b[self.i.min(self.b.len())..]
    }
}

/// ISO 8601 / W3C-DTF and deformations; the year comes first.
fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    let mut c = Cur::new(s);
    let mut f = Fields {
        month: 1,
        day: 1,
        ..Fields::default()
    };
    let basic = s.len() >= 8 && s.as_bytes()[..8].iter().all(u8::is_ascii_digit);
    if basic {
        // 20081230 or 20081230T102400Z
        f.year = i32::try_from(c.digits(4, 4)?).ok()?;
        f.month = c.digits(2, 2)?;
        f.day = c.digits(2, 2)?;
        if c.peek().is_none() {
            return build(f);
        }
        if !(c.eat(b'T') || c.eat(b't')) {
            return None;
        }
        f.hour = c.digits(2, 2)?;
        f.minute = c.digits(2, 2)?;
        f.second = c.digits(2, 2).unwrap_or(0);
        skip_fraction(&mut c);
        f.offset_min = iso_zone(&mut c)?;
        return build(f);
    }
    f.year = i32::try_from(c.digits(4, 4)?).ok()?;
    let sep = c.peek()?;
    if !matches!(sep, b'-' | b'/' | b'.') {
        return None;
    }
    c.i += 1;
    f.month = c.digits(1, 2)?;
    if c.peek().is_none() {
        return build(f);
    }
    if !c.eat(sep) {
        return None;
    }
    f.day = c.digits(1, 2)?;
    if c.peek().is_none() {
        return build(f);
    }
    // Separator between date and time: T, or spaces, or both.
    c.skip_spaces();
    let _ = c.eat(b'T') || c.eat(b't');
    c.skip_spaces();
    if c.peek().is_none() {
        return build(f);
    }
    if matches!(c.peek(), Some(d) if d.is_ascii_digit()) {
        f.hour = c.digits(1, 2)?;
        if c.eat(b':') {
            f.minute = c.digits(1, 2)?;
            if c.eat(b':') {
                f.second = c.digits(1, 2)?;
                skip_fraction(&mut c);
            }
        } else if let Some(m) = c.digits(2, 2) {
            // T1024 / T102400
            f.minute = m;
            f.second = c.digits(2, 2).unwrap_or(0);
            skip_fraction(&mut c);
        } else {
            return None;
        }
        c.skip_spaces();
        if matches!(c.peek(), Some(b'a' | b'A' | b'p' | b'P')) {
            let pm = matches!(c.peek(), Some(b'p' | b'P'));
            c.i += 1;
            if !(c.eat(b'm') || c.eat(b'M')) {
                return None;
            }
            f.hour = twelve_hour(f.hour, pm)?;
            c.skip_spaces();
        }
    }
    f.offset_min = iso_zone(&mut c)?;
    build(f)
}

fn twelve_hour(h: u32, pm: bool) -> Option<u32> {
    match (h, pm) {
        (1..=11, false) => Some(h),
        (12, false) => Some(0),
        (1..=11, true) => Some(h + 12),
        (12, true) => Some(12),
        _ => None,
    }
}

fn skip_fraction(c: &mut Cur<'_>) {
    if matches!(c.peek(), Some(b'.' | b',')) && c.b.get(c.i + 1).is_some_and(u8::is_ascii_digit) {
        c.i += 1;
        while c.peek().is_some_and(|d| d.is_ascii_digit()) {
            c.i += 1;
        }
    }
}

/// The zone at the end of an ISO time: nothing (UTC), `Z`, `+hh`, `+hhmm`,
/// `+hh:mm`, `+h:m`, or a name. Anything else after it fails the parse.
fn iso_zone(c: &mut Cur<'_>) -> Option<i32> {
    c.skip_spaces();
    let rest = c.rest();
    if rest.is_empty() {
        return Some(0);
    }
    let text = std::str::from_utf8(rest).ok()?;
    let text = strip_comment(text).trim();
    if text.is_empty() {
        return Some(0);
    }
    zone_offset(text)
}

/// Removes a trailing parenthesised comment such as `(CEST)`.
fn strip_comment(s: &str) -> &str {
    match s.find('(') {
        Some(p) if s.trim_end().ends_with(')') => &s[..p],
        _ => s,
    }
}

/// Offset in minutes for a zone token: numeric (`+0200`, `-05:00`, `+2`,
/// `GMT+0200`, `UTC-5`) or a name.
fn zone_offset(tok: &str) -> Option<i32> {
    let lower = tok.trim().to_ascii_lowercase();
    let mut t = lower.as_str();
    for prefix in ["etc/", "gmt", "utc", "ut"] {
        if let Some(rest) = t.strip_prefix(prefix)
            && (rest.is_empty() || rest.starts_with(['+', '-']))
        {
            if rest.is_empty() {
                return Some(0);
            }
            t = rest;
            break;
        }
    }
    if let Some(sign_char) = t.chars().next()
        && (sign_char == '+' || sign_char == '-')
    {
        let sign = if sign_char == '-' { -1 } else { 1 };
        let body = &t[1..];
        if !body.is_ascii() {
            return None;
        }
        let (h, m) = if let Some((h, m)) = body.split_once(':') {
            (h, m)
        } else if body.len() > 2 {
            body.split_at(2)
        } else {
            (body, "")
        };
        if h.is_empty()
            || h.len() > 2
            || m.len() > 2
            || !h.bytes().all(|b| b.is_ascii_digit())
            || !m.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let h: i32 = h.parse().ok()?;
        let m: i32 = if m.is_empty() { 0 } else { m.parse().ok()? };
        if h > 14 || m > 59 {
            return None;
        }
        return Some(sign * (h * 60 + m));
    }
    zone_name(t)
}

/// Named zones. North American and military names as in feedparser (and
/// RFC 822); the rest are the usual abbreviations with their real offsets.
fn zone_name(name: &str) -> Option<i32> {
    let h = |x: i32| Some(x * 60);
    match name {
        "z" | "ut" | "utc" | "gmt" | "wet" | "utc0" => h(0),
        "adt" => h(-3),
        "ast" | "at" | "edt" => h(-4),
        "est" | "et" | "cdt" => h(-5),
        "cst" | "ct" | "mdt" => h(-6),
        "mst" | "mt" | "pdt" => h(-7),
        "pst" | "pt" | "akdt" => h(-8),
        "akst" => h(-9),
        "hst" => h(-10),
        "nst" => Some(-210),
        "ndt" => Some(-150),
        "a" => h(-1),
        "n" => h(1),
        "m" => h(-12),
        "y" => h(12),
        "bst" | "cet" | "met" | "west" | "wat" => h(1),
        "cest" | "mest" | "mesz" | "eet" | "sast" | "cat" => h(2),
        "eest" | "msk" | "eat" => h(3),
        "ist" => Some(330),
        "pkt" => h(5),
        "ict" | "wib" => h(7),
        "hkt" | "sgt" | "awst" | "pht" => h(8),
        "jst" | "kst" => h(9),
        "acst" => Some(570),
        "aest" => h(10),
        "acdt" => Some(630),
        "aedt" => h(11),
        "nzst" => h(12),
        "nzdt" => h(13),
        _ => None,
    }
}

fn month_from_name(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_lowercase();
    // Longer prefixes first where languages collide (French juin/juillet).
    let table: &[(&str, u32)] = &[
        ("juin", 6),
        ("juil", 7),
        ("jan", 1),
        ("ene", 1),
        ("gen", 1),
        ("janv", 1),
        ("feb", 2),
        ("fev", 2),
        ("fév", 2),
        ("mar", 3),
        ("mär", 3),
        ("mrz", 3),
        ("mrt", 3),
        ("apr", 4),
        ("avr", 4),
        ("abr", 4),
        ("may", 5),
        ("mai", 5),
        ("mag", 5),
        ("mei", 5),
        ("jun", 6),
        ("giu", 6),
        ("jul", 7),
        ("lug", 7),
        ("aug", 8),
        ("ago", 8),
        ("aoû", 8),
        ("aou", 8),
        ("sep", 9),
        ("set", 9),
        ("oct", 10),
        ("okt", 10),
        ("ott", 10),
        ("out", 10),
        ("nov", 11),
        ("dec", 12),
        ("dez", 12),
        ("dic", 12),
        ("déc", 12),
    ];
    if w.chars().count() < 3 || !w.chars().all(char::is_alphabetic) {
        return None;
    }
    table
        .iter()
        .find(|(p, _)| w.starts_with(p))
        .map(|&(_, m)| m)
}

/// RFC 822 and friends: tokens in (almost) any order.
fn parse_textual(s: &str) -> Option<DateTime<Utc>> {
    let s = strip_comment(s);
    let mut months: Vec<u32> = Vec::new();
    let mut numbers: Vec<(u32, usize)> = Vec::new(); // value, digit count
    let mut time: Option<(u32, u32, u32)> = None;
    let mut pm: Option<bool> = None;
    let mut offset: Option<i32> = None;

    let mut tokens: Vec<&str> = Vec::new();
    for raw in s.split(|c: char| c.is_whitespace() || c == ',') {
        if raw.is_empty() {
            continue;
        }
        // 06-Nov-94 (RFC 850) and 16.Nov.2022
        if raw.contains(['-', '.'])
            && raw.chars().any(char::is_alphabetic)
            && raw.chars().next().is_some_and(|c| c.is_ascii_digit())
        {
            tokens.extend(raw.split(['-', '.']).filter(|t| !t.is_empty()));
        } else {
            tokens.push(raw);
        }
    }

    for tok in tokens {
        let first = tok.chars().next()?;
        if first.is_ascii_digit() && tok.contains(':') && time.is_none() {
            // 08:49:37, 8:49, 08:49:37.123, 08:49:37+0200, 12:00:00Z
            let end = tok
                .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
                .unwrap_or(tok.len());
            let (clock, zone) = tok.split_at(end);
            let mut parts = clock.split(':');
            let h: u32 = parts.next()?.parse().ok()?;
            let m: u32 = parts.next()?.parse().ok()?;
            let sec: u32 = match parts.next() {
                Some(x) => x.split('.').next()?.parse().ok()?,
                None => 0,
            };
            time = Some((h, m, sec));
            if !zone.is_empty() {
                offset = Some(zone_offset(zone)?);
            }
        } else if first.is_ascii_digit() {
            let digits = tok.trim_end_matches('.');
            if digits.bytes().all(|b| b.is_ascii_digit()) && digits.len() <= 4 {
                numbers.push((digits.parse().ok()?, digits.len()));
            } else if let Some(st) = digits.strip_suffix(['s', 'n', 'r', 't', 'd']) {
                // 1st, 2nd, 3rd, 4th
                let st = st.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                numbers.push((st.parse().ok()?, st.len()));
            } else {
                return None;
            }
        } else if first == '+' || first == '-' {
            if let Some(z) = zone_offset(tok) {
                offset = Some(z);
            }
        } else if tok.eq_ignore_ascii_case("am") || tok.eq_ignore_ascii_case("pm") {
            pm = Some(tok.eq_ignore_ascii_case("pm"));
        } else if let Some(m) = month_from_name(tok) {
            months.push(m);
        } else if time.is_some()
            && let Some(z) = zone_offset(tok)
        {
            offset = Some(z);
        }
        // Anything else (weekday names, "de", "at") is ignored.
    }

    // A weekday can look like a month ("mar" is Tuesday in Spanish, French
    // and Italian); it comes first, so the last month-like word wins.
    let month = *months.last()?;
    let (year, day) = match numbers.as_slice() {
        [(a, la), (b, lb), ..] => {
            if *la == 4 {
                (*a, *b)
            } else if *lb == 4 {
                (*b, *a)
            } else {
                // "16 Nov 22": day first, then a two-digit year.
                (*b, *a)
            }
        }
        _ => return None,
    };
    let year = if year < 100 {
        if year < 90 { 2000 + year } else { 1900 + year }
    } else {
        year
    };
    let (mut hour, minute, second) = time.unwrap_or((0, 0, 0));
    if let Some(pm) = pm {
        hour = twelve_hour(hour, pm)?;
    }
    build(Fields {
        year: i32::try_from(year).ok()?,
        month,
        day,
        hour,
        minute,
        second,
        offset_min: offset.unwrap_or(0),
    })
}

/// Unix time: 10 digits (seconds) or 13 (milliseconds).
fn parse_epoch(s: &str) -> Option<DateTime<Utc>> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = s.parse().ok()?;
    let secs = match s.len() {
        9 | 10 => v,
        13 => v / 1000,
        _ => return None,
    };
    DateTime::from_timestamp(secs, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<String> {
        parse_date(s).map(crate::timefmt::to_db)
    }

    #[test]
    fn iso_variants() {
        assert_eq!(
            p("2018-12-13 00:00:00").as_deref(),
            Some("2018-12-13T00:00:00Z")
        );
        assert_eq!(
            p("2009-01-12T5:40:14-05:00").as_deref(),
            Some("2009-01-12T10:40:14Z")
        );
        assert_eq!(
            p("2017-06-13T03:18:00+00:0").as_deref(),
            Some("2017-06-13T03:18:00Z")
        );
        assert_eq!(
            p("2012-11-13T14:36:22").as_deref(),
            Some("2012-11-13T14:36:22Z")
        );
        assert_eq!(p("2019-08-27").as_deref(), Some("2019-08-27T00:00:00Z"));
        assert_eq!(
            p("2008-12-30T10:24:00.123+0100").as_deref(),
            Some("2008-12-30T09:24:00Z")
        );
        assert_eq!(
            p("20081230T102400Z").as_deref(),
            Some("2008-12-30T10:24:00Z")
        );
        assert_eq!(
            p("2020/1/10 14:33:00").as_deref(),
            Some("2020-01-10T14:33:00Z")
        );
        assert_eq!(
            p("2021-03-04T10:00:00 +02").as_deref(),
            Some("2021-03-04T08:00:00Z")
        );
        assert_eq!(
            p("2021-03-04 10:00 PM").as_deref(),
            Some("2021-03-04T22:00:00Z")
        );
    }

    #[test]
    fn rfc822_variants() {
        assert_eq!(
            p("Tue, 15 Nov 2022 20:15:04 +0100").as_deref(),
            Some("2022-11-15T19:15:04Z")
        );
        assert_eq!(
            p("15 Nov 2022 20:15 GMT").as_deref(),
            Some("2022-11-15T20:15:00Z")
        );
        assert_eq!(
            p("Thursday, 13 July 2011 07:38:00 EST").as_deref(),
            Some("2011-07-13T12:38:00Z")
        );
        assert_eq!(
            p("Sat, 5 Jan 02 1:02:03 PDT").as_deref(),
            Some("2002-01-05T08:02:03Z")
        );
        assert_eq!(
            p("mer, 16 nov 2022 00:38:15 +0100").as_deref(),
            Some("2022-11-15T23:38:15Z")
        );
        assert_eq!(
            p("mar, 15 nov 2022 10:00:00 +0000").as_deref(),
            Some("2022-11-15T10:00:00Z")
        );
        assert_eq!(
            p("16 de noviembre de 2022").as_deref(),
            Some("2022-11-16T00:00:00Z")
        );
        assert_eq!(
            p("Sunday, 06-Nov-94 08:49:37 GMT").as_deref(),
            Some("1994-11-06T08:49:37Z")
        );
        assert_eq!(
            p("Nov 16, 2022 10:00:00 CET").as_deref(),
            Some("2022-11-16T09:00:00Z")
        );
        assert_eq!(
            p("Wed, 02 Oct 2002 08:00:00 GMT+0200").as_deref(),
            Some("2002-10-02T06:00:00Z")
        );
    }

    #[test]
    fn asctime_and_javascript() {
        assert_eq!(
            p("Sun Nov  6 08:49:37 1994").as_deref(),
            Some("1994-11-06T08:49:37Z")
        );
        assert_eq!(
            p("Sat Oct 06 2018 00:00:00 GMT").as_deref(),
            Some("2018-10-06T00:00:00Z")
        );
        assert_eq!(
            p("Sat Oct 06 2018 00:00:00 GMT+0200 (Central European Summer Time)").as_deref(),
            Some("2018-10-05T22:00:00Z")
        );
    }

    #[test]
    fn epoch_and_rejects() {
        assert_eq!(p("1518478934").as_deref(), Some("2018-02-12T23:42:14Z"));
        assert_eq!(p(""), None);
        assert_eq!(p("yesterday"), None);
        assert_eq!(p("0001-01-01T00:00:00Z"), None);
        assert_eq!(p("2020-13-45"), None);
        assert_eq!(p("Tue, 31 Feb 2022 10:00:00 GMT"), None);
        assert_eq!(p("12345"), None);
        assert_eq!(p("2024-01-01T00:00:00+0\u{c3}00"), None);
        assert_eq!(
            p("Tue, 15 Nov 2022 20:15:04 +0\u{c3}00").as_deref(),
            Some("2022-11-15T20:15:04Z")
        );
    }
}
