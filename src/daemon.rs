//! `secwire run`: poll every feed on its own schedule, for as long as the
//! process lives.
//!
//! Shape (after mini-redis): the caller passes in the shutdown signal and a
//! reload channel; every task is owned by a [`TaskTracker`] and awaited on
//! shutdown; concurrency is bounded (feed tasks by `[fetch] concurrency`,
//! HTTP by the fetcher's semaphores, writes by the store writer's bounded
//! queue). One task, the scheduler loop, owns all scheduling state.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use thiserror::Error;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, warn};

use crate::classify::Classifier;
use crate::config::Config;
use crate::extract::Extractor;
use crate::fetch::Fetcher;
use crate::metrics::Metrics;
use crate::pipeline::{FeedOutcome, FeedReport, Pipeline, PipelineOptions};
use crate::schedule::{self, Observation};
use crate::store::writer::{StoreHandle, StoreWriter};
use crate::store::{FeedRow, Store};
use crate::timefmt::to_db;

#[derive(Debug, Error)]
pub enum DaemonError {
    #[error(
        "another `secwire run` is using {db} (lock file {lock} is held{holder}); stop it first or use another --db"
    )]
    AlreadyRunning {
        db: PathBuf,
        lock: PathBuf,
        holder: String,
    },
    #[error("cannot create lock file {lock}: {source}")]
    Lock {
        lock: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Setup(String),
    #[error("cannot listen for metrics on {addr}: {source}")]
    Metrics {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Held for the daemon's lifetime: a second daemon on the same database
/// finds the lock taken and refuses to start. The OS releases it when the
/// process ends, however it ends.
pub struct DaemonLock {
    _file: File,
    path: PathBuf,
}

impl DaemonLock {
    /// Takes `<db>.lock` exclusively, or says who holds it.
    pub fn acquire(db: &Path) -> Result<DaemonLock, DaemonError> {
        let mut name = db.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| DaemonError::Lock {
                lock: path.clone(),
                source: e,
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path)
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .map(|pid| format!(" by process {pid}"))
                    .unwrap_or_default();
                return Err(DaemonError::AlreadyRunning {
                    db: db.to_path_buf(),
                    lock: path,
                    holder,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(DaemonError::Lock {
                    lock: path,
                    source: e,
                });
            }
        }
        let _ = file.set_len(0);
        let _ = writeln!(file, "{}", std::process::id());
        Ok(DaemonLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// How the outside world steers the daemon.
pub struct Control {
    /// Stop scheduling; finish in-flight work within the shutdown timeout.
    pub shutdown: CancellationToken,
    /// Abandon in-flight work at once (a second signal).
    pub abandon: CancellationToken,
    /// New configurations (already parsed) to switch to.
    pub reload: mpsc::Receiver<Config>,
}

/// Liveness, shared with the health endpoints and the systemd watchdog.
#[derive(Debug, Default)]
pub struct Heartbeat(AtomicI64);

impl Heartbeat {
    fn beat(&self) {
        self.0
            .store(Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    /// Time since the scheduler loop last went round.
    pub fn age(&self) -> Duration {
        let last = self.0.load(Ordering::Relaxed);
        let now = Utc::now().timestamp_millis();
        Duration::from_millis((now - last).max(0) as u64)
    }
}

/// The loop goes round at least this often, so the heartbeat stays fresh.
const MAX_SLEEP: Duration = Duration::from_secs(1);
/// Feeds added or re-enabled from the command line are noticed this fast.
const REFRESH_EVERY: Duration = Duration::from_secs(60);
/// How often due article retries are looked for.
const RETRY_SCAN_EVERY: Duration = Duration::from_secs(30);
/// The heartbeat is stale (loop stuck) after this long.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// Everything that is rebuilt when the configuration is reloaded.
struct Parts {
    cfg: Config,
    pipeline: Arc<Pipeline>,
}

fn build_parts(cfg: Config, store: &StoreHandle) -> Result<Parts, DaemonError> {
    let (rules, source) = cfg
        .classifier_rules_text()
        .map_err(|e| DaemonError::Setup(e.to_string()))?;
    let classifier = Classifier::from_toml(&rules, &source, cfg.classifier.threshold)
        .map_err(|e| DaemonError::Setup(e.to_string()))?;
    let extractor = Extractor::new(&cfg.sites).map_err(|e| DaemonError::Setup(e.to_string()))?;
    let fetcher = Fetcher::new(&cfg.fetch).map_err(|e| DaemonError::Setup(e.to_string()))?;
    let opts = PipelineOptions::from_config(&cfg);
    let pipeline = Pipeline::new(
        Arc::new(fetcher),
        Arc::new(extractor),
        Arc::new(classifier),
        store.clone(),
        opts,
    );
    Ok(Parts {
        cfg,
        pipeline: Arc::new(pipeline),
    })
}

/// One feed's place in the schedule.
struct Slot {
    row: FeedRow,
    next_at: Instant,
    /// The regular interval last planned; `None` until the first fetch.
    interval: Option<Duration>,
    in_flight: bool,
    in_backoff: bool,
    last_done: Instant,
}

enum Done {
    Feed(i64, Box<FeedReport>),
    Retry(&'static str),
}

/// Runs the daemon until `control.shutdown` fires. `ready` is called once
/// the schedule is loaded and work begins.
pub async fn run(
    cfg: Config,
    store: Store,
    mut control: Control,
    metrics: Arc<Metrics>,
    heartbeat: Arc<Heartbeat>,
    ready: impl FnOnce(),
) -> Result<(), DaemonError> {
    heartbeat.beat();
    let writer = StoreWriter::spawn(store, cfg.store.keep_raw_pages, 256);
    let store = writer.handle();
    let feeds_cfg = cfg.feeds.clone();
    store.call(move |s| s.sync_config_feeds(&feeds_cfg)).await?;
    let mut parts = build_parts(cfg, &store)?;

    let tracker = TaskTracker::new();
    let abandon = control.abandon.clone();
    let servers_stop = CancellationToken::new();
    if let Some(addr) = parts.cfg.metrics.listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| DaemonError::Metrics { addr, source: e })?;
        info!(%addr, "serving /metrics, /healthz and /readyz");
        tracker.spawn(serve_metrics(
            listener,
            metrics.clone(),
            heartbeat.clone(),
            store.clone(),
            servers_stop.clone(),
        ));
    }
    if let Some(every) = sd_notify::watchdog_enabled() {
        tracker.spawn(watchdog(
            every,
            heartbeat.clone(),
            store.clone(),
            servers_stop.clone(),
        ));
    }

    let concurrency = parts.cfg.fetch.concurrency.max(1);
    let (done_tx, mut done_rx) = mpsc::channel::<Done>(concurrency * 4 + 16);
    let mut slots: HashMap<i64, Slot> = HashMap::new();
    refresh_feeds(&store, &mut slots).await;
    info!(feeds = slots.len(), "scheduler started");
    ready();

    let mut retries_in_flight = 0usize;
    let mut last_retry_scan: Option<Instant> = None;
    let mut last_refresh = Instant::now();
    loop {
        heartbeat.beat();
        let now = Instant::now();
        if control.shutdown.is_cancelled() {
            break;
        }

        // Dispatch due feeds, earliest first.
        let feeds_in_flight = slots.values().filter(|s| s.in_flight).count();
        let mut due: Vec<(Instant, i64)> = slots
            .iter()
            .filter(|(_, s)| !s.in_flight && s.next_at <= now)
            .map(|(id, s)| (s.next_at, *id))
            .collect();
        due.sort_unstable();
        let free = concurrency.saturating_sub(feeds_in_flight);
        metrics.set_queue("due_feeds", due.len().saturating_sub(free));
        for (_, id) in due.into_iter().take(free) {
            let Some(slot) = slots.get_mut(&id) else {
                continue;
            };
            slot.in_flight = true;
            let pipeline = parts.pipeline.clone();
            let row = slot.row.clone();
            let tx = done_tx.clone();
            let abandon = abandon.clone();
            tracker.spawn(async move {
                tokio::select! {
                    r = pipeline.process_feed(&row) => {
                        let _ = tx.send(Done::Feed(row.id, Box::new(r))).await;
                    }
                    _ = abandon.cancelled() => {
                        debug!(feed = %row.url, "abandoned at shutdown");
                    }
                }
            });
        }

        // Article fetches that failed transiently and are due again.
        let scan_due = last_retry_scan.is_none_or(|t| now.duration_since(t) >= RETRY_SCAN_EVERY);
        if scan_due && retries_in_flight == 0 {
            last_retry_scan = Some(now);
            let now_db = to_db(Utc::now());
            let limit = concurrency * 2;
            match store.call(move |s| s.due_retries(&now_db, limit)).await {
                Ok(items) => {
                    for item in items {
                        retries_in_flight += 1;
                        let pipeline = parts.pipeline.clone();
                        let tx = done_tx.clone();
                        let abandon = abandon.clone();
                        tracker.spawn(async move {
                            tokio::select! {
                                status = pipeline.retry_article(item) => {
                                    let _ = tx.send(Done::Retry(status)).await;
                                }
                                _ = abandon.cancelled() => {}
                            }
                        });
                    }
                }
                Err(e) => {
                    metrics.error("store", "read");
                    warn!(error = %e, "looking for article retries failed");
                }
            }
        }

        // Feeds added or re-enabled from the command line.
        if now.duration_since(last_refresh) >= REFRESH_EVERY {
            last_refresh = now;
            refresh_feeds(&store, &mut slots).await;
        }
        update_gauges(&metrics, &slots, &store, now);

        let next_feed = slots
            .values()
            .filter(|s| !s.in_flight)
            .map(|s| s.next_at)
            .min();
        let mut wake = now + MAX_SLEEP;
        if let Some(t) = next_feed {
            wake = wake.min(t.max(now));
        }
        tokio::select! {
            _ = control.shutdown.cancelled() => break,
            Some(new_cfg) = control.reload.recv() => {
                match build_parts(new_cfg, &store) {
                    Ok(p) => {
                        let feeds_cfg = p.cfg.feeds.clone();
                        if let Err(e) = store.call(move |s| s.sync_config_feeds(&feeds_cfg)).await {
                            error!(error = %e, "reload: recording the configured feeds failed; keeping the old configuration");
                        } else {
                            if p.cfg.database.path != parts.cfg.database.path {
                                warn!("reload: [database] path changed; it takes effect at the next start");
                            }
                            if p.cfg.metrics.listen != parts.cfg.metrics.listen {
                                warn!("reload: [metrics] listen changed; it takes effect at the next start");
                            }
                            parts = p;
                            let before = slots.len();
                            refresh_feeds(&store, &mut slots).await;
                            info!(feeds = slots.len(), was = before, "configuration reloaded");
                        }
                    }
                    Err(e) => error!(error = %e, "reload failed; keeping the old configuration"),
                }
            }
            Some(done) = done_rx.recv() => {
                match done {
                    Done::Feed(id, report) => {
                        metrics.observe(&report);
                        reschedule(&parts.cfg, &store, &mut slots, id, &report).await;
                    }
                    Done::Retry(status) => {
                        retries_in_flight = retries_in_flight.saturating_sub(1);
                        metrics.articles_retried.inc();
                        if status == "ok" {
                            metrics.articles_extracted.inc();
                        } else if status != "fetch_retry" {
                            metrics.articles_failed.inc();
                        }
                    }
                }
            }
            _ = tokio::time::sleep_until(wake) => {}
        }
    }

    // Shutdown: no new work; in-flight work gets the timeout, then is
    // abandoned. Whatever is abandoned was not written (each item is one
    // transaction), so the file stays consistent.
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    let in_flight = slots.values().filter(|s| s.in_flight).count() + retries_in_flight;
    info!(in_flight, "shutting down");
    tracker.close();
    servers_stop.cancel();
    let timeout = parts.cfg.daemon.shutdown_timeout.0;
    let finished = tokio::select! {
        _ = async {
            // Keep recording finished feeds' schedules while waiting.
            loop {
                tokio::select! {
                    Some(done) = done_rx.recv() => {
                        if let Done::Feed(id, report) = done {
                            metrics.observe(&report);
                            reschedule(&parts.cfg, &store, &mut slots, id, &report).await;
                        }
                    }
                    _ = tracker.wait() => break,
                }
            }
        } => true,
        _ = tokio::time::sleep(timeout) => false,
        _ = control.abandon.cancelled() => false,
    };
    if !finished {
        warn!(timeout = ?timeout, "in-flight work abandoned at shutdown");
        abandon.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), tracker.wait()).await;
    }
    drop(parts);
    drop(store);
    writer.shutdown().await;
    info!("stopped");
    Ok(())
}

/// Loads the feeds to poll from the database and merges them into the
/// schedule: new feeds start at their stored `next_fetch_at` (or now),
/// feeds that are gone or disabled leave it.
async fn refresh_feeds(store: &StoreHandle, slots: &mut HashMap<i64, Slot>) {
    let rows = match store.call(|s| s.feeds_to_poll()).await {
        Ok(r) => r,
        Err(e) => {
            warn!(error = %e, "reading the feed list failed");
            return;
        }
    };
    let now = Instant::now();
    let wall = Utc::now();
    let keep: std::collections::HashSet<i64> = rows.iter().map(|r| r.id).collect();
    slots.retain(|id, s| keep.contains(id) || s.in_flight);
    for row in rows {
        match slots.get_mut(&row.id) {
            Some(slot) => slot.row = row,
            None => {
                let next_at = row
                    .next_fetch_at
                    .as_deref()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| {
                        let wait = (t.with_timezone(&Utc) - wall).to_std().unwrap_or_default();
                        now + wait
                    })
                    .unwrap_or(now);
                let interval = row
                    .poll_interval_secs
                    .map(|s| Duration::from_secs(s.max(1) as u64));
                slots.insert(
                    row.id,
                    Slot {
                        row,
                        next_at,
                        interval,
                        in_flight: false,
                        in_backoff: false,
                        last_done: now,
                    },
                );
            }
        }
    }
}

/// Plans a feed's next fetch from its report and persists it.
async fn reschedule(
    cfg: &Config,
    store: &StoreHandle,
    slots: &mut HashMap<i64, Slot>,
    id: i64,
    report: &FeedReport,
) {
    let row = match store.call(move |s| s.feed_by_id(id)).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            slots.remove(&id);
            return;
        }
        Err(e) => {
            warn!(error = %e, "reading feed state failed");
            if let Some(s) = slots.get_mut(&id) {
                s.in_flight = false;
                s.next_at = Instant::now() + cfg.schedule.min_interval.0;
            }
            return;
        }
    };
    if !row.enabled {
        info!(feed = %row.url, "feed disabled; no longer polled");
        slots.remove(&id);
        return;
    }
    let Some(slot) = slots.get_mut(&id) else {
        return;
    };
    let failed = matches!(report.outcome, FeedOutcome::Failed { .. });
    let obs = Observation {
        failed,
        consecutive_failures: row.consecutive_failures.clamp(0, 64) as u32,
        failure_not_counted: report.hints.failure_not_counted,
        retry_after: report.hints.retry_after,
        max_age: report.hints.max_age,
        ttl: report.hints.ttl,
        update_period: report.hints.update_period,
        entry_dates: report.hints.entry_dates.clone(),
    };
    let configured = row
        .interval_secs
        .map(|s| Duration::from_secs(s.max(1) as u64));
    let plan = schedule::plan(
        &cfg.schedule,
        configured,
        slot.interval,
        &obs,
        rand::random::<f64>(),
    );
    let now = Instant::now();
    slot.row = row;
    slot.in_flight = false;
    slot.interval = Some(plan.interval);
    slot.next_at = now + plan.delay;
    slot.in_backoff =
        plan.delay > plan.interval.mul_f64(1.0 + cfg.schedule.jitter) + Duration::from_millis(1);
    slot.last_done = now;
    let next = to_db(
        Utc::now() + chrono::Duration::from_std(plan.delay).unwrap_or(chrono::Duration::hours(6)),
    );
    let interval_secs = plan.interval.as_secs().max(1) as i64;
    debug!(feed = %slot.row.url, delay = ?plan.delay, interval = ?plan.interval, "next fetch planned");
    if let Err(e) = store
        .call(move |s| s.set_schedule(id, &next, interval_secs))
        .await
    {
        warn!(error = %e, "saving the schedule failed");
    }
}

fn update_gauges(metrics: &Metrics, slots: &HashMap<i64, Slot>, store: &StoreHandle, now: Instant) {
    metrics.feeds_enabled.set(slots.len() as i64);
    metrics
        .feeds_in_backoff
        .set(slots.values().filter(|s| s.in_backoff).count() as i64);
    let overdue = slots
        .values()
        .filter(|s| {
            !s.in_backoff
                && s.interval
                    .is_some_and(|i| now.duration_since(s.last_done) > i * 2)
        })
        .count();
    metrics.feeds_overdue.set(overdue as i64);
    metrics.set_queue("store", store.queue_depth());
}

/// Feeds systemd's watchdog while the loop goes round and the database
/// answers; a stuck loop or database lets the watchdog fire.
async fn watchdog(
    every: Duration,
    heartbeat: Arc<Heartbeat>,
    store: StoreHandle,
    stop: CancellationToken,
) {
    let period = (every / 2).max(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
        let alive = heartbeat.age() < STALE_AFTER.min(every) && db_answers(&store).await;
        if alive {
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
        } else {
            warn!("health check failed; not feeding the watchdog");
        }
    }
}

async fn db_answers(store: &StoreHandle) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(5), store.call(|s| s.ping())).await,
        Ok(Ok(()))
    )
}

async fn serve_metrics(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    heartbeat: Arc<Heartbeat>,
    store: StoreHandle,
    stop: CancellationToken,
) {
    use axum::http::{StatusCode, header};
    use axum::routing::get;
    let m = metrics.clone();
    let hb = heartbeat.clone();
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let m = m.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        m.render(),
                    )
                }
            }),
        )
        .route(
            "/healthz",
            get(move || {
                let hb = hb.clone();
                async move {
                    if hb.age() < STALE_AFTER {
                        (StatusCode::OK, "ok\n")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "scheduler loop stalled\n")
                    }
                }
            }),
        )
        .route(
            "/readyz",
            get(move || {
                let store = store.clone();
                async move {
                    if db_answers(&store).await {
                        (StatusCode::OK, "ok\n")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "database not answering\n")
                    }
                }
            }),
        );
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await
    {
        warn!(error = %e, "metrics server stopped");
    }
}
