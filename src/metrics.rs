//! Prometheus metrics of the daemon. One place where every thing that
//! happens is counted; names follow `secwire_<noun>_<verb>_total`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::pipeline::{FeedOutcome, FeedReport, Stage};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    /// HTTP status, or `error` when no response arrived.
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LabelLabel {
    pub label: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub stage: String,
    pub error_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabel {
    pub queue: String,
}

/// All metrics, registered once.
pub struct Metrics {
    registry: Registry,
    pub feed_fetches: Family<StatusLabel, Counter>,
    pub items_ingested: Counter,
    pub items_updated: Counter,
    pub articles_extracted: Counter,
    pub articles_failed: Counter,
    pub articles_retried: Counter,
    pub items_flagged: Family<LabelLabel, Counter>,
    pub fetch_duration: Histogram,
    pub errors: Family<ErrorLabels, Counter>,
    pub queue_depth: Family<QueueLabel, Gauge>,
    pub feeds_enabled: Gauge,
    pub feeds_in_backoff: Gauge,
    pub feeds_overdue: Gauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("secwire");
        let m = Metrics {
            feed_fetches: Family::default(),
            items_ingested: Counter::default(),
            items_updated: Counter::default(),
            articles_extracted: Counter::default(),
            articles_failed: Counter::default(),
            articles_retried: Counter::default(),
            items_flagged: Family::default(),
            fetch_duration: Histogram::new(exponential_buckets(0.01, 2.0, 14)),
            errors: Family::default(),
            queue_depth: Family::default(),
            feeds_enabled: Gauge::default(),
            feeds_in_backoff: Gauge::default(),
            feeds_overdue: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "feed_fetches",
            "Feed fetches by HTTP status",
            m.feed_fetches.clone(),
        );
        registry.register(
            "items_ingested",
            "New items stored",
            m.items_ingested.clone(),
        );
        registry.register(
            "items_updated",
            "Stored items updated from a changed entry",
            m.items_updated.clone(),
        );
        registry.register(
            "articles_extracted",
            "Article pages fetched and extracted",
            m.articles_extracted.clone(),
        );
        registry.register(
            "articles_failed",
            "Article pages that could not be used (fetch failed, not HTML, too little text)",
            m.articles_failed.clone(),
        );
        registry.register(
            "articles_retried",
            "Article fetches retried after a transient failure",
            m.articles_retried.clone(),
        );
        registry.register(
            "items_flagged",
            "Items flagged, by label",
            m.items_flagged.clone(),
        );
        registry.register(
            "fetch_duration_seconds",
            "Feed fetch latency",
            m.fetch_duration.clone(),
        );
        registry.register(
            "errors",
            "Errors by pipeline stage and type",
            m.errors.clone(),
        );
        registry.register(
            "queue_depth",
            "Work waiting, by queue",
            m.queue_depth.clone(),
        );
        registry.register(
            "feeds_enabled",
            "Feeds being polled",
            m.feeds_enabled.clone(),
        );
        registry.register(
            "feeds_in_backoff",
            "Feeds waiting longer than their interval after failures",
            m.feeds_in_backoff.clone(),
        );
        registry.register(
            "feeds_overdue",
            "Feeds not polled within twice their interval",
            m.feeds_overdue.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts what one feed run did.
    pub fn observe(&self, r: &FeedReport) {
        let status = r
            .hints
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "error".into());
        self.feed_fetches
            .get_or_create(&StatusLabel { status })
            .inc();
        if let Some(d) = r.hints.fetch_duration {
            self.fetch_duration.observe(d.as_secs_f64());
        }
        self.items_ingested.inc_by(r.new);
        self.items_updated.inc_by(r.updated);
        self.articles_extracted.inc_by(r.articles_extracted);
        self.articles_failed.inc_by(r.articles_failed);
        for (label, n) in &r.flagged {
            self.items_flagged
                .get_or_create(&LabelLabel {
                    label: label.clone(),
                })
                .inc_by(*n);
        }
        if let FeedOutcome::Failed { stage, .. } = &r.outcome {
            let stage = match stage {
                Stage::Fetch => "fetch",
                Stage::Parse => "parse",
                Stage::Store => "store",
            };
            self.error(stage, r.hints.error_class.unwrap_or("other"));
        }
        if r.store_errors > 0 {
            self.errors
                .get_or_create(&ErrorLabels {
                    stage: "store".into(),
                    error_type: "write".into(),
                })
                .inc_by(r.store_errors);
        }
        if r.articles_failed > 0 {
            self.errors
                .get_or_create(&ErrorLabels {
                    stage: "extract".into(),
                    error_type: "article".into(),
                })
                .inc_by(r.articles_failed);
        }
    }

    pub fn error(&self, stage: &str, error_type: &str) {
        self.errors
            .get_or_create(&ErrorLabels {
                stage: stage.into(),
                error_type: error_type.into(),
            })
            .inc();
    }

    pub fn set_queue(&self, queue: &str, depth: usize) {
        self.queue_depth
            .get_or_create(&QueueLabel {
                queue: queue.into(),
            })
            .set(depth as i64);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_named_metrics() {
        let m = Metrics::new();
        m.items_ingested.inc_by(3);
        m.error("fetch", "timeout");
        m.set_queue("store", 2);
        let text = m.render();
        assert!(text.contains("secwire_items_ingested_total 3"), "{text}");
        assert!(
            text.contains("secwire_errors_total{stage=\"fetch\",error_type=\"timeout\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("secwire_queue_depth{queue=\"store\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("secwire_fetch_duration_seconds_bucket"),
            "{text}"
        );
    }
}
