//! `secwire reextract` and `secwire reclassify`: re-run a stage over the
//! archive without fetching anything.

use std::process::ExitCode;

use secwire::rework::{self, ReworkReport};
use secwire::timefmt::{parse_user_date, to_db};

use super::{Ctx, progress};

#[derive(Debug, clap::Args)]
pub struct ReextractArgs {
    /// Only items published on or after this date
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Only pages from this host (and its subdomains)
    #[arg(long, value_name = "HOST")]
    host: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ReclassifyArgs {
    /// Only items published on or after this date
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Only re-evaluate this label (the others keep their stored values)
    #[arg(long, value_name = "LABEL")]
    label: Option<String>,
}

fn since(s: &Option<String>) -> anyhow::Result<Option<String>> {
    s.as_deref()
        .map(|d| parse_user_date(d).map(to_db))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--since: {e}"))
}

pub fn reextract(ctx: &Ctx, args: ReextractArgs) -> anyhow::Result<ExitCode> {
    let cfg = ctx.config()?;
    let since = since(&args.since)?;
    let extractor = ctx.extractor(&cfg)?;
    let classifier = ctx.classifier(&cfg)?;
    let mut store = ctx.open_store(&cfg)?;
    let bar = progress::start(0, "pages re-extracted");
    let mut tick = |done: u64, total: u64| tick(&bar, done, total);
    let r = rework::reextract(
        &mut store,
        &extractor,
        &classifier,
        since.as_deref(),
        args.host.as_deref(),
        &mut tick,
    );
    progress::finish(bar);
    let r = r?;
    eprintln!(
        "reextract: {} pages, {} items changed, {} skipped; {}",
        r.items,
        r.counts.items_changed,
        r.skipped,
        flags(&r)
    );
    Ok(ExitCode::SUCCESS)
}

pub fn reclassify(ctx: &Ctx, args: ReclassifyArgs) -> anyhow::Result<ExitCode> {
    let cfg = ctx.config()?;
    let since = since(&args.since)?;
    let classifier = ctx.classifier(&cfg)?;
    let mut store = ctx.open_store(&cfg)?;
    let bar = progress::start(0, "items re-classified");
    let mut tick = |done: u64, total: u64| tick(&bar, done, total);
    let r = rework::reclassify(
        &mut store,
        &classifier,
        since.as_deref(),
        args.label.as_deref(),
        &mut tick,
    );
    progress::finish(bar);
    let r = r?;
    eprintln!(
        "reclassify: {} items with classifier {}; {}",
        r.items,
        classifier.version(),
        flags(&r)
    );
    Ok(ExitCode::SUCCESS)
}

fn tick(bar: &Option<indicatif::ProgressBar>, done: u64, total: u64) {
    match bar {
        Some(b) => {
            b.set_length(total);
            b.set_position(done);
        }
        None => tracing::info!(done, total, "progress"),
    }
}

fn flags(r: &ReworkReport) -> String {
    format!(
        "{} flags changed ({} items newly flagged, {} no longer flagged)",
        r.counts.flags_changed, r.counts.newly_flagged, r.counts.unflagged
    )
}
