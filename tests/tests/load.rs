//! The load run (see `hookgate_tests::load`): every registered provider's function at
//! concurrency 50 with SQS faults for part of the run. Every 2xx is on the
//! queue, every 503 succeeds when retried, nothing else is there.
//!
//! `make test` runs 1,000 deliveries; `make soak` runs 10,000
//! (`HOOKGATE_LOAD_DELIVERIES`). A test binary of its own, so the run has
//! the machine and the local SQS server to itself: cargo runs test binaries
//! one after another.

use hookgate_tests::load::{Plan, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_delivery_is_lost_under_load_and_sqs_faults() {
    let deliveries: u64 = std::env::var("HOOKGATE_LOAD_DELIVERIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    let plan = Plan::standard(deliveries);
    let report = run(&plan).await;
    println!(
        "load run, {} deliveries at concurrency {}:\n{report}",
        deliveries, plan.concurrency
    );

    assert_eq!(report.sent, deliveries);
    assert_eq!(
        report.per_provider.len(),
        hookgate::providers::REGISTRY.len(),
        "every registered provider"
    );
    assert!(report.unexpected.is_empty(), "{:?}", report.unexpected);
    assert!(report.lost.is_empty(), "lost: {:?}", report.lost);
    assert!(report.unknown.is_empty(), "unknown: {:?}", report.unknown);
    assert_eq!(
        report.retried_ok, report.unavailable,
        "every 503 succeeds when retried"
    );
    assert_eq!(report.accepted, deliveries);
    assert_eq!(
        report.distinct_ids, deliveries,
        "every delivery is on the queue"
    );
    assert!(report.unavailable > 0, "the faults must have bitten");
    assert!(report.accepted_first_try > deliveries / 2);
}
