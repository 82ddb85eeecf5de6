//! Times as secwire stores and accepts them.
//!
//! Everything stored is UTC RFC 3339 with a `Z` and whole seconds
//! (`2018-06-14T09:30:00Z`): it sorts as text, so `WHERE published_at >= ?`
//! works in plain SQL, and every tool reads it.

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};

/// Formats a time the way secwire stores it.
pub fn to_db(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The current time, as stored.
pub fn now_db() -> String {
    to_db(Utc::now())
}

/// Parses a date given by a user on the command line: `YYYY-MM-DD` (midnight
/// UTC), an RFC 3339 time, or a relative age such as `7d`, `12h`, `30m`.
pub fn parse_user_date(text: &str) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        && let Some(dt) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(Utc.from_utc_datetime(&dt));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    let is_age = t.len() > 1
        && t.ends_with(['s', 'm', 'h', 'd'])
        && t[..t.len() - 1].bytes().all(|b| b.is_ascii_digit());
    if is_age {
        let age = crate::config::parse_duration(t)
            .ok()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .and_then(|d| Utc::now().checked_sub_signed(d));
        if let Some(when) = age {
            return Ok(when);
        }
    }
    Err(format!(
        "invalid date {text:?}: use YYYY-MM-DD, an RFC 3339 time (2024-05-01T12:00:00Z) or an age such as 7d"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_dates() {
        assert_eq!(
            to_db(parse_user_date("2024-05-01").unwrap()),
            "2024-05-01T00:00:00Z"
        );
        assert_eq!(
            to_db(parse_user_date("2024-05-01T14:00:00+02:00").unwrap()),
            "2024-05-01T12:00:00Z"
        );
        let week = parse_user_date("7d").unwrap();
        assert!(Utc::now() - week >= chrono::Duration::days(7));
        assert!(parse_user_date("yesterday").is_err());
        assert!(parse_user_date("2024-13-01").is_err());
        assert!(parse_user_date("d").is_err());
    }
}
