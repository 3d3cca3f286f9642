//! A load run: many signed deliveries over every registered provider at a fixed
//! concurrency, through the release binaries, with SQS faults injected for
//! part of the run. Every delivery answered 503 is sent again afterwards, as
//! the provider would; then the queue is read back and compared by event id.
//!
//! Lambda runs one invocation per instance at a time and scales out, so the
//! run starts one function instance per concurrent caller. Each instance
//! sends to a queue of its own: the local server reads a queue in time that
//! grows with its length, and many short queues keep it fast. Consumers read
//! and delete while the run goes on, as the team's consumers would.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hookgate::envelope::event_id;
use tokio::task::JoinSet;

use crate::function::Function;
use crate::providers::Provider;
use crate::proxy::{Fault, Proxy};
use crate::sqs;

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Deliveries in all, spread evenly over the registered providers.
    pub deliveries: u64,
    /// Callers at once (and function instances).
    pub concurrency: usize,
    /// The functions' `SQS_TIMEOUT_MS`.
    pub sqs_timeout: Duration,
    /// Faults, by progress: from and to (fractions of deliveries answered).
    pub faults: Vec<(f64, f64, Fault)>,
    /// How often a provider sends a 503'd delivery again before giving up.
    pub retries: u32,
}

impl Plan {
    /// `deliveries` at concurrency 50, with every kind of SQS fault for
    /// about a third of the run.
    pub fn standard(deliveries: u64) -> Self {
        let timeout = Duration::from_millis(5_000);
        Self {
            deliveries,
            concurrency: 50,
            sqs_timeout: timeout,
            faults: vec![
                (0.10, 0.16, Fault::Status(500)),
                (0.22, 0.27, Fault::Throttle),
                (0.33, 0.37, Fault::Reset),
                (0.44, 0.48, Fault::Hang),
                (0.55, 0.59, Fault::Refuse),
                (0.66, 0.70, Fault::Status(503)),
                // Answers after the deadline: SQS keeps the message the
                // function already answered 503 for, and the retry adds a
                // second copy (at-least-once, never lost).
                (
                    0.77,
                    0.80,
                    Fault::Delay(timeout + Duration::from_millis(300)),
                ),
            ],
            retries: 5,
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Deliveries sent (first attempts).
    pub sent: u64,
    /// Per provider slug.
    pub per_provider: BTreeMap<&'static str, u64>,
    /// 2xx on the first attempt.
    pub accepted_first_try: u64,
    /// 503 `queue_unavailable` on the first attempt.
    pub unavailable: u64,
    /// Of those, how many a retry got accepted.
    pub retried_ok: u64,
    /// Retry attempts in all (some deliveries need more than one).
    pub retry_attempts: u64,
    /// Deliveries with a 2xx in the end.
    pub accepted: u64,
    /// Messages read back from the queue.
    pub enqueued: u64,
    /// Distinct event ids among them.
    pub distinct_ids: u64,
    /// Messages beyond the first for an id: an attempt SQS took after the
    /// function had given up on it (at least once, never lost).
    pub extra_copies: u64,
    /// Accepted deliveries whose id is not on the queue.
    pub lost: Vec<String>,
    /// Ids on the queue that no accepted delivery has.
    pub unknown: Vec<String>,
    /// Answers that are neither 2xx with the right id nor 503.
    pub unexpected: Vec<String>,
    /// SQS requests the proxy saw, and passed on.
    pub sqs_requests: (u64, u64),
    /// Wall time of the first attempts, of the retries, and in all.
    pub elapsed: (Duration, Duration, Duration),
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let providers: Vec<String> = self
            .per_provider
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect();
        writeln!(
            f,
            "deliveries sent          {} ({})",
            self.sent,
            providers.join(", ")
        )?;
        writeln!(f, "2xx on first try         {}", self.accepted_first_try)?;
        writeln!(f, "503 on first try         {}", self.unavailable)?;
        writeln!(
            f,
            "503s retried, then 2xx   {} ({} retry attempts)",
            self.retried_ok, self.retry_attempts
        )?;
        writeln!(f, "accepted in the end      {}", self.accepted)?;
        writeln!(f, "messages on the queues   {}", self.enqueued)?;
        writeln!(f, "distinct ids on queues   {}", self.distinct_ids)?;
        writeln!(f, "extra copies (503, kept) {}", self.extra_copies)?;
        writeln!(f, "lost (2xx, not queued)   {}", self.lost.len())?;
        writeln!(f, "unknown ids on queues    {}", self.unknown.len())?;
        writeln!(f, "unexpected answers       {}", self.unexpected.len())?;
        writeln!(
            f,
            "SQS requests             {} seen by the proxy, {} passed on",
            self.sqs_requests.0, self.sqs_requests.1
        )?;
        write!(
            f,
            "wall time                {:.1?} first attempts, {:.1?} retries, {:.1?} in all",
            self.elapsed.0, self.elapsed.1, self.elapsed.2
        )
    }
}

/// One caller with its own function instance.
struct Caller {
    provider: Provider,
    function: Function,
}

/// One delivery's result.
struct Outcome {
    n: u64,
    provider: Provider,
    status: u16,
}

/// Runs `plan` against new queues on the local SQS server.
pub async fn run(plan: &Plan) -> Report {
    let started = Instant::now();
    let client = sqs::client().await;
    let mut queues = Vec::new();
    for _ in 0..plan.concurrency {
        queues.push(sqs::create_queue(&client, false).await);
    }
    let proxy = Arc::new(Proxy::start(&sqs::endpoint()).await);
    let callers = start_callers(plan, &queues, &proxy.endpoint()).await;

    let reading = Arc::new(AtomicBool::new(true));
    let mut consumers = JoinSet::new();
    const CONSUMERS: usize = 4;
    for k in 0..CONSUMERS {
        let mine: Vec<String> = queues.iter().skip(k).step_by(CONSUMERS).cloned().collect();
        let (client, reading) = (client.clone(), Arc::clone(&reading));
        consumers.spawn(async move {
            let mut ids = Vec::new();
            while reading.load(Ordering::SeqCst) {
                let mut round = 0;
                for queue in &mine {
                    let got = sqs::take_some(&client, queue).await;
                    round += got.len();
                    ids.extend(got.into_iter().map(|m| m.envelope.id));
                }
                if round == 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            ids
        });
    }

    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let faults = tokio::spawn(inject_faults(
        plan.clone(),
        Arc::clone(&proxy),
        Arc::clone(&done),
    ));
    let mut workers = JoinSet::new();
    for caller in callers {
        let (next, done, total) = (Arc::clone(&next), Arc::clone(&done), plan.deliveries);
        workers.spawn(async move {
            let mut outcomes = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= total {
                    return (caller, outcomes);
                }
                let status = deliver(&caller, n).await;
                done.fetch_add(1, Ordering::SeqCst);
                outcomes.push(status);
            }
        });
    }
    let mut finished = Vec::new();
    while let Some(joined) = workers.join_next().await {
        finished.push(joined.expect("a caller panicked"));
    }
    faults.abort();
    proxy.set(Fault::None);
    let first_phase = started.elapsed();

    let mut report = Report::default();
    let mut accepted: HashMap<String, u64> = HashMap::new();
    let mut retry = JoinSet::new();
    for (caller, outcomes) in finished {
        let mut again = Vec::new();
        for o in outcomes {
            report.sent += 1;
            *report.per_provider.entry(o.provider.slug()).or_default() += 1;
            match o.status {
                200 => {
                    report.accepted_first_try += 1;
                    accepted.insert(id(o.provider, o.n), o.n);
                }
                503 => {
                    report.unavailable += 1;
                    again.push(o.n);
                }
                other => report
                    .unexpected
                    .push(format!("{} #{}: {other}", o.provider.slug(), o.n)),
            }
        }
        let retries = plan.retries;
        retry.spawn(async move {
            let mut results = Vec::new();
            for n in again {
                let mut attempts = 0;
                let mut status = 503;
                while status == 503 && attempts < retries {
                    if attempts > 0 {
                        tokio::time::sleep(Duration::from_millis(200 << attempts)).await;
                    }
                    attempts += 1;
                    status = deliver(&caller, n).await.status;
                }
                results.push((caller.provider, n, status, attempts));
            }
            results
        });
    }
    let retry_started = Instant::now();
    while let Some(joined) = retry.join_next().await {
        for (provider, n, status, attempts) in joined.expect("a retry panicked") {
            report.retry_attempts += u64::from(attempts);
            if status == 200 {
                report.retried_ok += 1;
                accepted.insert(id(provider, n), n);
            } else {
                report.unexpected.push(format!(
                    "{} #{n}: {status} after {attempts} retries",
                    provider.slug()
                ));
            }
        }
    }
    let retries = retry_started.elapsed();
    report.accepted = accepted.len() as u64;

    // Late answers the proxy still holds may land after the run: wait them
    // out, then read what is left.
    let late = plan
        .faults
        .iter()
        .filter_map(|(_, _, f)| match f {
            Fault::Delay(d) => Some(*d),
            _ => None,
        })
        .max()
        .unwrap_or_default();
    tokio::time::sleep(late).await;
    reading.store(false, Ordering::SeqCst);
    let mut on_queue: HashMap<String, u64> = HashMap::new();
    while let Some(ids) = consumers.join_next().await {
        for id in ids.expect("a consumer panicked") {
            *on_queue.entry(id).or_default() += 1;
        }
    }
    for queue in &queues {
        for m in sqs::take(&client, queue).await {
            *on_queue.entry(m.envelope.id).or_default() += 1;
        }
    }
    report.enqueued = on_queue.values().sum();
    report.distinct_ids = on_queue.len() as u64;
    report.extra_copies = report.enqueued - report.distinct_ids;
    report.lost = accepted
        .keys()
        .filter(|id| !on_queue.contains_key(*id))
        .cloned()
        .collect();
    report.unknown = on_queue
        .keys()
        .filter(|id| !accepted.contains_key(*id))
        .cloned()
        .collect();
    report.sqs_requests = (proxy.seen(), proxy.forwarded());
    report.elapsed = (first_phase, retries, started.elapsed());
    report
}

fn id(provider: Provider, n: u64) -> String {
    event_id(provider.slug(), provider.sample(n).as_bytes())
}

/// Sends delivery `n`; a 2xx must carry its event id.
async fn deliver(caller: &Caller, n: u64) -> Outcome {
    let provider = caller.provider;
    let reply = caller
        .function
        .call(&provider.signed(provider.sample(n)).to_json())
        .await;
    let status = match reply.status {
        200 if reply.body["id"].as_str() == Some(id(provider, n).as_str()) => 200,
        200 => 0,
        503 if reply.error() == Some("queue_unavailable") => 503,
        other => other,
    };
    Outcome {
        n,
        provider,
        status,
    }
}

async fn start_callers(plan: &Plan, queues: &[String], endpoint: &str) -> Vec<Caller> {
    let timeout = plan.sqs_timeout.as_millis().to_string();
    let mut starting = JoinSet::new();
    let providers: Vec<Provider> = Provider::all().collect();
    for (queue, provider) in queues.iter().zip(providers.iter().copied().cycle()) {
        let (queue, endpoint, timeout) = (queue.clone(), endpoint.to_owned(), timeout.clone());
        starting.spawn(async move {
            let mut env = provider.env();
            env.extend([
                ("QUEUE_URL", queue.as_str()),
                ("AWS_ENDPOINT_URL_SQS", endpoint.as_str()),
                ("SQS_TIMEOUT_MS", timeout.as_str()),
                ("AWS_LAMBDA_LOG_LEVEL", "warn"),
            ]);
            let function = Function::start(provider.slug(), &env).await;
            function.ready().await;
            Caller { provider, function }
        });
    }
    let mut callers = Vec::new();
    while let Some(c) = starting.join_next().await {
        callers.push(c.expect("a function failed to start"));
    }
    callers
}

/// Sets each fault while the share of answered deliveries is in its window.
async fn inject_faults(plan: Plan, proxy: Arc<Proxy>, done: Arc<AtomicU64>) {
    let mut current = Fault::None;
    loop {
        let progress = done.load(Ordering::SeqCst) as f64 / plan.deliveries.max(1) as f64;
        let wanted = plan
            .faults
            .iter()
            .find(|(from, to, _)| (*from..*to).contains(&progress))
            .map_or(Fault::None, |(_, _, f)| *f);
        if wanted != current {
            proxy.set(wanted);
            current = wanted;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
