//! Tokio's side of bench/cancel_bench.cpp: the same workloads, the same sizes, on a
//! two-worker multi-thread runtime. Prints one JSON document in Google Benchmark's shape
//! (medians only), so bench/report_cancel.py reads it like the C++ programs' output.
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

const CALLS: u64 = 1_000_000;
const HOUR: Duration = Duration::from_secs(3600);

fn runtime() -> Runtime {
    Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

fn check(what: &str, ok: bool) {
    if !ok {
        eprintln!("cancel_tokio_bench: check failed: {what}");
        std::process::exit(1);
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

fn percentile(sorted: &[f64], per_cent: usize) -> f64 {
    sorted[(sorted.len() * per_cent / 100).min(sorted.len() - 1)]
}

async fn ready_op(x: u64) -> u64 {
    // Kept from being folded away, as the C++ ready_op is a separate coroutine.
    std::hint::black_box(x + 1)
}

async fn ready_op_under_timeout(x: u64) -> u64 {
    tokio::time::timeout(HOUR, ready_op(x)).await.expect("in time")
}

// CALLS awaits of `op` in one task; ns per call. Generic over the function (not a fn
// pointer), so the call inlines as a direct await does.
fn ready_calls<F, Fut>(rt: &Runtime, what: &str, op: F) -> f64
where
    F: Fn(u64) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = u64> + Send + 'static,
{
    let start = Instant::now();
    let sum = rt.block_on(async move {
        tokio::spawn(async move {
            let mut sum = 0u64;
            for i in 0..CALLS {
                sum += op(i).await;
            }
            sum
        })
        .await
        .unwrap()
    });
    check(what, sum == CALLS * (CALLS + 1) / 2);
    start.elapsed().as_nanos() as f64 / CALLS as f64
}

// Sleeps an hour; says so on `armed` once its timer is registered, as the C++ sleeper is
// parked in the timer heap before the timed part begins.
async fn sleeper(armed: mpsc::UnboundedSender<()>) {
    let sleep = tokio::time::sleep(HOUR);
    tokio::pin!(sleep);
    let _ = futures_poll_once(sleep.as_mut()).await;
    let _ = armed.send(());
    sleep.await;
}

// Spawns n one-hour sleepers and lets each poll once (each has armed its timer) before the
// timed part: abort every handle, then await every handle (each ends cancelled).
fn cancel_sleepers(rt: &Runtime, n: usize) -> f64 {
    rt.block_on(async move {
        tokio::spawn(async move {
            let (armed_tx, mut armed_rx) = mpsc::unbounded_channel::<()>();
            let mut handles = Vec::with_capacity(n);
            for _ in 0..n {
                handles.push(tokio::spawn(sleeper(armed_tx.clone())));
            }
            for _ in 0..n {
                armed_rx.recv().await.unwrap();
            }
            let start = Instant::now();
            for h in &handles {
                h.abort();
            }
            let mut cancelled = 0usize;
            for h in handles {
                if let Err(e) = h.await {
                    if e.is_cancelled() {
                        cancelled += 1;
                    }
                }
            }
            let ns = start.elapsed().as_nanos() as f64;
            check("cancel_sleepers: all cancelled", cancelled == n);
            ns / n as f64
        })
        .await
        .unwrap()
    })
}

// Polls a future once, returning whether it finished.
async fn futures_poll_once<F: std::future::Future + Unpin>(mut future: F) -> bool {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(std::pin::Pin::new(&mut future).poll(cx).is_ready())
    })
    .await
}

async fn empty_task() {}

// when_all over spawned tasks: a JoinSet that every task is spawned into, then drained.
fn when_all_empty(rt: &Runtime) -> f64 {
    const TASKS: usize = 1_000_000;
    let start = Instant::now();
    let done = rt.block_on(async {
        tokio::spawn(async {
            let mut set = JoinSet::new();
            for _ in 0..TASKS {
                set.spawn(empty_task());
            }
            let mut done = 0usize;
            while let Some(result) = set.join_next().await {
                result.unwrap();
                done += 1;
            }
            done
        })
        .await
        .unwrap()
    });
    check("when_all_empty: finished", done == TASKS);
    start.elapsed().as_nanos() as f64 / TASKS as f64
}

fn now_ns(origin: Instant) -> i64 {
    origin.elapsed().as_nanos() as i64
}

// The receiver parks in select!(sleep 1 h, recv); the sender stamps the time and sends; the
// winner measures. The ack keeps exactly one round in flight.
fn when_any_wake(rt: &Runtime, rounds: usize) -> Vec<f64> {
    let origin = Instant::now();
    rt.block_on(async move {
        let (tx, mut rx) = mpsc::channel::<i64>(1);
        let (ack_tx, mut ack_rx) = mpsc::channel::<usize>(1);
        let receiver = tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(rounds);
            for i in 0..rounds {
                tokio::select! {
                    _ = tokio::time::sleep(HOUR) => panic!("an hour passed"),
                    sent_at = rx.recv() => {
                        latencies.push((now_ns(origin) - sent_at.unwrap()) as f64);
                    }
                }
                ack_tx.send(i).await.unwrap();
            }
            latencies
        });
        let sender = tokio::spawn(async move {
            for _ in 0..rounds {
                for spin in 0..2000 {
                    std::hint::black_box(spin);
                }
                tx.send(now_ns(origin)).await.unwrap();
                ack_rx.recv().await.unwrap();
            }
        });
        sender.await.unwrap();
        let latencies = receiver.await.unwrap();
        check("when_any_wake: rounds", latencies.len() == rounds);
        latencies
    })
}

// A JoinSet of 10,000 sleepers (each has armed its timer), cancelled and drained.
fn group_cancel(rt: &Runtime, children: usize) -> f64 {
    rt.block_on(async move {
        tokio::spawn(async move {
            let (armed_tx, mut armed_rx) = mpsc::unbounded_channel::<()>();
            let mut set = JoinSet::new();
            for _ in 0..children {
                set.spawn(sleeper(armed_tx.clone()));
            }
            for _ in 0..children {
                armed_rx.recv().await.unwrap();
            }
            let start = Instant::now();
            set.abort_all();
            let mut cancelled = 0usize;
            while let Some(result) = set.join_next().await {
                if matches!(result, Err(e) if e.is_cancelled()) {
                    cancelled += 1;
                }
            }
            let us = start.elapsed().as_nanos() as f64 / 1000.0;
            check("group_cancel_10k: all cancelled", cancelled == children);
            us
        })
        .await
        .unwrap()
    })
}

fn entry(name: &str, counters: &[(&str, f64)]) -> String {
    let fields: Vec<String> = counters.iter().map(|(k, v)| format!("\"{k}\": {v:.3}")).collect();
    format!(
        "    {{\"name\": \"{name}_median\", \"run_name\": \"{name}\", \"run_type\": \"aggregate\", \
         \"aggregate_name\": \"median\", {}}}",
        fields.join(", ")
    )
}

fn main() {
    let rt = runtime();
    let repeat = |reps: usize, f: &dyn Fn() -> f64| median((0..reps).map(|_| f()).collect());
    let mut entries = Vec::new();
    // when_any first, as in cancel_bench.cpp (a million-task burst slows what follows it).
    let mut latencies = Vec::new();
    for _ in 0..3 {
        latencies.extend(when_any_wake(&rt, 10_000));
    }
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    entries.push(entry(
        "when_any_wake",
        &[("p50_ns", percentile(&latencies, 50)), ("p99_ns", percentile(&latencies, 99))],
    ));
    entries.push(entry("await_ready_op", &[("ns_per_call", repeat(7, &|| ready_calls(&rt, "await_ready_op sum", ready_op)))]));
    entries.push(entry("timeout_ready_op", &[("ns_per_call", repeat(7, &|| ready_calls(&rt, "timeout_ready_op sum", ready_op_under_timeout)))]));
    entries.push(entry("cancel_sleepers", &[("ns_per_task", repeat(5, &|| cancel_sleepers(&rt, 1_000_000)))]));
    entries.push(entry("when_all_empty", &[("ns_per_task", repeat(7, &|| when_all_empty(&rt)))]));
    let mut micros: Vec<f64> = (0..100).map(|_| group_cancel(&rt, 10_000)).collect();
    micros.sort_by(|a, b| a.partial_cmp(b).unwrap());
    entries.push(entry(
        "group_cancel_10k",
        &[("p50_us", percentile(&micros, 50)), ("p99_us", percentile(&micros, 99))],
    ));
    println!(
        "{{\n  \"context\": {{\"peer\": \"tokio 1.24.2 (Debian)\"}},\n  \"benchmarks\": [\n{}\n  ]\n}}",
        entries.join(",\n")
    );
}
