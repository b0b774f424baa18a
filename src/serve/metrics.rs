//! The service's metrics, in the Prometheus text format at `GET /metrics`
//! (names in docs/serve.md).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of a decision.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    /// The policy's name.
    pub policy: String,
    /// `priced`, `deliver`, `suppress` or `defer`.
    pub outcome: String,
    /// The rule that decided (empty when none did).
    pub rule: String,
}

/// Labels naming a policy.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PolicyLabels {
    /// The policy's name.
    pub policy: String,
}

/// Labels of a decision the state backend failed.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailLabels {
    /// The policy's name.
    pub policy: String,
    /// The fail mode followed: `open` or `closed`.
    pub mode: String,
}

/// Labels of a refused request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    /// The HTTP status code.
    pub status: String,
}

/// Every metric the service keeps.
pub struct Metrics {
    registry: Registry,
    /// Records decided, by policy, outcome and rule.
    pub decisions: Family<DecisionLabels, Counter>,
    /// Error lines, by policy.
    pub record_errors: Family<PolicyLabels, Counter>,
    /// Requests refused with a status of 400 or more.
    pub refused: Family<StatusLabels, Counter>,
    /// Time to answer an eval request, in seconds.
    pub latency: Histogram,
    /// Reloads of the policy directory.
    pub reloads: Counter,
    /// Files that failed to load at a reload (or at start).
    pub reload_failures: Counter,
    /// Policies being served.
    pub policies: Gauge,
    /// Decisions made without the state backend (Redis unreachable or
    /// slow), by policy and the fail mode followed.
    pub state_failures: Family<FailLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tollgate");
        let decisions = Family::<DecisionLabels, Counter>::default();
        let record_errors = Family::<PolicyLabels, Counter>::default();
        let refused = Family::<StatusLabels, Counter>::default();
        // 50 µs to about 13 s.
        let latency = Histogram::new(exponential_buckets(0.000_05, 4.0, 10));
        let reloads = Counter::default();
        let reload_failures = Counter::default();
        let policies = Gauge::default();
        let state_failures = Family::<FailLabels, Counter>::default();
        registry.register(
            "state_failures",
            "Decisions made without the state backend, by policy and fail mode",
            state_failures.clone(),
        );
        registry.register(
            "decisions",
            "Records decided, by policy, outcome and rule",
            decisions.clone(),
        );
        registry.register(
            "record_errors",
            "Records answered with an error line, by policy",
            record_errors.clone(),
        );
        registry.register(
            "requests_refused",
            "Requests refused, by HTTP status",
            refused.clone(),
        );
        registry.register(
            "eval_duration_seconds",
            "Time to answer an eval request",
            latency.clone(),
        );
        registry.register(
            "reloads",
            "Reloads of the policy directory",
            reloads.clone(),
        );
        registry.register(
            "reload_failures",
            "Policy files that failed to load",
            reload_failures.clone(),
        );
        registry.register("policies", "Policies being served", policies.clone());
        Metrics {
            registry,
            decisions,
            record_errors,
            refused,
            latency,
            reloads,
            reload_failures,
            policies,
            state_failures,
        }
    }

    /// The metrics in the Prometheus text format.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
