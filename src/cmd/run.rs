//! `secwire run`: the daemon, with its signals.
//!
//! SIGINT/SIGTERM stop it (a second one abandons in-flight work at once);
//! SIGHUP reloads the configuration file: a bad new file is logged and the
//! old configuration kept.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use secwire::config::Config;
use secwire::daemon::{self, Control, DaemonLock, Heartbeat};
use secwire::metrics::Metrics;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(ctx: &Ctx, _args: Args) -> anyhow::Result<ExitCode> {
    let cfg = ctx.config()?;
    // Check the classifier rules and site rules before taking the lock.
    ctx.classifier(&cfg)?;
    ctx.extractor(&cfg)?;
    let db_path = ctx.db_path(&cfg);
    let lock = DaemonLock::acquire(&db_path)?;
    let store = ctx.open_store(&cfg)?;
    tracing::info!(db = %db_path.display(), lock = %lock.path().display(), config = %cfg.source, "secwire run starting");

    let rt = super::runtime()?;
    let config_path = ctx.config_path.clone();
    let db_override = ctx.db_override.clone();
    rt.block_on(async move {
        let result: anyhow::Result<()> = async {
        let shutdown = CancellationToken::new();
        let abandon = CancellationToken::new();
        let (reload_tx, reload_rx) = mpsc::channel::<Config>(4);
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
        let mut hup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
        let (s, a) = (shutdown.clone(), abandon.clone());
        let signals = tokio::spawn(async move {
            loop {
                let name = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                    _ = hup.recv() => {
                        match Config::load(config_path.as_deref()) {
                            Ok(mut new_cfg) => {
                                if let Some(db) = &db_override {
                                    new_cfg.database.path = db.clone();
                                }
                                tracing::info!(config = %new_cfg.source, "SIGHUP: reloading configuration");
                                let _ = sd_notify::notify(&[sd_notify::NotifyState::Reloading]);
                                if reload_tx.send(new_cfg).await.is_err() {
                                    return;
                                }
                                let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
                            }
                            Err(e) => tracing::error!(error = %e, "SIGHUP: the new configuration is invalid; keeping the old one"),
                        }
                        continue;
                    }
                };
                if s.is_cancelled() {
                    tracing::warn!(signal = name, "second stop signal: abandoning in-flight work");
                    a.cancel();
                    return;
                }
                tracing::info!(signal = name, "stopping");
                s.cancel();
            }
        });
        let control = Control { shutdown, abandon, reload: reload_rx };
        let metrics = Arc::new(Metrics::new());
        let heartbeat = Arc::new(Heartbeat::default());
        let result = daemon::run(cfg, store, control, metrics, heartbeat, || {
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
            tracing::info!("ready");
        })
        .await;
        signals.abort();
        Ok(result?)
        }
        .await;
        result
    })?;
    drop(lock);
    Ok(ExitCode::SUCCESS)
}
