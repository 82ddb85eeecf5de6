//! Configuration: `config/secwire.toml`, read with serde.
//!
//! The shipped file is the documentation of every option; this module only
//! gives them types and defaults. Unknown keys are errors (`deny_unknown_fields`)
//! because a misspelt option that is silently ignored is worse than a refusal
//! to start. The TOML parser's errors already carry the line, column and key,
//! and [`ConfigError`] adds the file name.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use thiserror::Error;

/// The default configuration, compiled into the binary so that `secwire`
/// works even when run from a directory without `config/`.
pub const DEFAULT_CONFIG: &str = include_str!("../config/secwire.toml");
/// The default classifier rules (see `config/classifier.toml`).
pub const DEFAULT_CLASSIFIER_RULES: &str = include_str!("../config/classifier.toml");

/// Where a configuration was read from: a file, or the embedded default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    Embedded,
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::File(p) => write!(f, "{}", p.display()),
            ConfigSource::Embedded => f.write_str("<embedded default config/secwire.toml>"),
        }
    }
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The TOML error text names the line, the column and the offending key.
    #[error("invalid config {source_name}: {message}")]
    Invalid {
        source_name: String,
        message: String,
    },
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub fetch: FetchConfig,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub classifier: ClassifierConfig,
    #[serde(default)]
    pub schedule: ScheduleConfig,
    #[serde(default)]
    pub daemon: DaemonConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub feeds: Vec<FeedConfig>,
    /// Per-site extraction rules (see `extract::SiteRule`).
    #[serde(default)]
    pub sites: Vec<SiteRuleConfig>,
    /// Where this configuration came from; filled in by [`Config::load`].
    #[serde(skip, default = "default_source")]
    pub source: ConfigSource,
}

fn default_source() -> ConfigSource {
    ConfigSource::Embedded
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Path of the SQLite file; relative paths are relative to the current
    /// directory (that is where people run `sqlite3 secwire.db`).
    #[serde(default = "default_db_path")]
    pub path: PathBuf,
}

fn default_db_path() -> PathBuf {
    PathBuf::from("secwire.db")
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            path: default_db_path(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchConfig {
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
    /// Total time for one request, connect to last body byte.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    #[serde(default = "default_connect_timeout_secs")]
    pub connect_timeout_secs: u64,
    #[serde(default = "default_max_feed_bytes")]
    pub max_feed_bytes: u64,
    #[serde(default = "default_max_page_bytes")]
    pub max_page_bytes: u64,
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default = "default_per_host_concurrency")]
    pub per_host_concurrency: usize,
    #[serde(default)]
    pub allow_private_addresses: bool,
    #[serde(default = "default_max_redirects")]
    pub max_redirects: usize,
    /// Minimum time between the starts of two requests to the same host.
    #[serde(default = "default_min_host_delay")]
    pub min_host_delay: HumanDuration,
    /// Honour robots.txt for article pages.
    #[serde(default = "yes")]
    pub respect_robots: bool,
}

fn default_min_host_delay() -> HumanDuration {
    HumanDuration(Duration::from_secs(1))
}

fn default_user_agent() -> String {
    format!(
        "secwire/{} (security-news policy monitor; +https://github.com/secwire/secwire)",
        env!("CARGO_PKG_VERSION")
    )
}
fn default_timeout_secs() -> u64 {
    30
}
fn default_connect_timeout_secs() -> u64 {
    10
}
fn default_max_feed_bytes() -> u64 {
    10 * 1024 * 1024
}
fn default_max_page_bytes() -> u64 {
    5 * 1024 * 1024
}
fn default_concurrency() -> usize {
    8
}
fn default_per_host_concurrency() -> usize {
    2
}
fn default_max_redirects() -> usize {
    5
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            user_agent: default_user_agent(),
            timeout_secs: default_timeout_secs(),
            connect_timeout_secs: default_connect_timeout_secs(),
            max_feed_bytes: default_max_feed_bytes(),
            max_page_bytes: default_max_page_bytes(),
            concurrency: default_concurrency(),
            per_host_concurrency: default_per_host_concurrency(),
            allow_private_addresses: false,
            max_redirects: default_max_redirects(),
            min_host_delay: default_min_host_delay(),
            respect_robots: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Keep the fetched article page (zstd-compressed) so that `reextract`
    /// can improve the archive later without fetching again.
    #[serde(default = "yes")]
    pub keep_raw_pages: bool,
    /// SQLite busy timeout: how long a writer waits for a lock held by a reader.
    #[serde(default = "default_busy_timeout_ms")]
    pub busy_timeout_ms: u64,
}

fn yes() -> bool {
    true
}
fn default_busy_timeout_ms() -> u64 {
    5000
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            keep_raw_pages: true,
            busy_timeout_ms: default_busy_timeout_ms(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierConfig {
    /// Rule file, relative to the directory of this config file. When it is
    /// absent and the path is the default, the embedded rules are used.
    #[serde(default = "default_rules_path")]
    pub rules: PathBuf,
    /// A label is flagged when its score is at least this.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
}

fn default_rules_path() -> PathBuf {
    PathBuf::from("classifier.toml")
}
fn default_threshold() -> f64 {
    0.5
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig {
            rules: default_rules_path(),
            threshold: default_threshold(),
        }
    }
}

/// `[schedule]`: how often `secwire run` polls each feed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    #[serde(default = "default_min_interval")]
    pub min_interval: HumanDuration,
    #[serde(default = "default_max_interval")]
    pub max_interval: HumanDuration,
    /// Interval for a feed whose publishing rhythm is not known yet.
    #[serde(default = "default_interval")]
    pub default_interval: HumanDuration,
    /// Random spread added to each interval, as a fraction (0.1 = ±10%).
    #[serde(default = "default_jitter")]
    pub jitter: f64,
    /// A feed is fetched without validators this often, in case its
    /// server's ETag/Last-Modified handling is broken.
    #[serde(default = "default_unconditional_every")]
    pub unconditional_every: HumanDuration,
}

fn default_min_interval() -> HumanDuration {
    HumanDuration(Duration::from_secs(600))
}
fn default_max_interval() -> HumanDuration {
    HumanDuration(Duration::from_secs(6 * 3600))
}
fn default_interval() -> HumanDuration {
    HumanDuration(Duration::from_secs(3600))
}
fn default_jitter() -> f64 {
    0.1
}
fn default_unconditional_every() -> HumanDuration {
    HumanDuration(Duration::from_secs(12 * 3600))
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            min_interval: default_min_interval(),
            max_interval: default_max_interval(),
            default_interval: default_interval(),
            jitter: default_jitter(),
            unconditional_every: default_unconditional_every(),
        }
    }
}

/// `[daemon]`: the long-running `secwire run`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonConfig {
    /// On SIGINT/SIGTERM, in-flight work gets this long to finish.
    #[serde(default = "default_shutdown_timeout")]
    pub shutdown_timeout: HumanDuration,
    /// Attempts for an article page whose fetch fails transiently.
    #[serde(default = "default_article_attempts")]
    pub article_attempts: u32,
    /// Wait before the first retry of such a page; doubles per attempt.
    #[serde(default = "default_article_retry_delay")]
    pub article_retry_delay: HumanDuration,
}

fn default_shutdown_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(10))
}
fn default_article_attempts() -> u32 {
    3
}
fn default_article_retry_delay() -> HumanDuration {
    HumanDuration(Duration::from_secs(300))
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            shutdown_timeout: default_shutdown_timeout(),
            article_attempts: default_article_attempts(),
            article_retry_delay: default_article_retry_delay(),
        }
    }
}

/// `[metrics]`: Prometheus metrics and health endpoints of `secwire run`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address to serve `/metrics`, `/healthz` and `/readyz` on; off when absent.
    #[serde(default)]
    pub listen: Option<std::net::SocketAddr>,
}

/// One `[[feeds]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    pub url: HttpUrl,
    #[serde(default)]
    pub name: Option<String>,
    /// Polling interval for this feed (`"30m"`, `"2h"`, `"90s"`, `"1d"`).
    #[serde(default)]
    pub interval: Option<HumanDuration>,
    /// The site's sitemap, for history backfills (default: the `Sitemap:`
    /// lines of the site's robots.txt).
    #[serde(default)]
    pub sitemap: Option<HttpUrl>,
    /// Sitemap URLs to take (regular expressions; default: all that look
    /// like articles).
    #[serde(default)]
    pub include: Vec<String>,
    /// Sitemap URLs to skip (regular expressions).
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// One `[[sites]]` entry: CSS selectors that override generic extraction
/// for one host.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SiteRuleConfig {
    pub host: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub remove: Vec<String>,
    #[serde(default)]
    pub authors: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

/// An absolute http(s) URL, validated when the config is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(pub url::Url);

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_http_url(&s)
            .map(HttpUrl)
            .map_err(serde::de::Error::custom)
    }
}

/// Parses an absolute `http`/`https` URL, with a message fit for a user.
pub fn parse_http_url(s: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(s.trim()).map_err(|e| format!("invalid URL {s:?}: {e}"))?;
    match u.scheme() {
        "http" | "https" => Ok(u),
        other => Err(format!(
            "invalid URL {s:?}: scheme {other:?} is not http or https"
        )),
    }
}

/// A duration written for humans: `"90s"`, `"10m"`, `"6h"`, `"1d"`, or an
/// integer number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Secs(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Secs(s) => Ok(HumanDuration(Duration::from_secs(s))),
            Raw::Text(t) => parse_duration(&t)
                .map(HumanDuration)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// Parses `"250ms"`, `"90s"`, `"10m"`, `"6h"`, `"1d"`, `"1h30m"` or a bare
/// number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    if let Some(ms) = t
        .strip_suffix("ms")
        .and_then(|n| n.trim().parse::<u64>().ok())
    {
        return Ok(Duration::from_millis(ms));
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            ' ' => continue,
            _ => {
                return Err(format!(
                    "invalid duration {text:?}: unknown unit {c:?} (use s, m, h or d, e.g. \"30m\")"
                ));
            }
        };
        let n: u64 = num
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: a number must come before {c:?}"))?;
        total = total.saturating_add(n.saturating_mul(unit));
        num.clear();
    }
    if !num.is_empty() {
        return Err(format!(
            "invalid duration {text:?}: missing unit after {num} (use s, m, h or d)"
        ));
    }
    Ok(Duration::from_secs(total))
}

impl Config {
    /// Parses a configuration from text; `source` names it in errors.
    pub fn from_toml(text: &str, source: ConfigSource) -> Result<Config, ConfigError> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            source_name: source.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        cfg.source = source;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Loads the configuration from `path`, or the embedded default when
    /// `path` is `None` and `config/secwire.toml` does not exist.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
                    path: p.to_path_buf(),
                    source: e,
                })?;
                Config::from_toml(&text, ConfigSource::File(p.to_path_buf()))
            }
            None => {
                let p = Path::new("config/secwire.toml");
                if p.exists() {
                    Config::load(Some(p))
                } else {
                    Config::from_toml(DEFAULT_CONFIG, ConfigSource::Embedded)
                }
            }
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |message: String| ConfigError::Invalid {
            source_name: self.source.to_string(),
            message,
        };
        let f = &self.fetch;
        if f.concurrency == 0 {
            return Err(bad("fetch.concurrency must be at least 1".into()));
        }
        if f.per_host_concurrency == 0 {
            return Err(bad("fetch.per_host_concurrency must be at least 1".into()));
        }
        if f.timeout_secs == 0 || f.connect_timeout_secs == 0 {
            return Err(bad(
                "fetch.timeout_secs and fetch.connect_timeout_secs must be at least 1".into(),
            ));
        }
        if f.max_feed_bytes == 0 || f.max_page_bytes == 0 {
            return Err(bad(
                "fetch.max_feed_bytes and fetch.max_page_bytes must be at least 1".into(),
            ));
        }
        if f.max_redirects > 20 {
            return Err(bad("fetch.max_redirects must be at most 20".into()));
        }
        let sc = &self.schedule;
        if sc.min_interval.0.is_zero() || sc.min_interval.0 > sc.max_interval.0 {
            return Err(bad(format!(
                "schedule.min_interval must be positive and at most schedule.max_interval ({:?} > {:?})",
                sc.min_interval.0, sc.max_interval.0
            )));
        }
        if !(0.0..=0.5).contains(&sc.jitter) {
            return Err(bad(format!(
                "schedule.jitter must be between 0 and 0.5, got {}",
                sc.jitter
            )));
        }
        if self.daemon.article_attempts == 0 {
            return Err(bad("daemon.article_attempts must be at least 1".into()));
        }
        if !(0.0..=1.0).contains(&self.classifier.threshold) {
            return Err(bad(format!(
                "classifier.threshold must be between 0 and 1, got {}",
                self.classifier.threshold
            )));
        }
        let mut seen = std::collections::HashSet::new();
        for feed in &self.feeds {
            if !seen.insert(feed.url.0.as_str()) {
                return Err(bad(format!(
                    "feed {} is listed twice in [[feeds]]",
                    feed.url.0
                )));
            }
        }
        for feed in &self.feeds {
            for p in feed.include.iter().chain(&feed.exclude) {
                if let Err(e) = regex::Regex::new(p) {
                    return Err(bad(format!(
                        "feed {}: invalid URL pattern {p:?}: {e}",
                        feed.url.0
                    )));
                }
            }
        }
        for site in &self.sites {
            if site.host.trim().is_empty() {
                return Err(bad("[[sites]] entry with an empty host".into()));
            }
        }
        Ok(())
    }

    /// The directory relative paths in this config are resolved against.
    pub fn base_dir(&self) -> PathBuf {
        match &self.source {
            ConfigSource::File(p) => p
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
            ConfigSource::Embedded => PathBuf::from("config"),
        }
    }

    /// Reads the classifier rule file named by `[classifier] rules`. The
    /// embedded rules are used when the config itself is the embedded one,
    /// or when the default rule path does not exist.
    pub fn classifier_rules_text(&self) -> Result<(String, String), ConfigError> {
        let path = if self.classifier.rules.is_absolute() {
            self.classifier.rules.clone()
        } else {
            self.base_dir().join(&self.classifier.rules)
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((text, path.display().to_string())),
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && self.classifier.rules == default_rules_path() =>
            {
                Ok((
                    DEFAULT_CLASSIFIER_RULES.to_string(),
                    "<embedded default config/classifier.toml>".to_string(),
                ))
            }
            Err(e) => Err(ConfigError::Read { path, source: e }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses_and_has_feeds() {
        let cfg = Config::from_toml(DEFAULT_CONFIG, ConfigSource::Embedded).unwrap();
        assert!(cfg.feeds.len() >= 20, "default config lists the real feeds");
        assert!(!cfg.fetch.allow_private_addresses);
        assert_eq!(cfg.database.path, PathBuf::from("secwire.db"));
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let text = "[database]\npath = \"x.db\"\n\n[fetch]\ntimeout_secs = 5\nconcurency = 3\n";
        let err = Config::from_toml(text, ConfigSource::File("my.toml".into())).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("my.toml"), "{msg}");
        assert!(msg.contains("line 6"), "{msg}");
        assert!(msg.contains("concurency"), "{msg}");
    }

    #[test]
    fn bad_value_names_key_and_line() {
        let text = "[fetch]\ntimeout_secs = \"soon\"\n";
        let msg = Config::from_toml(text, ConfigSource::Embedded)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("line 2"), "{msg}");
        assert!(msg.contains("timeout_secs"), "{msg}");
    }

    #[test]
    fn bad_feed_url_and_interval_are_errors() {
        let text = "[[feeds]]\nurl = \"ftp://x/feed\"\n";
        let msg = Config::from_toml(text, ConfigSource::Embedded)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("ftp") && msg.contains("line 2"), "{msg}");
        let text = "[[feeds]]\nurl = \"https://x/feed\"\ninterval = \"5 parsecs\"\n";
        let msg = Config::from_toml(text, ConfigSource::Embedded)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("interval") && msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172800));
        assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("10").is_ok());
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn zero_concurrency_is_rejected() {
        let msg = Config::from_toml("[fetch]\nconcurrency = 0\n", ConfigSource::Embedded)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("fetch.concurrency"), "{msg}");
    }
}
