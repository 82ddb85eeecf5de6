//! When to poll a feed next. Pure functions of what the last fetch said;
//! the daemon keeps the state and the clock.
//!
//! * A feed is polled at about half the typical gap between its recent
//!   entries (a feed that publishes every two hours is polled hourly),
//!   bounded by `[schedule] min_interval` and `max_interval`; a feed's own
//!   `interval` replaces that estimate.
//! * A publisher that asks for less frequent polling (`<ttl>`,
//!   `sy:updatePeriod`, `Cache-Control: max-age`, `Retry-After`) is obeyed.
//! * After consecutive failures the delay doubles per failure, capped at
//!   `max_interval`: a failing feed is slowed down, never dropped.
//! * Jitter spreads feeds that would otherwise stay in lock-step.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::ScheduleConfig;

/// Publisher hints are obeyed up to this long (a `max-age` of a year is a
/// misconfiguration, not a request).
pub const MAX_HINT: Duration = Duration::from_secs(24 * 3600);
/// `Retry-After` is obeyed up to this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

/// The interval suggested by the spacing of a feed's entries: half the
/// median gap between its newest (up to 20) dated entries, or `None` when
/// fewer than three dates are known.
pub fn rhythm(dates: &[DateTime<Utc>]) -> Option<Duration> {
    let mut d: Vec<DateTime<Utc>> = dates.to_vec();
    d.sort_unstable_by(|a, b| b.cmp(a));
    d.dedup();
    d.truncate(20);
    if d.len() < 3 {
        return None;
    }
    let mut gaps: Vec<i64> = d
        .windows(2)
        .map(|w| (w[0] - w[1]).num_seconds())
        .filter(|g| *g > 0)
        .collect();
    if gaps.len() < 2 {
        return None;
    }
    gaps.sort_unstable();
    let median = gaps[gaps.len() / 2];
    Some(Duration::from_secs((median / 2).max(1) as u64))
}

/// What the last fetch of a feed said, as far as scheduling goes.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// The fetch failed.
    pub failed: bool,
    /// Consecutive failures counted so far, including this one.
    pub consecutive_failures: u32,
    /// The failure was not counted (the network looked down).
    pub failure_not_counted: bool,
    pub retry_after: Option<Duration>,
    pub max_age: Option<Duration>,
    pub ttl: Option<Duration>,
    pub update_period: Option<Duration>,
    /// Entry dates from the document (empty on 304 and failures).
    pub entry_dates: Vec<DateTime<Utc>>,
}

/// The decision: the feed's polling interval and the delay until the next fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The regular interval (what the feed gets when healthy).
    pub interval: Duration,
    /// Until the next fetch (interval, backoff or Retry-After, with jitter).
    pub delay: Duration,
}

/// Plans the next fetch. `configured` is the feed's own `interval`;
/// `previous` the interval last computed for it; `rand01` a number in
/// `[0, 1)` for the jitter.
pub fn plan(
    cfg: &ScheduleConfig,
    configured: Option<Duration>,
    previous: Option<Duration>,
    obs: &Observation,
    rand01: f64,
) -> Plan {
    let (min, max) = (cfg.min_interval.0, cfg.max_interval.0);
    let hint = [obs.ttl, obs.max_age, obs.update_period]
        .into_iter()
        .flatten()
        .max()
        .map(|h| h.min(MAX_HINT));
    let interval = match configured {
        Some(c) => c.max(hint.unwrap_or_default()),
        None => {
            let estimate = rhythm(&obs.entry_dates)
                .or(previous)
                .unwrap_or(cfg.default_interval.0);
            let bounded = estimate.clamp(min, max);
            // A publisher's hint may exceed max_interval: it asked for it.
            bounded.max(hint.unwrap_or_default())
        }
    };
    let mut delay = interval;
    if obs.failed && !obs.failure_not_counted && obs.consecutive_failures > 0 {
        let factor = 1u32 << obs.consecutive_failures.min(16);
        delay = interval.saturating_mul(factor).min(max.max(interval));
    }
    if let Some(ra) = obs.retry_after {
        delay = delay.max(ra.min(MAX_RETRY_AFTER));
    }
    let jitter = cfg.jitter.clamp(0.0, 0.5) * (2.0 * rand01.clamp(0.0, 1.0) - 1.0);
    let delay = delay.mul_f64(1.0 + jitter).max(Duration::from_millis(100));
    // Retry-After is a floor even after jitter.
    let delay = match obs.retry_after {
        Some(ra) => delay.max(ra.min(MAX_RETRY_AFTER)),
        None => delay,
    };
    Plan { interval, delay }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HumanDuration;

    fn cfg() -> ScheduleConfig {
        ScheduleConfig {
            min_interval: HumanDuration(Duration::from_secs(600)),
            max_interval: HumanDuration(Duration::from_secs(6 * 3600)),
            default_interval: HumanDuration(Duration::from_secs(3600)),
            jitter: 0.1,
            unconditional_every: HumanDuration(Duration::from_secs(12 * 3600)),
        }
    }

    fn hours_apart(n: usize, h: i64) -> Vec<DateTime<Utc>> {
        let t0 = DateTime::parse_from_rfc3339("2024-01-10T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        (0..n)
            .map(|i| t0 - chrono::Duration::hours(h * i as i64))
            .collect()
    }

    #[test]
    fn rhythm_is_half_the_median_gap() {
        assert_eq!(rhythm(&hours_apart(10, 2)), Some(Duration::from_secs(3600)));
        assert_eq!(rhythm(&hours_apart(2, 2)), None);
        assert_eq!(rhythm(&[]), None);
    }

    #[test]
    fn adaptive_interval_is_bounded() {
        let c = cfg();
        let busy = Observation {
            entry_dates: hours_apart(20, 0)
                .iter()
                .enumerate()
                .map(|(i, t)| *t - chrono::Duration::minutes(i as i64))
                .collect(),
            ..Default::default()
        };
        assert_eq!(
            plan(&c, None, None, &busy, 0.5).interval,
            Duration::from_secs(600)
        );
        let quiet = Observation {
            entry_dates: hours_apart(10, 24 * 7),
            ..Default::default()
        };
        assert_eq!(
            plan(&c, None, None, &quiet, 0.5).interval,
            Duration::from_secs(6 * 3600)
        );
        let unknown = Observation::default();
        assert_eq!(
            plan(&c, None, None, &unknown, 0.5).interval,
            Duration::from_secs(3600)
        );
        // A 304 (no dates) keeps the previous estimate.
        assert_eq!(
            plan(&c, None, Some(Duration::from_secs(1800)), &unknown, 0.5).interval,
            Duration::from_secs(1800)
        );
    }

    #[test]
    fn configured_interval_wins_but_publisher_may_ask_for_less() {
        let c = cfg();
        let obs = Observation {
            entry_dates: hours_apart(10, 2),
            ..Default::default()
        };
        assert_eq!(
            plan(&c, Some(Duration::from_secs(120)), None, &obs, 0.5).interval,
            Duration::from_secs(120)
        );
        let ttl = Observation {
            ttl: Some(Duration::from_secs(7200)),
            ..Default::default()
        };
        assert_eq!(
            plan(&c, Some(Duration::from_secs(120)), None, &ttl, 0.5).interval,
            Duration::from_secs(7200)
        );
        // Hints beyond max_interval are obeyed (capped at a day).
        let big = Observation {
            max_age: Some(Duration::from_secs(12 * 3600)),
            ..Default::default()
        };
        assert_eq!(
            plan(&c, None, None, &big, 0.5).interval,
            Duration::from_secs(12 * 3600)
        );
        let silly = Observation {
            max_age: Some(Duration::from_secs(365 * 86400)),
            ..Default::default()
        };
        assert_eq!(plan(&c, None, None, &silly, 0.5).interval, MAX_HINT);
    }

    #[test]
    fn failures_back_off_exponentially_up_to_max() {
        let c = cfg();
        let prev = Some(Duration::from_secs(600));
        let f = |n| Observation {
            failed: true,
            consecutive_failures: n,
            ..Default::default()
        };
        assert_eq!(
            plan(&c, None, prev, &f(1), 0.5).delay,
            Duration::from_secs(1200)
        );
        assert_eq!(
            plan(&c, None, prev, &f(2), 0.5).delay,
            Duration::from_secs(2400)
        );
        assert_eq!(
            plan(&c, None, prev, &f(10), 0.5).delay,
            Duration::from_secs(6 * 3600)
        );
        // Not the feed's fault: no backoff.
        let net = Observation {
            failure_not_counted: true,
            ..f(3)
        };
        assert_eq!(
            plan(&c, None, prev, &net, 0.5).delay,
            Duration::from_secs(600)
        );
    }

    #[test]
    fn retry_after_is_a_floor() {
        let c = cfg();
        let obs = Observation {
            failed: true,
            consecutive_failures: 1,
            retry_after: Some(Duration::from_secs(5 * 3600)),
            ..Default::default()
        };
        let p = plan(&c, None, Some(Duration::from_secs(600)), &obs, 0.0);
        assert!(p.delay >= Duration::from_secs(5 * 3600));
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let c = cfg();
        let obs = Observation::default();
        let lo = plan(&c, None, None, &obs, 0.0).delay;
        let hi = plan(&c, None, None, &obs, 0.999_999).delay;
        assert!(lo >= Duration::from_secs(3240) && lo < Duration::from_secs(3600));
        assert!(hi > Duration::from_secs(3600) && hi <= Duration::from_secs(3960));
    }
}
