//! `secwire feeds`: list feeds with their state; `secwire feeds import`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use secwire::config::parse_http_url;
use secwire::opml::parse_opml;

use super::{Ctx, Format, is_broken_pipe};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// Output format for the list [default: table on a terminal, jsonl otherwise]
    #[arg(long, value_enum)]
    format: Option<Format>,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Add the feeds of an OPML file (outlines with xmlUrl) to the database
    Import {
        /// The OPML file
        file: PathBuf,
    },
    /// Re-enable a feed that was disabled (e.g. after 410 Gone); a running
    /// daemon picks it up within a minute, or at once on SIGHUP
    Enable {
        /// Feed id or URL (see `secwire feeds`)
        feed: String,
    },
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let cfg = ctx.config()?;
    let mut store = ctx.open_store(&cfg)?;
    store.sync_config_feeds(&cfg.feeds)?;
    match args.action {
        Some(Action::Import { file }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let feeds = parse_opml(&text).with_context(|| format!("reading {}", file.display()))?;
            let (mut added, mut known, mut bad) = (0, 0, 0);
            for f in feeds {
                match parse_http_url(&f.url) {
                    Ok(u) => {
                        let (_, is_new) = store.add_feed(u.as_str(), f.name.as_deref(), "opml")?;
                        if is_new {
                            added += 1;
                        } else {
                            known += 1;
                        }
                    }
                    Err(e) => {
                        eprintln!("skipped: {e}");
                        bad += 1;
                    }
                }
            }
            eprintln!(
                "imported {}: {added} feeds added, {known} already known, {bad} skipped",
                file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Action::Enable { feed }) => match store.enable_feed(&feed)? {
            Some(row) => {
                eprintln!("enabled feed {} ({})", row.id, row.url);
                Ok(ExitCode::SUCCESS)
            }
            None => anyhow::bail!(
                "no feed matches {feed:?} (give a feed id or URL; `secwire feeds` lists them)"
            ),
        },
        None => {
            let feeds = store.feed_statuses()?;
            let format = args.format.unwrap_or_else(Format::default_for_stdout);
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            let res = (|| -> io::Result<()> {
                match format {
                    Format::Table => {
                        writeln!(
                            out,
                            "{:>4}  {:<6}  {:<20}  {:>6}  {:>5}  {:>5}  url / last error",
                            "id", "state", "last fetch", "status", "fails", "items"
                        )?;
                        for f in &feeds {
                            let state = if !f.active {
                                "off"
                            } else if f.consecutive_failures > 0 {
                                "FAIL"
                            } else {
                                "ok"
                            };
                            writeln!(
                                out,
                                "{:>4}  {:<6}  {:<20}  {:>6}  {:>5}  {:>5}  {}{}",
                                f.id,
                                state,
                                f.last_fetch_at.as_deref().unwrap_or("never"),
                                f.last_status
                                    .map(|s| s.to_string())
                                    .unwrap_or_else(|| "-".into()),
                                f.consecutive_failures,
                                f.items,
                                f.url,
                                f.last_error
                                    .as_deref()
                                    .map(|e| format!("\n{:>54}{e}", ""))
                                    .unwrap_or_default()
                            )?;
                        }
                    }
                    Format::Json => {
                        serde_json::to_writer_pretty(&mut out, &feeds)?;
                        writeln!(out)?;
                    }
                    Format::Jsonl => {
                        for f in &feeds {
                            serde_json::to_writer(&mut out, f)?;
                            writeln!(out)?;
                        }
                    }
                    Format::Csv => {
                        let mut w = csv::Writer::from_writer(&mut out);
                        w.write_record([
                            "id",
                            "url",
                            "name",
                            "origin",
                            "active",
                            "last_fetch_at",
                            "last_success_at",
                            "last_status",
                            "last_error",
                            "consecutive_failures",
                            "items",
                        ])?;
                        for f in &feeds {
                            w.write_record([
                                f.id.to_string(),
                                f.url.clone(),
                                f.name.clone().unwrap_or_default(),
                                f.origin.clone(),
                                f.active.to_string(),
                                f.last_fetch_at.clone().unwrap_or_default(),
                                f.last_success_at.clone().unwrap_or_default(),
                                f.last_status.map(|s| s.to_string()).unwrap_or_default(),
                                f.last_error.clone().unwrap_or_default(),
                                f.consecutive_failures.to_string(),
                                f.items.to_string(),
                            ])?;
                        }
                        w.flush()?;
                    }
                }
                out.flush()
            })();
            match res {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) if is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
                Err(e) => Err(e.into()),
            }
        }
    }
}
