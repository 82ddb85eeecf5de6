//! Command-line front-ends. Each subcommand is a thin module: it reads
//! options, calls the library, and prints. Exit codes (documented in the
//! README): 0 success; 1 the command ran but failed (e.g. no feed could be
//! fetched); 2 bad usage, bad configuration or unusable database.

mod backfill;
mod classify;
mod extract;
mod feeds;
mod parse_feed;
mod progress;
mod query;
mod rework;
mod run;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use secwire::classify::{Classifier, RulesError};
use secwire::config::{Config, ConfigError};
use secwire::daemon::DaemonError;
use secwire::extract::{ExtractError, Extractor};
use secwire::store::{Store, StoreError};

/// secwire watches security news for policy events: vendor bans and
/// changes in public-private partnerships.
#[derive(Debug, Parser)]
#[command(name = "secwire", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file [default: $SECWIRE_CONFIG, else config/secwire.toml,
    /// else the built-in default]
    #[arg(long, global = true, value_name = "PATH", env = "SECWIRE_CONFIG")]
    config: Option<PathBuf>,

    /// SQLite database file (overrides `[database] path`)
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,

    /// More log output (-v: debug, -vv: trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Only warnings and errors on stderr
    #[arg(short, long, global = true)]
    quiet: bool,

    /// Log line format on stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Process every configured feed once (fetch, parse, extract, classify,
    /// store), then exit
    Backfill(backfill::Args),
    /// Run as a daemon: poll every feed on its own schedule until stopped
    Run(run::Args),
    /// Print stored items, filtered
    Query(query::Args),
    /// List feeds with their state, or import feeds from OPML
    Feeds(feeds::Args),
    /// Show how secwire reads feed documents (one JSON line per input)
    ParseFeed(parse_feed::Args),
    /// Extract articles from HTML files or URLs (one JSON line per input)
    Extract(extract::Args),
    /// Classify items from a JSONL file of {"id","title","text"} (one JSON line per item)
    Classify(classify::Args),
    /// Re-run extraction (then classification) over the stored raw pages, without fetching
    Reextract(rework::ReextractArgs),
    /// Re-run the classifier over stored items, without fetching
    Reclassify(rework::ReclassifyArgs),
}

/// Sets up tracing on stderr. Data goes to stdout, diagnostics to stderr.
pub fn init_logging(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    let default = if cli.quiet {
        "warn"
    } else {
        match (cli.verbose, &cli.command) {
            (0, Command::Backfill(_) | Command::Run(_)) => "secwire=info,warn",
            (0, Command::Reextract(_) | Command::Reclassify(_)) => "warn",
            (0, _) => "warn",
            (1, _) => "secwire=debug,info",
            _ => "secwire=trace,debug",
        }
    };
    let filter = EnvFilter::try_from_env("SECWIRE_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(progress::LogWriter)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none());
    let _ = match cli.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ctx = Ctx {
        config_path: cli.config,
        db_override: cli.db,
    };
    match cli.command {
        Command::Backfill(a) => backfill::run(&ctx, a),
        Command::Run(a) => run::run(&ctx, a),
        Command::Query(a) => query::run(&ctx, a),
        Command::Feeds(a) => feeds::run(&ctx, a),
        Command::ParseFeed(a) => parse_feed::run(&ctx, a),
        Command::Extract(a) => extract::run(&ctx, a),
        Command::Classify(a) => classify::run(&ctx, a),
        Command::Reextract(a) => rework::reextract(&ctx, a),
        Command::Reclassify(a) => rework::reclassify(&ctx, a),
    }
}

/// What every subcommand may need: where the config and database are.
pub struct Ctx {
    pub(crate) config_path: Option<PathBuf>,
    pub(crate) db_override: Option<PathBuf>,
}

impl Ctx {
    /// Loads the configuration (exit status 2 on error).
    fn config(&self) -> anyhow::Result<Config> {
        let cfg = Config::load(self.config_path.as_deref())?;
        tracing::debug!(source = %cfg.source, "configuration loaded");
        Ok(cfg)
    }

    fn db_path(&self, cfg: &Config) -> PathBuf {
        self.db_override
            .clone()
            .unwrap_or_else(|| cfg.database.path.clone())
    }

    /// Opens the database for writing, creating or upgrading it.
    fn open_store(&self, cfg: &Config) -> anyhow::Result<Store> {
        let path = self.db_path(cfg);
        Ok(Store::open(&path, busy_timeout(cfg))?)
    }

    /// Opens an existing database read-only.
    fn open_store_read_only(&self, cfg: &Config) -> anyhow::Result<Store> {
        let path = self.db_path(cfg);
        Ok(Store::open_read_only(&path, busy_timeout(cfg))?)
    }

    fn classifier(&self, cfg: &Config) -> anyhow::Result<Arc<Classifier>> {
        let (text, source) = cfg.classifier_rules_text()?;
        Ok(Arc::new(Classifier::from_toml(
            &text,
            &source,
            cfg.classifier.threshold,
        )?))
    }

    fn extractor(&self, cfg: &Config) -> anyhow::Result<Arc<Extractor>> {
        Ok(Arc::new(Extractor::new(&cfg.sites)?))
    }
}

fn busy_timeout(cfg: &Config) -> Duration {
    Duration::from_millis(cfg.store.busy_timeout_ms)
}

/// A multi-threaded runtime for the commands that do network I/O.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Errors the user fixes by changing how secwire is called or configured.
fn is_setup_error(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.is::<ConfigError>()
            || e.is::<RulesError>()
            || e.is::<ExtractError>()
            || matches!(
                e.downcast_ref::<DaemonError>(),
                Some(
                    DaemonError::AlreadyRunning { .. }
                        | DaemonError::Lock { .. }
                        | DaemonError::Setup(_)
                        | DaemonError::Metrics { .. }
                )
            )
            || matches!(
                e.downcast_ref::<StoreError>(),
                Some(
                    StoreError::Open { .. }
                        | StoreError::Missing(_)
                        | StoreError::TooNew { .. }
                        | StoreError::TooOld { .. }
                        | StoreError::Migrate { .. }
                )
            )
    })
}

/// 2 for configuration and database set-up problems, 1 otherwise.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    if is_setup_error(err) { 2 } else { 1 }
}

/// Prints an error as one line, with a hint where the fix is known.
pub fn report_error(err: &anyhow::Error) {
    let mut msg = String::new();
    for (i, e) in err.chain().enumerate() {
        let s = e.to_string();
        if i > 0 && msg.contains(&s) {
            continue;
        }
        if i > 0 {
            msg.push_str(": ");
        }
        msg.push_str(&s);
    }
    eprintln!("error: {msg}");
    if let Some(hint) = hint_for(err) {
        eprintln!("hint: {hint}");
    }
}

fn hint_for(err: &anyhow::Error) -> Option<String> {
    for e in err.chain() {
        if let Some(StoreError::Missing(p)) = e.downcast_ref::<StoreError>() {
            return Some(format!(
                "run `secwire backfill` first to create {}, or pass --db PATH",
                p.display()
            ));
        }
        if let Some(ConfigError::Read { path, .. }) = e.downcast_ref::<ConfigError>() {
            return Some(format!(
                "check the path {}; without --config and $SECWIRE_CONFIG, config/secwire.toml or the built-in default is used",
                path.display()
            ));
        }
    }
    None
}

/// Output formats shared by the commands that print records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
}

impl Format {
    /// Table on a terminal, JSON lines otherwise.
    pub fn default_for_stdout() -> Format {
        if std::io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Jsonl
        }
    }
}

/// True for an http(s) URL argument (fetched) rather than a file (read).
pub fn is_url(arg: &str) -> bool {
    arg.starts_with("http://") || arg.starts_with("https://")
}

/// One `FILE_OR_URL` argument's content.
pub struct Input {
    pub bytes: Vec<u8>,
    /// The HTTP `Content-Type`, for URLs.
    pub content_type: Option<String>,
    /// Where a URL argument ended up after redirects.
    pub url: Option<url::Url>,
}

/// Reads `FILE_OR_URL` arguments: files from disk, URLs with the same
/// fetch policy as the pipeline (the client exists only if a URL is given).
pub struct Inputs {
    net: Option<(tokio::runtime::Runtime, secwire::fetch::Fetcher)>,
}

impl Inputs {
    pub fn new(ctx: &Ctx, args: &[String]) -> anyhow::Result<Inputs> {
        let net = if args.iter().any(|a| is_url(a)) {
            let cfg = ctx.config()?;
            Some((runtime()?, secwire::fetch::Fetcher::new(&cfg.fetch)?))
        } else {
            None
        };
        Ok(Inputs { net })
    }

    /// The content of one argument, or a one-line error naming it.
    pub fn read(&self, input: &str, kind: secwire::fetch::Kind) -> Result<Input, String> {
        if !is_url(input) {
            let bytes = std::fs::read(input).map_err(|e| format!("cannot read {input}: {e}"))?;
            return Ok(Input {
                bytes,
                content_type: None,
                url: None,
            });
        }
        let url = url::Url::parse(input).map_err(|e| format!("invalid URL {input}: {e}"))?;
        let Some((rt, fetcher)) = &self.net else {
            return Err(format!("{input}: no HTTP client"));
        };
        let f = rt
            .block_on(fetcher.get(&url, kind, None))
            .map_err(|e| e.to_string())?;
        Ok(Input {
            bytes: f.body,
            content_type: f.content_type,
            url: Some(f.url),
        })
    }
}

/// JSON values on stdout, one a line. A reader that goes away (`| head`)
/// ends the output quietly.
pub struct JsonLines {
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    closed: bool,
}

impl JsonLines {
    pub fn new() -> JsonLines {
        JsonLines {
            out: std::io::BufWriter::new(std::io::stdout().lock()),
            closed: false,
        }
    }

    /// Writes one line; `Ok(false)` once stdout is closed.
    pub fn write(&mut self, v: &serde_json::Value) -> std::io::Result<bool> {
        use std::io::Write;
        if self.closed {
            return Ok(false);
        }
        let res = serde_json::to_writer(&mut self.out, v)
            .map_err(std::io::Error::from)
            .and_then(|_| self.out.write_all(b"\n"));
        match res {
            Ok(()) => Ok(true),
            Err(e) if is_broken_pipe(&e) => {
                self.closed = true;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Flushes; a closed stdout is not an error.
    pub fn finish(mut self) -> anyhow::Result<ExitCode> {
        use std::io::Write;
        match self.out.flush() {
            Err(e) if !is_broken_pipe(&e) => Err(e.into()),
            _ => Ok(ExitCode::SUCCESS),
        }
    }
}

/// True when an I/O error is a closed stdout (e.g. `| head`).
pub fn is_broken_pipe(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}

#[allow(dead_code)]
fn display(p: &Path) -> String {
    p.display().to_string()
}
