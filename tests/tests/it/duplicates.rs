//! A provider that retries sends the same delivery again. Each copy gets a
//! 2xx with the same id; a standard queue keeps every copy (consumers
//! deduplicate by id), a FIFO queue keeps one.

use hookgate::envelope::event_id;
use hookgate_tests::providers::Provider;
use hookgate_tests::sqs;

use crate::common;

async fn three_times(p: Provider, fifo: bool) {
    let s = common::stack(p.slug(), fifo, &p.env()).await;
    let body = p.sample(7);
    let event = p.signed(body.clone()).to_json();
    let id = event_id(p.slug(), body.as_bytes());
    for attempt in 1..=3 {
        let reply = s.f.call(&event).await;
        assert_eq!(
            reply.status,
            200,
            "{} attempt {attempt}: {:?}",
            p.slug(),
            reply.body
        );
        assert_eq!(reply.body["id"].as_str(), Some(id.as_str()));
    }
    let ids: Vec<String> = sqs::take(&s.sqs, &s.queue)
        .await
        .into_iter()
        .map(|m| m.envelope.id)
        .collect();
    let expected = if fifo { 1 } else { 3 };
    assert_eq!(ids, vec![id; expected], "{} (fifo: {fifo})", p.slug());
}

#[tokio::test]
async fn repeats_on_a_standard_queue_are_all_kept_with_one_id() {
    for p in Provider::all() {
        three_times(p, false).await;
    }
}

#[tokio::test]
async fn repeats_on_a_fifo_queue_collapse_to_one() {
    for p in Provider::all() {
        three_times(p, true).await;
    }
}
