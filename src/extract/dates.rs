//! Dates: machine-readable values (`2019-10-18T10:00:00+02:00`, RFC 2822,
//! Unix time), dates written out in text ("October 18, 2019",
//! "18. Oktober 2019", "18 de octubre de 2019", "18.10.2019") and dates in
//! URLs (`/2019/10/18/`).

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use regex::Regex;

/// Earliest and latest years taken as publication dates.
const MIN_YEAR: i32 = 1990;
const MAX_YEAR: i32 = 2099;

fn plausible(d: NaiveDate) -> bool {
    use chrono::Datelike;
    (MIN_YEAR..=MAX_YEAR).contains(&d.year())
}

fn re(s: &str) -> Regex {
    // Only called on the pattern literals in this file; covered by tests.
    Regex::new(s).unwrap_or_else(|e| panic!("static regex {s:?}: {e}"))
}

/// Parses the date formats found in page metadata (and, failing those, a
/// date written out in the text). Times without a zone are taken as UTC.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    parse_date_local(s).map(|d| d.with_timezone(&Utc))
}

/// [`parse_date`], keeping the offset the page gave (UTC when it gave
/// none): the calendar day a reader of the page sees.
pub fn parse_date_local(s: &str) -> Option<DateTime<FixedOffset>> {
    let utc = FixedOffset::east_opt(0)?;
    let ok = |d: DateTime<FixedOffset>| Some(d).filter(|d| plausible(d.date_naive()));
    let s = s.trim();
    if s.is_empty() || s.len() > 200 {
        return find_date_in_text(super::text::cut(s, 200), false).map(midnight_local);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return ok(d);
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return ok(d);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S%:z",
        "%Y-%m-%d %H:%M:%S %:z",
        "%a, %d %b %Y %H:%M:%S %z",
        "%a %b %d %Y %H:%M:%S GMT%z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, fmt) {
            return ok(d);
        }
    }
    let naive = s
        .trim_end_matches(" UTC")
        .trim_end_matches(" GMT")
        .trim_end_matches('Z');
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(naive, fmt) {
            return ok(d.and_utc().with_timezone(&utc));
        }
    }
    // Unix time in seconds or milliseconds.
    if s.bytes().all(|b| b.is_ascii_digit()) && (s.len() == 10 || s.len() == 13) {
        let secs: i64 = s[..10].parse().ok()?;
        return ok(Utc.timestamp_opt(secs, 0).single()?.with_timezone(&utc));
    }
    for fmt in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%d.%m.%Y", "%Y.%m.%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), fmt)
            && plausible(d)
        {
            return Some(midnight_local(d));
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, fmt)
            && plausible(d)
        {
            return Some(midnight_local(d));
        }
    }
    find_date_in_text(s, false).map(midnight_local)
}

/// Midnight of `d`, in UTC.
pub fn midnight_local(d: NaiveDate) -> DateTime<FixedOffset> {
    midnight(d).fixed_offset()
}

pub fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// Month names (and abbreviations) in the languages of the news we read.
const MONTHS: &[(&str, u32)] = &[
    // English
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    // German
    ("januar", 1),
    ("jänner", 1),
    ("februar", 2),
    ("märz", 3),
    ("maerz", 3),
    ("mai", 5),
    ("juni", 6),
    ("juli", 7),
    ("oktober", 10),
    ("dezember", 12),
    ("okt", 10),
    ("dez", 12),
    ("mär", 3),
    ("jän", 1),
    // French
    ("janvier", 1),
    ("février", 2),
    ("fevrier", 2),
    ("mars", 3),
    ("avril", 4),
    ("juin", 6),
    ("juillet", 7),
    ("août", 8),
    ("aout", 8),
    ("septembre", 9),
    ("octobre", 10),
    ("novembre", 11),
    ("décembre", 12),
    ("decembre", 12),
    // Spanish / Portuguese / Italian
    ("enero", 1),
    ("febrero", 2),
    ("marzo", 3),
    ("abril", 4),
    ("mayo", 5),
    ("junio", 6),
    ("julio", 7),
    ("agosto", 8),
    ("septiembre", 9),
    ("setiembre", 9),
    ("octubre", 10),
    ("noviembre", 11),
    ("diciembre", 12),
    ("janeiro", 1),
    ("fevereiro", 2),
    ("março", 3),
    ("maio", 5),
    ("junho", 6),
    ("julho", 7),
    ("setembro", 9),
    ("outubro", 10),
    ("novembro", 11),
    ("dezembro", 12),
    ("gennaio", 1),
    ("febbraio", 2),
    ("aprile", 4),
    ("maggio", 5),
    ("giugno", 6),
    ("luglio", 7),
    ("settembre", 9),
    ("ottobre", 10),
    ("dicembre", 12),
    // Dutch
    ("januari", 1),
    ("februari", 2),
    ("maart", 3),
    ("mei", 5),
    ("augustus", 8),
    // Polish (nominative and genitive)
    ("styczeń", 1),
    ("stycznia", 1),
    ("luty", 2),
    ("lutego", 2),
    ("marzec", 3),
    ("marca", 3),
    ("kwiecień", 4),
    ("kwietnia", 4),
    ("maj", 5),
    ("maja", 5),
    ("czerwiec", 6),
    ("czerwca", 6),
    ("lipiec", 7),
    ("lipca", 7),
    ("sierpień", 8),
    ("sierpnia", 8),
    ("wrzesień", 9),
    ("września", 9),
    ("październik", 10),
    ("października", 10),
    ("listopad", 11),
    ("listopada", 11),
    ("grudzień", 12),
    ("grudnia", 12),
];

/// Whether `w` is a month name or abbreviation.
pub fn is_month_name(w: &str) -> bool {
    month_of(w).is_some()
}

fn month_of(name: &str) -> Option<u32> {
    let n = name.to_lowercase();
    let n = n.trim_end_matches('.');
    MONTHS.iter().find(|(m, _)| *m == n).map(|(_, v)| *v)
}

static MONTH_ALT: LazyLock<String> = LazyLock::new(|| {
    let mut names: Vec<&str> = MONTHS.iter().map(|(m, _)| *m).collect();
    names.sort_by_key(|m| std::cmp::Reverse(m.chars().count()));
    names.join("|")
});

/// The month names as a regex alternation (longest first).
pub fn month_alternation() -> &'static str {
    &MONTH_ALT
}

static DAY_MONTH_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b(\d{{1,2}})(?:st|nd|rd|th|er|º)?\.?\s*(?:de\s+)?({})\b\.?,?\s*(?:de\s+|del\s+)?(\d{{4}})\b",
        *MONTH_ALT
    ))
});
static MONTH_DAY_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b({})\b\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b",
        *MONTH_ALT
    ))
});
static ISO_DATE: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})\b"));
static NUMERIC_DATE: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(\d{1,2})([./])\s?(\d{1,2})([./])\s?((?:19|20)\d{2})\b"));
static DOTTED_SHORT_YEAR: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:^|[^.\d])(\d{2})\.(\d{2})\.(\d{2})(?:[^.\d]|$)"));
static CJK_DATE: LazyLock<Regex> =
    LazyLock::new(|| re(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"));
static URL_DATE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"[/_-]((?:19|20)\d{2})[/_-](0?[1-9]|1[0-2])[/_-](0?[1-9]|[12]\d|3[01])(?:[/_.-]|$)")
});
static URL_DATE_COMPACT: LazyLock<Regex> =
    LazyLock::new(|| re(r"/((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?:[/_.-]|$)"));

fn ymd(y: &str, m: u32, d: &str) -> Option<NaiveDate> {
    let y: i32 = y.parse().ok()?;
    let d: u32 = d.parse().ok()?;
    NaiveDate::from_ymd_opt(y, m, d).filter(|d| plausible(*d))
}

/// The earliest-placed date written out in `text`. `month_first` reads
/// `10/18/2019` as October 18 (American order); with day and month both
/// ≤ 12 the day comes first otherwise.
pub fn find_date_in_text(text: &str, month_first: bool) -> Option<NaiveDate> {
    let mut best: Option<(usize, NaiveDate)> = None;
    let mut consider = |pos: usize, d: Option<NaiveDate>| {
        if let Some(d) = d
            && best.is_none_or(|(p, _)| pos < p)
        {
            best = Some((pos, d));
        }
    };
    if let Some(c) = ISO_DATE.captures(text) {
        let m = c[2].parse().ok();
        consider(
            c.get(0).map_or(0, |m| m.start()),
            m.and_then(|m| ymd(&c[1], m, &c[3])),
        );
    }
    if let Some(c) = DAY_MONTH_YEAR.captures(text) {
        consider(
            c.get(0).map_or(0, |m| m.start()),
            month_of(&c[2]).and_then(|m| ymd(&c[3], m, &c[1])),
        );
    }
    if let Some(c) = MONTH_DAY_YEAR.captures(text) {
        consider(
            c.get(0).map_or(0, |m| m.start()),
            month_of(&c[1]).and_then(|m| ymd(&c[3], m, &c[2])),
        );
    }
    if let Some(c) = NUMERIC_DATE.captures(text) {
        let a: u32 = c[1].parse().unwrap_or(0);
        let b: u32 = c[3].parse().unwrap_or(0);
        // Dotted dates are always day first; otherwise a part over 12 or
        // the page's convention decides.
        let (d, m) = if c[2] != *"." && a <= 12 && (b > 12 || month_first) {
            (b, a)
        } else {
            (a, b)
        };
        consider(
            c.get(0).map_or(0, |m| m.start()),
            ymd(&c[5], m, &d.to_string()),
        );
    }
    if let Some(c) = DOTTED_SHORT_YEAR.captures(text) {
        // "23.09.22": the 2000s up to '69, else the 1900s.
        let yy: i32 = c[3].parse().unwrap_or(0);
        let y = if yy < 70 { 2000 + yy } else { 1900 + yy };
        let m = c[2].parse().ok();
        consider(
            c.get(0).map_or(0, |m| m.start()),
            m.and_then(|m| ymd(&y.to_string(), m, &c[1])),
        );
    }
    if let Some(c) = CJK_DATE.captures(text) {
        let m = c[2].parse().ok();
        consider(
            c.get(0).map_or(0, |m| m.start()),
            m.and_then(|m| ymd(&c[1], m, &c[3])),
        );
    }
    best.map(|(_, d)| d)
}

/// A date in a URL path (`/2019/10/18/`, `/2019-10-18-title`, `/20191018/`).
pub fn date_in_url(url: &str) -> Option<NaiveDate> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    if let Some(c) = URL_DATE.captures(path) {
        return ymd(&c[1], c[2].parse().ok()?, &c[3]);
    }
    let c = URL_DATE_COMPACT.captures(path)?;
    ymd(&c[1], c[2].parse().ok()?, &c[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> String {
        parse_date(s)
            .map(|d| d.format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default()
    }

    #[test]
    fn machine_formats() {
        assert_eq!(day("2018-06-14T10:00:00+02:00"), "2018-06-14T08:00");
        assert_eq!(day("2018-06-14T10:00:00+0200"), "2018-06-14T08:00");
        assert_eq!(day("2018-06-14T10:00:00.123Z"), "2018-06-14T10:00");
        assert_eq!(day("2018-06-14 10:00:00"), "2018-06-14T10:00");
        assert_eq!(day("2018-06-14"), "2018-06-14T00:00");
        assert_eq!(day("20180614"), "2018-06-14T00:00");
        assert_eq!(day("Thu, 14 Jun 2018 10:00:00 GMT"), "2018-06-14T10:00");
        assert_eq!(day("1528970400"), "2018-06-14T10:00");
        assert_eq!(day("14.06.2018"), "2018-06-14T00:00");
        assert_eq!(day("garbage"), "");
        assert_eq!(day("0001-01-01"), "");
    }

    #[test]
    fn local_offsets_are_kept() {
        let d = parse_date_local("2022-05-03T21:00:00-05:00").unwrap();
        assert_eq!(d.date_naive().to_string(), "2022-05-03");
        assert_eq!(
            parse_date("2022-05-03T21:00:00-05:00")
                .unwrap()
                .date_naive()
                .to_string(),
            "2022-05-04"
        );
        assert_eq!(
            parse_date_local("2022-05-03")
                .unwrap()
                .offset()
                .local_minus_utc(),
            0
        );
    }

    #[test]
    fn text_dates() {
        let f = |s: &str| find_date_in_text(s, false).map(|d| d.to_string());
        assert_eq!(
            f("Posted on October 18, 2019 by x").as_deref(),
            Some("2019-10-18")
        );
        assert_eq!(f("Oct. 18th 2019").as_deref(), Some("2019-10-18"));
        assert_eq!(
            f("18. Oktober 2019, 10:00 Uhr").as_deref(),
            Some("2019-10-18")
        );
        assert_eq!(f("le 18 octobre 2019").as_deref(), Some("2019-10-18"));
        assert_eq!(f("18 de octubre de 2019").as_deref(), Some("2019-10-18"));
        assert_eq!(f("18 października 2019").as_deref(), Some("2019-10-18"));
        assert_eq!(f("am 18.10.2019 um").as_deref(), Some("2019-10-18"));
        assert_eq!(f("2019年10月18日").as_deref(), Some("2019-10-18"));
        assert_eq!(f("Am 23.09.22 um").as_deref(), Some("2022-09-23"));
        assert_eq!(f("Version 1.2.33").as_deref(), None);
        assert_eq!(
            f("Updated 2019-10-18 and 2019-10-20").as_deref(),
            Some("2019-10-18")
        );
        assert_eq!(f("no date here, 42 apples").as_deref(), None);
        assert_eq!(
            find_date_in_text("10/08/2019", true)
                .map(|d| d.to_string())
                .as_deref(),
            Some("2019-10-08")
        );
        assert_eq!(
            find_date_in_text("10/08/2019", false)
                .map(|d| d.to_string())
                .as_deref(),
            Some("2019-08-10")
        );
    }

    #[test]
    fn url_dates() {
        let f = |s: &str| date_in_url(s).map(|d| d.to_string());
        assert_eq!(
            f("https://x.com/2019/10/18/title/").as_deref(),
            Some("2019-10-18")
        );
        assert_eq!(
            f("https://x.com/news/2019-10-18-title").as_deref(),
            Some("2019-10-18")
        );
        assert_eq!(
            f("https://x.com/a/20191018/b").as_deref(),
            Some("2019-10-18")
        );
        assert_eq!(f("https://x.com/2019/10/title").as_deref(), None);
        assert_eq!(f("https://x.com/id/123456789").as_deref(), None);
    }
}
