//! Tokio's side of bench/blocking_bench.cpp: spawn_blocking round trips on a two-worker
//! runtime, awaited one after another by one task, and by 16 tasks at once. Prints
//! "name ns_per_call" lines, the same as the C++ program, for bench/run_blocking.sh.
use std::time::Instant;

use tokio::runtime::Builder;

const CALLS: u64 = 200_000;
const TASKS: u64 = 16;

fn main() {
    let rt = Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");

    let start = Instant::now();
    let sum = rt.block_on(async {
        tokio::spawn(async {
            let mut sum = 0u64;
            for i in 0..CALLS {
                sum += tokio::task::spawn_blocking(move || std::hint::black_box(i)).await.unwrap();
            }
            sum
        })
        .await
        .unwrap()
    });
    let sequential = start.elapsed().as_nanos() as f64 / CALLS as f64;
    assert_eq!(sum, CALLS * (CALLS - 1) / 2);

    let start = Instant::now();
    let total = rt.block_on(async {
        let mut handles = Vec::new();
        for _ in 0..TASKS {
            handles.push(tokio::spawn(async {
                let mut sum = 0u64;
                for i in 0..CALLS / TASKS {
                    sum += tokio::task::spawn_blocking(move || std::hint::black_box(i)).await.unwrap();
                }
                sum
            }));
        }
        let mut total = 0u64;
        for handle in handles {
            total += handle.await.unwrap();
        }
        total
    });
    let concurrent = start.elapsed().as_nanos() as f64 / CALLS as f64;
    let per_task = CALLS / TASKS;
    assert_eq!(total, TASKS * (per_task * (per_task - 1) / 2));

    println!("spawn_blocking_sequential {sequential:.0}");
    println!("spawn_blocking_16_tasks {concurrent:.0}");
}
