//! SQS failing for real: each function's SQS traffic goes through a
//! fault-injecting proxy in front of the local SQS server. Every fault that
//! outlasts `SQS_TIMEOUT_MS` is a 503 `queue_unavailable` with `Retry-After`
//! in time, never a 2xx; a fault that clears within the budget still gets
//! the delivery onto the queue, once.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use hookgate::envelope::event_id;
use hookgate_tests::providers::Provider;
use hookgate_tests::proxy::{Fault, Proxy};
use hookgate_tests::sqs;

use crate::common::{self, Stack};

/// A function whose SQS endpoint is a proxy to the local server.
struct Faulty {
    provider: Provider,
    proxy: Proxy,
    stack: Stack,
}

async fn faulty(provider: Provider, timeout_ms: u64) -> Faulty {
    let proxy = Proxy::start(&sqs::endpoint()).await;
    let endpoint = proxy.endpoint();
    let timeout = timeout_ms.to_string();
    let mut env = provider.env();
    env.extend([
        ("AWS_ENDPOINT_URL_SQS", endpoint.as_str()),
        ("SQS_TIMEOUT_MS", timeout.as_str()),
    ]);
    let stack = common::stack(provider.slug(), false, &env).await;
    stack.f.ready().await;
    Faulty {
        provider,
        proxy,
        stack,
    }
}

impl Faulty {
    /// Sends sample `n`; returns the status, the `error` code, the
    /// `Retry-After` header, how long it took, and the delivery's id.
    async fn send(&self, n: u64) -> (u16, Option<String>, Option<String>, Duration, String) {
        let body = self.provider.sample(n);
        let id = event_id(self.provider.slug(), body.as_bytes());
        let started = Instant::now();
        let reply = self
            .stack
            .f
            .call(&self.provider.signed(body).to_json())
            .await;
        let took = started.elapsed();
        if reply.status == 200 {
            assert_eq!(reply.body["id"].as_str(), Some(id.as_str()));
        }
        (
            reply.status,
            reply.error().map(str::to_owned),
            reply.headers.get("retry-after").cloned(),
            took,
            id,
        )
    }

    async fn ids_on_queue(&self) -> Vec<String> {
        sqs::drain(&self.stack.sqs, &self.stack.queue)
            .await
            .into_iter()
            .map(|m| m.envelope.id)
            .collect()
    }
}

const TIMEOUT_MS: u64 = 1_500;
/// What a 503 may take beyond the budget: the handler's own work and the
/// emulator's round trip.
const MARGIN: Duration = Duration::from_millis(750);

/// Every lasting fault gets a 503 in time; nothing that SQS never saw is on
/// the queue; once the fault clears, deliveries land again.
async fn lasting_faults_are_503_in_time(provider: Provider) {
    let s = faulty(provider, TIMEOUT_MS).await;
    let faults = [
        Fault::Refuse,
        Fault::Reset,
        Fault::Hang,
        Fault::Status(500),
        Fault::Status(503),
        Fault::Throttle,
        Fault::Delay(Duration::from_millis(TIMEOUT_MS + 500)),
    ];
    let mut never_reached_sqs = BTreeSet::new();
    for (n, fault) in (1..).zip(faults) {
        s.proxy.set(fault);
        let (status, code, retry_after, took, id) = s.send(n).await;
        assert_eq!(
            (status, code.as_deref(), retry_after.as_deref()),
            (503, Some("queue_unavailable"), Some("5")),
            "{fault:?}"
        );
        assert!(
            took < Duration::from_millis(TIMEOUT_MS) + MARGIN,
            "{fault:?} took {took:?}"
        );
        if !matches!(fault, Fault::Delay(_)) {
            never_reached_sqs.insert(id);
        }
    }
    s.proxy.set(Fault::None);
    let (status, _, _, _, recovered) = s.send(100).await;
    assert_eq!(status, 200, "deliveries land once the fault clears");
    // A late answer may still have put its message on the queue (the
    // provider's retry then makes a second copy); nothing else may be there.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let ids = s.ids_on_queue().await;
    assert!(ids.contains(&recovered));
    for id in &ids {
        assert!(
            !never_reached_sqs.contains(id),
            "{id} was answered 503 and never sent"
        );
    }
    assert!(s.proxy.seen() > s.proxy.forwarded());
}

#[tokio::test]
async fn every_provider_lasting_sqs_faults_are_503_in_time() {
    for p in Provider::all() {
        lasting_faults_are_503_in_time(p).await;
    }
}

/// Faults that clear within the default budget: the SDK's retries carry the
/// delivery through, and it is on the queue exactly once.
#[tokio::test]
async fn faults_that_clear_within_the_budget_still_succeed() {
    let s = faulty(Provider::named("redner"), 5_000).await;
    let passing: [(&str, u64, Fault); 6] = [
        ("reset", 1, Fault::Reset),
        ("500 twice", 2, Fault::Status(500)),
        ("503", 1, Fault::Status(503)),
        ("throttled twice", 2, Fault::Throttle),
        ("hung once", 1, Fault::Hang),
        ("slow", 1, Fault::Delay(Duration::from_millis(300))),
    ];
    let mut expected = Vec::new();
    for (n, (name, times, fault)) in (1..).zip(passing) {
        let before = s.proxy.seen();
        s.proxy.fail_next(times, fault);
        let (status, code, _, took, id) = s.send(n).await;
        assert_eq!(status, 200, "{name}: {code:?} after {took:?}");
        assert!(took < Duration::from_millis(5_000), "{name} took {took:?}");
        let attempts = s.proxy.seen() - before;
        let retried = if matches!(fault, Fault::Delay(_)) {
            1
        } else {
            times + 1
        };
        assert_eq!(attempts, retried, "{name}: SQS requests");
        expected.push(id);
    }

    // Refused connections for a moment, then SQS is back.
    s.proxy.set(Fault::Refuse);
    let clear = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        s.proxy.set(Fault::None);
    };
    let ((status, code, _, took, id), ()) = tokio::join!(s.send(99), clear);
    assert_eq!(status, 200, "refused, then back: {code:?} after {took:?}");
    expected.push(id);

    let mut ids = s.ids_on_queue().await;
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected, "each delivery exactly once");
}
