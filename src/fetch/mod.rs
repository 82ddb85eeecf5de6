//! Stage 1, **fetch**: the only module that holds an HTTP client.
//!
//! Politeness and limits live here so that every caller gets them: a global
//! and a per-host concurrency limit, an honest User-Agent, conditional GET,
//! connect and total timeouts, bodies streamed and cut at a byte limit,
//! redirects followed by hand (so that each hop is checked and a permanent
//! move of a feed can be recorded), and non-public addresses refused for
//! article links.

pub mod address;
pub mod robots;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Client, StatusCode};
use thiserror::Error;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::config::FetchConfig;

/// What is being fetched: decides the size limit and whether non-public
/// addresses are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A feed the operator configured: trusted address, `max_feed_bytes`.
    Feed,
    /// A link found in feed content: untrusted, `max_page_bytes`.
    Page,
}

/// Validators from the previous fetch, for a conditional GET.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A response that arrived (2xx or 304).
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    /// The URL the body came from, after redirects.
    pub url: Url,
    /// Set when the request was permanently redirected (301/308 from the
    /// first hop on): the URL callers should use from now on.
    pub moved_to: Option<Url>,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// `Cache-Control: max-age`.
    pub max_age: Option<Duration>,
    /// Empty for a 304.
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn not_modified(&self) -> bool {
        self.status == 304
    }
}

#[derive(Debug, Error)]
pub enum FetchError {
    #[error("HTTP {status} from {url}")]
    Status {
        url: String,
        status: u16,
        /// `Retry-After` of a 429/503.
        retry_after: Option<Duration>,
    },
    #[error("{url}: response larger than the {limit}-byte limit")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: timed out after {secs}s")]
    Timeout { url: String, secs: u64 },
    #[error("{url}: cannot connect: {reason}")]
    Connect { url: String, reason: String },
    #[error("{url}: more than {max} redirects")]
    TooManyRedirects { url: String, max: usize },
    #[error("{url}: redirect without a usable Location header")]
    BadRedirect { url: String },
    #[error(
        "{url}: refused: {host} is a non-public address ({addr}); set fetch.allow_private_addresses = true to allow"
    )]
    NonPublic {
        url: String,
        host: String,
        addr: IpAddr,
    },
    #[error("{url}: only http and https URLs are fetched")]
    Scheme { url: String },
    #[error("{url}: disallowed by robots.txt")]
    RobotsDisallowed { url: String },
    #[error("{url}: robots.txt unreachable ({reason}); not fetching until it can be read")]
    RobotsUnavailable { url: String, reason: String },
    #[error("{url}: {reason}")]
    Other { url: String, reason: String },
}

impl FetchError {
    /// Whether trying again later can help.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => {
                *status == 408 || *status == 425 || *status == 429 || *status >= 500
            }
            FetchError::Timeout { .. }
            | FetchError::Connect { .. }
            | FetchError::Other { .. }
            | FetchError::RobotsUnavailable { .. } => true,
            _ => false,
        }
    }

    /// Failures that a broken network (rather than the server) explains:
    /// timeouts, DNS failures, unreachable networks. A refused connection is
    /// an answer from the host, so it is not one of them.
    pub fn is_network_suspect(&self) -> bool {
        match self {
            FetchError::Timeout { .. } => true,
            FetchError::Connect { reason, .. } => !reason.contains("Connection refused"),
            _ => false,
        }
    }

    /// The HTTP status, when a response arrived.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A short class name for metrics and summaries.
    pub fn class(&self) -> &'static str {
        match self {
            FetchError::Status { .. } => "http_status",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Connect { .. } => "connect",
            FetchError::TooManyRedirects { .. } | FetchError::BadRedirect { .. } => "redirect",
            FetchError::NonPublic { .. } => "non_public_address",
            FetchError::Scheme { .. } => "scheme",
            FetchError::RobotsDisallowed { .. } | FetchError::RobotsUnavailable { .. } => "robots",
            FetchError::Other { .. } => "other",
        }
    }
}

/// Slots held for the duration of one request.
struct Permits {
    _host: Option<OwnedSemaphorePermit>,
    _global: Option<OwnedSemaphorePermit>,
}

/// Politeness state of one host.
struct Host {
    sem: Arc<Semaphore>,
    /// Earliest start of the next request to this host.
    next_start: Mutex<Instant>,
    last_used: Mutex<Instant>,
}

/// Hosts remembered before idle ones are forgotten.
const MAX_HOSTS: usize = 1024;
/// A host idle this long can be forgotten.
const HOST_IDLE: Duration = Duration::from_secs(600);

/// The HTTP client with its limits. Cheap to share behind an `Arc`.
pub struct Fetcher {
    /// For feeds (operator-configured addresses).
    feed_client: Client,
    /// For article pages (non-public addresses refused unless allowed).
    page_client: Client,
    cfg: FetchConfig,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    robots: robots::RobotsCache,
    /// When any server last answered (any status): evidence that the
    /// network works.
    last_response: Mutex<Option<Instant>>,
}

impl Fetcher {
    pub fn new(cfg: &FetchConfig) -> Result<Fetcher, FetchError> {
        let build = |guarded: bool| {
            let mut b = Client::builder()
                .user_agent(cfg.user_agent.clone())
                .timeout(Duration::from_secs(cfg.timeout_secs))
                .connect_timeout(Duration::from_secs(cfg.connect_timeout_secs))
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(2);
            if guarded {
                b = b.dns_resolver(address::PublicOnlyResolver);
            }
            b.build().map_err(|e| FetchError::Other {
                url: String::new(),
                reason: format!("building HTTP client: {e}"),
            })
        };
        Ok(Fetcher {
            feed_client: build(false)?,
            page_client: build(!cfg.allow_private_addresses)?,
            cfg: cfg.clone(),
            global: Arc::new(Semaphore::new(cfg.concurrency)),
            hosts: Mutex::new(HashMap::new()),
            robots: robots::RobotsCache::new(),
            last_response: Mutex::new(None),
        })
    }

    /// True when no server has answered for `window` (or ever): failures
    /// then say more about the network than about the feed.
    pub fn no_response_within(&self, window: Duration) -> bool {
        let last = *self.last_response.lock().unwrap_or_else(|p| p.into_inner());
        last.is_none_or(|t| t.elapsed() > window)
    }

    fn saw_response(&self) {
        *self.last_response.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// Hosts currently remembered (for metrics and tests of boundedness).
    pub fn hosts_tracked(&self) -> usize {
        self.hosts.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn host(&self, url: &Url) -> Arc<Host> {
        let name = url.host_str().unwrap_or("").to_ascii_lowercase();
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if hosts.len() >= MAX_HOSTS && !hosts.contains_key(&name) {
            hosts.retain(|_, h| {
                Arc::strong_count(h) > 1
                    || h.last_used
                        .lock()
                        .map(|t| t.elapsed() < HOST_IDLE)
                        .unwrap_or(false)
            });
        }
        let h = hosts
            .entry(name)
            .or_insert_with(|| {
                Arc::new(Host {
                    sem: Arc::new(Semaphore::new(self.cfg.per_host_concurrency)),
                    next_start: Mutex::new(Instant::now()),
                    last_used: Mutex::new(Instant::now()),
                })
            })
            .clone();
        if let Ok(mut t) = h.last_used.lock() {
            *t = Instant::now();
        }
        h
    }

    /// Waits for a per-host slot, the host's politeness delay, and a global
    /// slot. The semaphores are never closed, so acquiring cannot fail; the
    /// permits are held by the caller until the response body has been read.
    async fn permits(&self, url: &Url) -> Permits {
        let host = self.host(url);
        // Host first: a request waiting for a busy host must not hold one of
        // the global slots that requests to idle hosts could use.
        let host_permit = host.sem.clone().acquire_owned().await.ok();
        let delay = self.cfg.min_host_delay.0;
        if !delay.is_zero() {
            let wait = {
                let mut next = host.next_start.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let start = (*next).max(now);
                *next = start + delay;
                start - now
            };
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
        let global = self.global.clone().acquire_owned().await.ok();
        Permits {
            _host: host_permit,
            _global: global,
        }
    }

    /// GETs `url`, following redirects, with validators for a conditional
    /// request. A 304 is returned as `Ok` with `status == 304`. Article
    /// pages are checked against robots.txt when `respect_robots` is set.
    pub async fn get(
        &self,
        url: &Url,
        kind: Kind,
        validators: Option<&Validators>,
    ) -> Result<Fetched, FetchError> {
        let robots = kind == Kind::Page && self.cfg.respect_robots;
        self.get_inner(url, kind, validators, robots).await
    }

    async fn get_inner(
        &self,
        url: &Url,
        kind: Kind,
        validators: Option<&Validators>,
        check_robots: bool,
    ) -> Result<Fetched, FetchError> {
        let (client, limit) = match kind {
            Kind::Feed => (&self.feed_client, self.cfg.max_feed_bytes),
            Kind::Page => (&self.page_client, self.cfg.max_page_bytes),
        };
        let guard_literals = kind == Kind::Page && !self.cfg.allow_private_addresses;
        let mut current = url.clone();
        let mut moved_to: Option<Url> = None;
        let mut still_permanent = true;
        for _hop in 0..=self.cfg.max_redirects {
            check_url(&current, guard_literals)?;
            if check_robots {
                self.check_robots(&current).await?;
            }
            let _permits = self.permits(&current).await;
            let mut req = client.get(current.clone());
            req = req.header(
                header::ACCEPT,
                match kind {
                    Kind::Feed => "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
                    Kind::Page => "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
                },
            );
            if let Some(v) = validators {
                if let Some(etag) = v
                    .etag
                    .as_deref()
                    .and_then(|e| HeaderValue::from_str(e).ok())
                {
                    req = req.header(header::IF_NONE_MATCH, etag);
                }
                if let Some(lm) = v
                    .last_modified
                    .as_deref()
                    .and_then(|e| HeaderValue::from_str(e).ok())
                {
                    req = req.header(header::IF_MODIFIED_SINCE, lm);
                }
            }
            let resp = req.send().await.map_err(|e| self.map_err(&current, e))?;
            self.saw_response();
            let status = resp.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let next = resp
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| current.join(l.trim()).ok())
                    .ok_or_else(|| FetchError::BadRedirect {
                        url: current.to_string(),
                    })?;
                let permanent = matches!(
                    status,
                    StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
                );
                still_permanent &= permanent;
                if still_permanent {
                    moved_to = Some(next.clone());
                }
                tracing::debug!(from = %current, to = %next, status = status.as_u16(), "redirect");
                current = next;
                continue;
            }
            let headers = resp.headers().clone();
            if status == StatusCode::NOT_MODIFIED {
                return Ok(fetched(304, current, moved_to, &headers, Vec::new()));
            }
            if !status.is_success() {
                return Err(FetchError::Status {
                    url: current.to_string(),
                    status: status.as_u16(),
                    retry_after: retry_after(&headers),
                });
            }
            let body = self.read_body(resp, &current, limit).await?;
            return Ok(fetched(status.as_u16(), current, moved_to, &headers, body));
        }
        Err(FetchError::TooManyRedirects {
            url: url.to_string(),
            max: self.cfg.max_redirects,
        })
    }

    /// Streams the body, refusing it as soon as it passes `limit`.
    async fn read_body(
        &self,
        resp: reqwest::Response,
        url: &Url,
        limit: u64,
    ) -> Result<Vec<u8>, FetchError> {
        let too_large = || FetchError::TooLarge {
            url: url.to_string(),
            limit,
        };
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.map_err(url, e))?;
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn map_err(&self, url: &Url, e: reqwest::Error) -> FetchError {
        let url_s = url.to_string();
        // The resolver's refusal is somewhere down the source chain.
        let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = src {
            if let Some(np) = s.downcast_ref::<address::NonPublicAddress>() {
                return FetchError::NonPublic {
                    url: url_s,
                    host: np.host.clone(),
                    addr: np.addr,
                };
            }
            src = s.source();
        }
        if e.is_timeout() {
            return FetchError::Timeout {
                url: url_s,
                secs: self.cfg.timeout_secs,
            };
        }
        let reason = error_chain(&e);
        if e.is_connect() {
            FetchError::Connect { url: url_s, reason }
        } else {
            FetchError::Other { url: url_s, reason }
        }
    }
}

fn check_url(url: &Url, guard_literals: bool) -> Result<(), FetchError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::Scheme {
            url: url.to_string(),
        });
    }
    if guard_literals {
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(url::Host::Domain(d))
                if d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost") =>
            {
                Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
            }
            _ => None,
        };
        if let Some(ip) = ip.filter(|ip| !address::is_public(*ip)) {
            return Err(FetchError::NonPublic {
                url: url.to_string(),
                host: url.host_str().unwrap_or("").to_string(),
                addr: ip,
            });
        }
    }
    Ok(())
}

/// "outer: inner: innermost", without repeating identical messages.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        let msg = err.to_string();
        if !parts.iter().any(|p| p.contains(&msg)) {
            parts.push(msg);
        }
        cur = err.source();
    }
    parts.join(": ")
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn fetched(status: u16, url: Url, moved_to: Option<Url>, h: &HeaderMap, body: Vec<u8>) -> Fetched {
    Fetched {
        status,
        url,
        moved_to,
        content_type: header_str(h, header::CONTENT_TYPE),
        etag: header_str(h, header::ETAG),
        last_modified: header_str(h, header::LAST_MODIFIED),
        max_age: max_age(h),
        body,
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let v = header_str(h, header::RETRY_AFTER)?;
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(&v).ok()?;
    let secs = (when.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    Some(Duration::from_secs(secs.max(0) as u64))
}

fn max_age(h: &HeaderMap) -> Option<Duration> {
    let cc = header_str(h, header::CACHE_CONTROL)?;
    cc.split(',').find_map(|d| {
        let (k, v) = d.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("max-age"))
            .then(|| v.trim().trim_matches('"').parse::<u64>().ok())
            .flatten()
            .map(Duration::from_secs)
    })
}

/// True when a `Content-Type` is HTML (or absent: many servers omit it).
pub fn is_html(content_type: Option<&str>) -> bool {
    match content_type {
        None => true,
        Some(ct) => {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime.is_empty() || mime == "text/html" || mime == "application/xhtml+xml"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_private_addresses_refused_for_pages() {
        let u = Url::parse("http://127.0.0.1:8080/x").unwrap();
        assert!(matches!(
            check_url(&u, true),
            Err(FetchError::NonPublic { .. })
        ));
        assert!(check_url(&u, false).is_ok());
        let u = Url::parse("http://localhost/x").unwrap();
        assert!(matches!(
            check_url(&u, true),
            Err(FetchError::NonPublic { .. })
        ));
        let u = Url::parse("http://[::1]/x").unwrap();
        assert!(matches!(
            check_url(&u, true),
            Err(FetchError::NonPublic { .. })
        ));
        let u = Url::parse("ftp://example.com/x").unwrap();
        assert!(matches!(
            check_url(&u, false),
            Err(FetchError::Scheme { .. })
        ));
    }

    #[test]
    fn html_content_types() {
        assert!(is_html(Some("text/html; charset=utf-8")));
        assert!(is_html(None));
        assert!(!is_html(Some("application/pdf")));
        assert!(!is_html(Some("application/json")));
    }

    #[test]
    fn cache_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=600"),
        );
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(max_age(&h), Some(Duration::from_secs(600)));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(120)));
    }

    #[test]
    fn transient_errors() {
        let s = |status| FetchError::Status {
            url: "u".into(),
            status,
            retry_after: None,
        };
        assert!(s(503).is_transient());
        assert!(s(429).is_transient());
        assert!(!s(404).is_transient());
        assert!(!s(410).is_transient());
    }
}
