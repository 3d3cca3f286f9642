//! `make bench`'s driver: puts the release functions side by side with a
//! hello-world `lambda_runtime` binary and a plain Python Lambda doing the
//! same job (`tools/bench/peer.py` under `awslambdaric`), all under the
//! Runtime API emulator against the local SQS server, and prints one table
//! with the criterion results of `shared/benches/pipeline.rs`.
//!
//! Measured here, in one run:
//! - cold start: exec to the first `/next` poll (init, the SQS lookup
//!   included), the median of `--cold` starts of each program;
//! - CPU per warm request: the process's user + system time over
//!   `--requests` invocations after a warm-up, from `/proc/<pid>/stat`;
//! - wall time per warm request: the measured loop's elapsed time over its
//!   requests, the emulator's round trip and the local SQS server's answer
//!   included;
//! - log bytes and log records (lines) per warm request: what the process
//!   writes on stdout and stderr during the measured requests, which Lambda
//!   ships to CloudWatch Logs; the functions run with
//!   `AWS_LAMBDA_LOG_FORMAT=JSON` as deployed, and so does the Python peer;
//! - peak RSS (`VmHWM`) after those requests;
//! - binary size, as built (the release profile strips) and zipped;
//! - the Python sample code's verification speed (`tools/bench/verify_speed.py`).
//!
//! Needs `HOOKGATE_TEST_SQS_ENDPOINT` (run it under `scripts/with-sqs.sh`),
//! the release binaries in `HOOKGATE_BIN_DIR` (default `target/release`) and
//! the project's `.venv` with `tools/bench/requirements.txt`.
//!
//! `--compare LABEL=DIR` (repeatable) measures only the warm requests of
//! the `redner` binary found in each DIR, the builds taking turns for
//! `--rounds` rounds, and prints a table of their log bytes, log records,
//! CPU and wall time per request: builds of two commits compared in one run
//! (BENCHMARKS.md), or a build with symbols run under `perf record`:
//! with `HOOKGATE_BENCH_PERF=<file>`, `perf record -F 999 --call-graph
//! dwarf` attaches to each warm process for its measured requests only
//! (`tools/bench/perf_areas.py` groups the samples by area).

// A measurement tool, not a service: a failed setup must stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hookgate::providers::{Credential, REGISTRY};
use hookgate_tests::function::{base_env, bin_dir};
use hookgate_tests::providers::Provider;
use hookgate_tests::runtime::{Reply, Runtime};
use hookgate_tests::sqs;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};

/// Every registered provider. Each is compared with its Python peer
/// (`tools/bench/peer.py`), which a new provider needs too.
static PROVIDERS: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| REGISTRY.iter().map(|r| r.slug).collect());
const HMAC_SECRET: &str = "whsec_bench_secret_0123456789abcdef";
const TOKEN: &str = "bench-token-0123456789abcdef";

/// The repository root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

fn python() -> PathBuf {
    root().join(".venv/bin/python")
}

struct Opts {
    cold: usize,
    requests: usize,
    warmup: usize,
    /// `--compare`: builds of `redner` to put side by side, by label.
    compare: Vec<(String, PathBuf)>,
    rounds: usize,
}

fn opts() -> Opts {
    let mut o = Opts {
        cold: 20,
        requests: 1000,
        warmup: 50,
        compare: Vec::new(),
        rounds: 3,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = || -> usize {
            pair.get(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{} needs a number", pair[0]))
        };
        match pair[0].as_str() {
            "--cold" => o.cold = value(),
            "--requests" => o.requests = value(),
            "--warmup" => o.warmup = value(),
            "--rounds" => o.rounds = value(),
            "--compare" => {
                let (label, dir) = pair
                    .get(1)
                    .and_then(|v| v.split_once('='))
                    .unwrap_or_else(|| panic!("--compare needs LABEL=DIR"));
                o.compare.push((label.to_owned(), PathBuf::from(dir)));
            }
            other => panic!(
                "unknown option {other}; options: --cold N --requests N --warmup N \
                 --compare LABEL=DIR --rounds N"
            ),
        }
    }
    o
}

/// A program under test.
#[derive(Clone)]
enum Program {
    /// A release binary of this workspace.
    Rust(String),
    /// The Python peer for a provider.
    Python(&'static str),
    /// `--compare`: the `redner` binary in a given directory.
    Build(String, PathBuf),
}

impl Program {
    fn label(&self) -> String {
        match self {
            Self::Rust(name) => name.clone(),
            Self::Python(p) => format!("python {p}"),
            Self::Build(label, _) => label.clone(),
        }
    }

    fn provider(&self) -> Option<&str> {
        match self {
            Self::Rust(name) => PROVIDERS.iter().copied().find(|p| p == name),
            Self::Python(p) => Some(p),
            Self::Build(..) => Some("redner"),
        }
    }

    fn command(&self, runtime: &Runtime, queue_url: &str) -> Command {
        let mut env = base_env(runtime, &self.label());
        env.insert("QUEUE_URL".into(), queue_url.into());
        // Lambda sets both; botocore reads only this one.
        env.insert("AWS_DEFAULT_REGION".into(), "us-east-1".into());
        // AWS_LAMBDA_LOG_FORMAT=JSON stays, as deployed (template.yaml's
        // LoggingConfig), for the Python peer too: its log bytes are measured.
        if let Some(p) = self.provider() {
            let p = Provider::named(p);
            let value = bench_credential(p)
                .configured_as()
                .expect("the test key's public half");
            env.insert(p.registered().credential_var().into(), value);
        }
        let mut cmd = match self {
            Self::Rust(name) => Command::new(bin_dir().join(name)),
            Self::Build(_, dir) => Command::new(dir.join("redner")),
            Self::Python(p) => {
                env.insert("PEER_PROVIDER".into(), (*p).into());
                env.insert("PATH".into(), "/usr/bin:/bin".into());
                let mut c = Command::new(python());
                c.args(["-m", "awslambdaric", "peer.handler"])
                    .current_dir(root().join("tools/bench"));
                c
            }
        };
        cmd.env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }
}

/// What a process wrote on stdout and stderr so far, as Lambda would ship
/// it to CloudWatch Logs: bytes, and records (lines).
#[derive(Default)]
struct Logs {
    bytes: AtomicU64,
    lines: AtomicU64,
}

impl Logs {
    /// Counts what `stream` yields until it ends (the process exits).
    fn count(self: &Arc<Self>, mut stream: impl AsyncRead + Unpin + Send + 'static) {
        let logs = Arc::clone(self);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n @ 1..) = stream.read(&mut buf).await {
                logs.bytes.fetch_add(n as u64, Ordering::Relaxed);
                let lines = buf[..n].iter().filter(|b| **b == b'\n').count();
                logs.lines.fetch_add(lines as u64, Ordering::Relaxed);
            }
        });
    }

    fn now(&self) -> (u64, u64) {
        (
            self.bytes.load(Ordering::Relaxed),
            self.lines.load(Ordering::Relaxed),
        )
    }
}

/// Spawns `program` under a fresh emulator; returns it once it polled for
/// work, with the time from exec to that first poll and a count of what it
/// logs.
async fn start(program: &Program, queue_url: &str) -> (Child, Runtime, Duration, Arc<Logs>) {
    let runtime = Runtime::start().await;
    let mut cmd = program.command(&runtime, queue_url);
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.label()));
    let logs = Arc::new(Logs::default());
    logs.count(child.stdout.take().unwrap());
    logs.count(child.stderr.take().unwrap());
    loop {
        if let Some(at) = runtime.first_poll() {
            return (child, runtime, at.duration_since(started), logs);
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{} exited during init: {status}", program.label());
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} did not poll within 30 s",
            program.label()
        );
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The provider's sample payload padded to 1 KiB, as the criterion benches.
fn body_1k(provider: &str) -> String {
    let sample = std::fs::read_to_string(root().join(format!("samples/{provider}.json"))).unwrap();
    let head = sample.trim().strip_suffix('}').unwrap().to_owned();
    let prefix = format!(r#"{head},"note":""#);
    let words = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ";
    let note: String = words
        .chars()
        .cycle()
        .take(1024usize.saturating_sub(prefix.len() + 2))
        .collect();
    format!("{prefix}{note}\"}}")
}

/// A signed delivery for `provider`, as the provider sends it, with the
/// bench's secrets.
fn signed_event(provider: &str) -> Value {
    let p = Provider::named(provider);
    let body = body_1k(provider);
    let credential = p.credential_with(&bench_credential(p), body.as_bytes());
    p.with_credential(body, &credential).to_json()
}

/// The bench's credential for `p`, by what its sender holds: the peer reads
/// one secret or token, not the harness's rotation list.
fn bench_credential(p: Provider) -> Credential {
    p.credential_of(HMAC_SECRET, TOKEN)
}

/// User + system CPU of `pid` so far, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15, that is 11 and 12 after `)`.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Peak resident set size of `pid`, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap()
        * 1024
}

#[derive(Default, Clone, serde::Serialize)]
struct Warm {
    cpu_us: f64,
    wall_us: f64,
    /// Log bytes per request (stdout and stderr).
    log_bytes: f64,
    /// Log records (lines) per request.
    log_records: f64,
    rss: u64,
}

/// CPU, wall time and log output per request and peak RSS of one warm
/// process, sending to a queue of its own: moto's SendMessage slows down as
/// a queue fills (from about 25 ms to 200 ms a request over 12,000
/// messages), so each process starts with an empty queue, deleted after.
async fn warm(program: &Program, client: &aws_sdk_sqs::Client, opts: &Opts) -> Warm {
    let provider = program.provider().unwrap();
    let queue = sqs::create_queue(client, false).await;
    let queue_url = queue.as_str();
    let (child, runtime, _, logs) = start(program, queue_url).await;
    let pid = child.id().unwrap();
    let event = signed_event(provider);
    let call = |n: usize| {
        let runtime = &runtime;
        let event = &event;
        async move {
            for _ in 0..n {
                match runtime.invoke(event, Duration::from_secs(30)).await {
                    Some(Reply::Response(v)) if v["statusCode"] == 200 => {}
                    other => panic!("{}: unexpected answer {other:?}", program.label()),
                }
            }
        }
    };
    // A record is written before the answer is sent, but read from the
    // pipe a moment later: let the readers catch up at both ends (the idle
    // process spends no CPU meanwhile).
    let settle = Duration::from_millis(100);
    call(opts.warmup).await;
    let perf = std::env::var_os("HOOKGATE_BENCH_PERF").map(|out| {
        let perf = std::process::Command::new("perf")
            .args(["record", "-q", "-F", "999", "--call-graph", "dwarf", "-p"])
            .arg(pid.to_string())
            .arg("-o")
            .arg(out)
            .stdout(Stdio::null())
            .spawn()
            .expect("run perf record");
        // Let it attach before the measured requests.
        std::thread::sleep(Duration::from_millis(500));
        perf
    });
    tokio::time::sleep(settle).await;
    let logs_before = logs.now();
    let before = cpu_ticks(pid);
    let loop_started = Instant::now();
    call(opts.requests).await;
    let wall = loop_started.elapsed();
    let after = cpu_ticks(pid);
    if let Some(mut perf) = perf {
        // perf record writes its file on SIGINT.
        let _ = std::process::Command::new("kill")
            .args(["-INT", &perf.id().to_string()])
            .status();
        let _ = perf.wait();
    }
    tokio::time::sleep(settle).await;
    let logs_after = logs.now();
    let rss = peak_rss(pid);
    drop(child);
    let _ = client.delete_queue().queue_url(queue_url).send().await;
    let n = opts.requests as f64;
    Warm {
        cpu_us: (after - before) as f64 / clock_ticks_per_second() * 1e6 / n,
        wall_us: wall.as_secs_f64() * 1e6 / n,
        log_bytes: (logs_after.0 - logs_before.0) as f64 / n,
        log_records: (logs_after.1 - logs_before.1) as f64 / n,
        rss,
    }
}

/// `--compare`: the warm requests of each build of `redner`, taking turns,
/// as one table; the mean over the rounds.
async fn compare(opts: &Opts, client: &aws_sdk_sqs::Client) {
    let builds: Vec<Program> = opts
        .compare
        .iter()
        .map(|(label, dir)| {
            let path = dir.join("redner");
            assert!(path.is_file(), "{} is missing", path.display());
            Program::Build(label.clone(), dir.clone())
        })
        .collect();
    eprintln!(
        "compare: {} rounds of {} requests after {} warm-up requests, builds taking turns",
        opts.rounds, opts.requests, opts.warmup
    );
    let mut runs: BTreeMap<String, Vec<Warm>> = BTreeMap::new();
    for round in 0..opts.rounds {
        for build in &builds {
            let w = warm(build, client, opts).await;
            eprintln!(
                "round {round} {}: {:.0} µs CPU, {:.0} µs wall, {:.1} log bytes, {:.2} records per request",
                build.label(),
                w.cpu_us,
                w.wall_us,
                w.log_bytes,
                w.log_records
            );
            runs.entry(build.label()).or_default().push(w);
        }
    }
    let mut t = String::new();
    let _ = writeln!(
        t,
        "| redner build | log bytes per request | log records per request | CPU per warm request | wall per warm request | peak RSS |"
    );
    let _ = writeln!(t, "|---|---|---|---|---|---|");
    for build in &builds {
        let ws = &runs[&build.label()];
        let mean = |f: fn(&Warm) -> f64| ws.iter().map(f).sum::<f64>() / ws.len() as f64;
        let cpus: Vec<String> = ws.iter().map(|w| format!("{:.0}", w.cpu_us)).collect();
        let _ = writeln!(
            t,
            "| {} | {:.1} B | {:.2} | {:.0} µs ({}) | {:.0} µs | {:.1} MB |",
            build.label(),
            mean(|w| w.log_bytes),
            mean(|w| w.log_records),
            mean(|w| w.cpu_us),
            cpus.join(", "),
            mean(|w| w.wall_us),
            mean(|w| w.rss as f64) / 1e6,
        );
    }
    let report = target_dir().join("bench/compare.md");
    if let Some(dir) = report.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(&report, &t);
    // The means, as tools/bench/cost.py reads them.
    let means: BTreeMap<String, Warm> = runs
        .iter()
        .map(|(label, ws)| {
            let n = ws.len() as f64;
            let mean = |f: fn(&Warm) -> f64| ws.iter().map(f).sum::<f64>() / n;
            let w = Warm {
                cpu_us: mean(|w| w.cpu_us),
                wall_us: mean(|w| w.wall_us),
                log_bytes: mean(|w| w.log_bytes),
                log_records: mean(|w| w.log_records),
                rss: mean(|w| w.rss as f64) as u64,
            };
            (label.clone(), w)
        })
        .collect();
    let _ = std::fs::write(
        report.with_extension("json"),
        serde_json::to_string_pretty(&means).unwrap(),
    );
    println!("{t}");
    eprintln!(
        "(means of {} rounds of {} requests, each round's CPU in parentheses; table also in {})",
        opts.rounds,
        opts.requests,
        report.display()
    );
}

/// The median cold start of `program`, in milliseconds.
async fn cold(program: &Program, queue_url: &str, runs: usize) -> f64 {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (child, _runtime, init, _) = start(program, queue_url).await;
        drop(child);
        times.push(init.as_secs_f64() * 1000.0);
        // Let the killed process go before the next one starts.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    median(times)
}

/// Criterion's median estimates (ns) by full benchmark id, from its last run.
fn criterion_results() -> BTreeMap<String, f64> {
    fn walk(dir: &Path, out: &mut BTreeMap<String, f64>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.ends_with("new") {
                let read = |f: &str| -> Option<Value> {
                    serde_json::from_str(&std::fs::read_to_string(path.join(f)).ok()?).ok()
                };
                let bench = read("benchmark.json").unwrap_or_default();
                let est = read("estimates.json").unwrap_or_default();
                if let (Some(id), Some(ns)) = (
                    bench["full_id"].as_str(),
                    est["median"]["point_estimate"].as_f64(),
                ) {
                    out.insert(id.to_owned(), ns);
                }
            } else if path.is_dir() {
                walk(&path, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&target_dir().join("criterion"), &mut out);
    out
}

/// The Python sample code's verification speed, in microseconds.
fn python_verify() -> BTreeMap<String, f64> {
    let out = std::process::Command::new(python())
        .arg(root().join("tools/bench/verify_speed.py"))
        .output()
        .expect("run verify_speed.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("verify_speed.py prints JSON")
}

/// The size of `path` deflated into a zip, as Lambda receives it.
fn zipped_size(path: &Path) -> u64 {
    let zip = std::env::temp_dir().join(format!("hookgate-bench-{}.zip", std::process::id()));
    let script = "import sys, zipfile\n\
        with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:\n\
        \x20   z.write(sys.argv[1], 'bootstrap')\n";
    let status = std::process::Command::new(python())
        .args(["-c", script])
        .arg(path)
        .arg(&zip)
        .status()
        .expect("run python to zip");
    assert!(status.success());
    let size = std::fs::metadata(&zip).unwrap().len();
    let _ = std::fs::remove_file(&zip);
    size
}

fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / 1_048_576.0)
}

fn mark(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

#[tokio::main]
async fn main() {
    let opts = opts();
    let client = sqs::client().await;
    let queue_url = sqs::create_queue(&client, false).await;
    if !opts.compare.is_empty() {
        compare(&opts, &client).await;
        return;
    }
    let hello = Program::Rust("hello-lambda".into());
    let rust: Vec<Program> = PROVIDERS
        .iter()
        .map(|p| Program::Rust((*p).into()))
        .collect();
    let peers: Vec<Program> = PROVIDERS.iter().map(|p| Program::Python(p)).collect();
    for program in rust.iter().chain([&hello]) {
        let path = bin_dir().join(program.label());
        assert!(
            path.is_file(),
            "{} is missing: build the release binaries first (make bench does)",
            path.display()
        );
    }

    eprintln!(
        "cold starts: {} runs per Rust binary, {} per Python peer",
        opts.cold,
        opts.cold.div_ceil(2)
    );
    let hello_ms = cold(&hello, &queue_url, opts.cold).await;
    let mut cold_ms = BTreeMap::new();
    for (r, p) in rust.iter().zip(&peers) {
        cold_ms.insert(r.label(), cold(r, &queue_url, opts.cold).await);
        cold_ms.insert(p.label(), cold(p, &queue_url, opts.cold.div_ceil(2)).await);
    }

    eprintln!(
        "warm CPU: {} requests after {} warm-up requests each",
        opts.requests, opts.warmup
    );
    let mut warm_of = BTreeMap::new();
    for program in rust.iter().chain(&peers) {
        warm_of.insert(program.label(), warm(program, &client, &opts).await);
    }

    let py = python_verify();
    let crit = criterion_results();
    let us = |id: &str| crit.get(id).map(|ns| ns / 1000.0);
    let fmt_us = |v: Option<f64>| v.map_or_else(|| "not run".to_owned(), |v| format!("{v:.2} µs"));

    let mut t = String::new();
    let _ = writeln!(
        t,
        "| measure | hookgate | compared with | ratio | target | met |"
    );
    let _ = writeln!(t, "|---|---|---|---|---|---|");
    // In-process pipeline.
    for &p in PROVIDERS.iter() {
        for size in ["1KiB", "64KiB"] {
            let v = us(&format!("pipeline/{p}/{size}"));
            let (target, met) = match (p, size, v) {
                ("syncso" | "redner", "1KiB", Some(v)) => ("≤ 4 µs", mark(v <= 4.0)),
                _ => ("", ""),
            };
            let _ = writeln!(
                t,
                "| pipeline {p} {size} | {} | | | {target} | {met} |",
                fmt_us(v)
            );
        }
    }
    for stage in ["verify", "parse_strict", "normalize", "event_id"] {
        let v = us(&format!("stages/redner-1KiB/{stage}"));
        let _ = writeln!(
            t,
            "| pipeline redner 1KiB, {stage} alone | {} | | | | |",
            fmt_us(v)
        );
    }
    // Verification schemes.
    let es256 = us("scheme/es256/1KiB");
    let py_es256 = py.get("es256_us").copied();
    let ratio = es256.zip(py_es256).map(|(a, b)| a / b);
    let _ = writeln!(
        t,
        "| verify es256 1KiB | {} | Python cryptography {} | {} | ≤ 1.0x | {} |",
        fmt_us(es256),
        fmt_us(py_es256),
        ratio.map_or_else(String::new, |r| format!("{r:.2}x")),
        ratio.map_or("", |r| mark(r <= 1.0)),
    );
    let py_hmac = py.get("hmac_sha256_1KiB_us").copied();
    for scheme in ["hmac-sha256", "hmac-sha256-timestamped", "token"] {
        for size in ["1KiB", "64KiB"] {
            let v = us(&format!("scheme/{scheme}/{size}"));
            let peer = if scheme == "hmac-sha256" && size == "1KiB" {
                format!("Python hmac {}", fmt_us(py_hmac))
            } else {
                String::new()
            };
            let _ = writeln!(
                t,
                "| verify {scheme} {size} | {} | {peer} | | | |",
                fmt_us(v)
            );
        }
    }
    let _ = writeln!(
        t,
        "| verify es256 64KiB | {} | | | | |",
        fmt_us(us("scheme/es256/64KiB"))
    );
    // Cold start.
    let _ = writeln!(t, "| cold start hello-lambda | {hello_ms:.1} ms | | | | |");
    for &p in PROVIDERS.iter() {
        let ms = cold_ms[p];
        let py_ms = cold_ms[&format!("python {p}")];
        let limit = 1.5 * hello_ms + 10.0;
        let _ = writeln!(
            t,
            "| cold start {p} | {ms:.1} ms | hello-lambda {hello_ms:.1} ms | {:.2}x | ≤ 1.5x + 10 ms = {limit:.1} ms | {} |",
            ms / hello_ms,
            mark(ms <= limit),
        );
        let _ = writeln!(
            t,
            "| cold start {p} vs Python | {ms:.1} ms | Python {py_ms:.1} ms | {:.3}x | ≤ 0.2x | {} |",
            ms / py_ms,
            mark(ms / py_ms <= 0.2),
        );
    }
    // Warm CPU and memory.
    for &p in PROVIDERS.iter() {
        let w = &warm_of[p];
        let pw = &warm_of[&format!("python {p}")];
        let r = w.cpu_us / pw.cpu_us;
        let _ = writeln!(
            t,
            "| CPU per warm request {p} | {:.0} µs | Python {:.0} µs | {r:.2}x | ≤ 0.25x | {} |",
            w.cpu_us,
            pw.cpu_us,
            mark(r <= 0.25),
        );
    }
    for &p in PROVIDERS.iter() {
        let w = &warm_of[p];
        let pw = &warm_of[&format!("python {p}")];
        let _ = writeln!(
            t,
            "| wall per warm request {p} | {:.0} µs | Python {:.0} µs | {:.2}x | | |",
            w.wall_us,
            pw.wall_us,
            w.wall_us / pw.wall_us,
        );
    }
    for &p in PROVIDERS.iter() {
        let w = &warm_of[p];
        let pw = &warm_of[&format!("python {p}")];
        let _ = writeln!(
            t,
            "| log bytes per accepted request {p} | {:.1} B | Python {:.1} B | {:.2}x | | |",
            w.log_bytes,
            pw.log_bytes,
            w.log_bytes / pw.log_bytes,
        );
    }
    for &p in PROVIDERS.iter() {
        let w = &warm_of[p];
        let pw = &warm_of[&format!("python {p}")];
        let _ = writeln!(
            t,
            "| log records per request {p} | {:.2} | Python {:.2} | | | |",
            w.log_records, pw.log_records,
        );
    }
    for &p in PROVIDERS.iter() {
        let w = &warm_of[p];
        let pw = &warm_of[&format!("python {p}")];
        let _ = writeln!(
            t,
            "| peak RSS {p} | {:.1} MB | Python {:.1} MB | {:.2}x | ≤ 20 MB | {} |",
            w.rss as f64 / 1e6,
            pw.rss as f64 / 1e6,
            w.rss as f64 / pw.rss as f64,
            mark(w.rss <= 20_000_000),
        );
    }
    // Size.
    let hello_path = bin_dir().join("hello-lambda");
    let hello_size = std::fs::metadata(&hello_path).unwrap().len();
    let _ = writeln!(
        t,
        "| binary hello-lambda (stripped / zipped) | {} / {} | | | | |",
        mib(hello_size),
        mib(zipped_size(&hello_path)),
    );
    for &p in PROVIDERS.iter() {
        let path = bin_dir().join(p);
        let size = std::fs::metadata(&path).unwrap().len();
        let _ = writeln!(
            t,
            "| binary {p} (stripped / zipped) | {} / {} | hello-lambda {} | {:.2}x | ≤ 10 MiB stripped | {} |",
            mib(size),
            mib(zipped_size(&path)),
            mib(hello_size),
            size as f64 / hello_size as f64,
            mark(size <= 10 * 1_048_576),
        );
    }

    let report = target_dir().join("bench/report.md");
    if let Some(dir) = report.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(&report, &t);
    // The warm measures, as tools/bench/cost.py reads them.
    let _ = std::fs::write(
        report.with_file_name("warm.json"),
        serde_json::to_string_pretty(&warm_of).unwrap(),
    );
    println!("{t}");
    eprintln!(
        "(cold starts are medians of {} runs, Python's of {}; CPU over {} requests; table also in {})",
        opts.cold,
        opts.cold.div_ceil(2),
        opts.requests,
        report.display()
    );
}
