//! robots.txt for article pages: fetched once per origin, cached, obeyed.
//!
//! Following RFC 9309: a robots.txt that does not exist (4xx) allows
//! everything; one that cannot be read (5xx, network error) disallows
//! everything for a while, since the site may be in trouble. Successful
//! answers are cached for a day, failures for a few minutes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use texting_robots::Robot;
use url::Url;

use super::{FetchError, Fetcher, Kind};

/// The product token matched against `User-agent:` lines.
pub const AGENT: &str = "secwire";

const TTL_OK: Duration = Duration::from_secs(24 * 3600);
const TTL_UNREACHABLE: Duration = Duration::from_secs(300);
const MAX_ORIGINS: usize = 1024;

/// What a site's robots.txt says, as far as secwire is concerned.
pub enum Rules {
    AllowAll,
    Parsed(Box<Robot>),
    Unreachable(String),
}

impl Rules {
    /// Parses a robots.txt body; an unparseable file allows everything.
    pub fn parse(body: &[u8]) -> Rules {
        match Robot::new(AGENT, body) {
            Ok(r) => Rules::Parsed(Box::new(r)),
            Err(_) => Rules::AllowAll,
        }
    }

    pub fn sitemaps(&self) -> Vec<String> {
        match self {
            Rules::Parsed(r) => r.sitemaps.clone(),
            _ => Vec::new(),
        }
    }
}

struct Entry {
    rules: Arc<Rules>,
    expires: Instant,
}

type Slot = Arc<tokio::sync::Mutex<Option<Entry>>>;

/// Per-origin cache; concurrent requests to one origin fetch robots.txt once.
pub struct RobotsCache {
    slots: Mutex<HashMap<String, Slot>>,
}

impl RobotsCache {
    pub fn new() -> RobotsCache {
        RobotsCache {
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, origin: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() >= MAX_ORIGINS && !slots.contains_key(origin) {
            // Forget origins nobody is using right now; they are re-fetched
            // when needed again.
            slots.retain(|_, s| Arc::strong_count(s) > 1);
        }
        slots.entry(origin.to_string()).or_default().clone()
    }
}

impl Default for RobotsCache {
    fn default() -> Self {
        RobotsCache::new()
    }
}

fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

impl Fetcher {
    /// The robots.txt rules for `url`'s origin, fetched or from the cache.
    pub async fn robots_rules(&self, url: &Url) -> Arc<Rules> {
        let origin = origin_of(url);
        let slot = self.robots.slot(&origin);
        let mut guard = slot.lock().await;
        if let Some(e) = guard.as_ref().filter(|e| e.expires > Instant::now()) {
            return e.rules.clone();
        }
        let rules = match Url::parse(&format!("{origin}/robots.txt")) {
            Ok(robots_url) => {
                match Box::pin(self.get_inner(&robots_url, Kind::Page, None, false)).await {
                    Ok(f) => Rules::parse(&f.body),
                    Err(FetchError::Status { status, .. }) if (400..500).contains(&status) => {
                        Rules::AllowAll
                    }
                    Err(e @ FetchError::TooLarge { .. }) => {
                        tracing::debug!(error = %e, "robots.txt too large; ignoring it");
                        Rules::AllowAll
                    }
                    Err(e) => Rules::Unreachable(e.to_string()),
                }
            }
            Err(_) => Rules::AllowAll,
        };
        let ttl = match rules {
            Rules::Unreachable(_) => TTL_UNREACHABLE,
            _ => TTL_OK,
        };
        let rules = Arc::new(rules);
        *guard = Some(Entry {
            rules: rules.clone(),
            expires: Instant::now() + ttl,
        });
        rules
    }

    /// Refuses `url` when its site's robots.txt disallows it.
    pub(super) async fn check_robots(&self, url: &Url) -> Result<(), FetchError> {
        let rules = self.robots_rules(url).await;
        match &*rules {
            Rules::AllowAll => Ok(()),
            Rules::Parsed(r) if r.allowed(url.as_str()) => Ok(()),
            Rules::Parsed(_) => Err(FetchError::RobotsDisallowed {
                url: url.to_string(),
            }),
            Rules::Unreachable(reason) => Err(FetchError::RobotsUnavailable {
                url: url.to_string(),
                reason: reason.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_for_our_agent() {
        let txt = b"User-agent: *\nDisallow: /private/\n\nUser-agent: secwire\nDisallow: /no-bots/\nAllow: /no-bots/ok\n\nSitemap: https://ex.com/sitemap.xml\n";
        let Rules::Parsed(r) = Rules::parse(txt) else {
            panic!("parsed")
        };
        assert!(!r.allowed("https://ex.com/no-bots/x"));
        assert!(r.allowed("https://ex.com/no-bots/ok"));
        // A group for our agent replaces the `*` group.
        assert!(r.allowed("https://ex.com/private/x"));
        assert_eq!(
            Rules::parse(txt).sitemaps(),
            vec!["https://ex.com/sitemap.xml"]
        );
    }

    #[test]
    fn garbage_allows_everything() {
        match Rules::parse(b"\x00\xff\xfe garbage") {
            Rules::AllowAll => {}
            Rules::Parsed(r) => assert!(r.allowed("https://ex.com/a")),
            Rules::Unreachable(_) => panic!("not unreachable"),
        }
    }
}
