#!/usr/bin/env python3
"""Turns one run of bench/run_cancel.sh into the cancellation section of docs/BENCHMARKS.md."""
import json
import pathlib
import re
import statistics
import sys

from report_runtime import bar_chart_peers, machine_line, write_section

BEGIN = "<!-- cancel:begin -->"
END = "<!-- cancel:end -->"
HEADING = "## Cancellation and structured concurrency (issue: cancellation, timeouts)"


def counters(path):
    """benchmark name -> its counters (the median aggregate where there are repetitions)."""
    data = json.loads(pathlib.Path(path).read_text())
    found = {}
    for bench in data["benchmarks"]:
        name = bench["run_name"].split("/")[0]
        if bench.get("aggregate_name") == "median" or bench.get("run_type") == "iteration":
            found[name] = bench
    return found, data["context"]


def ab_medians(paths):
    """Median real time (ms) per benchmark over several runs of the same program."""
    times = {}
    for path in paths:
        data = json.loads(pathlib.Path(path).read_text())
        for bench in data["benchmarks"]:
            if bench.get("aggregate_name") == "median":
                scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[bench["time_unit"]]
                times.setdefault(bench["run_name"].split("/")[0], []).append(bench["real_time"] * scale)
    return {name: statistics.median(v) for name, v in times.items()}


# Plot labels.
SHORT = {"cancel_sleepers": "cancel_1M", "when_all_empty": "when_all_1M", "when_any_wake": "when_any",
         "group_cancel_10k": "group_10k"}


def verdict(value, limit):
    return ": met" if value <= limit else ": **not met**"


def main():
    out, doc, plot, command = sys.argv[1:5]
    out = pathlib.Path(out)
    ours, context = counters(out / "cancel_tiny_coro.json")
    asio, _ = counters(out / "cancel_asio.json")
    tokio_path = out / "cancel_tokio.json"
    tokio = counters(tokio_path)[0] if tokio_path.exists() else {}

    def get(table, name, key):
        if name not in table or key not in table[name]:
            return None
        value = table[name][key]
        # cancel_bench's per-item counters are inverted rates: seconds per item.
        return value * 1e9 if table is ours and key.startswith("ns_per") else value

    rows, plot_rows = [], []

    def cells(value, peer, unit):
        """A peer's value and tiny_coro's ratio to it, or dashes where the peer did not run."""
        if value is None or peer is None:
            return "- | -"
        return f"{peer:.1f} {unit} | {value / peer:.3f}"

    def added_by_timeout(table):
        t, a = get(table, "timeout_ready_op", "ns_per_call"), get(table, "await_ready_op", "ns_per_call")
        return None if t is None or a is None else t - a

    added = added_by_timeout(ours)
    added_tokio, added_asio = added_by_timeout(tokio), added_by_timeout(asio)
    rows.append(f"| timeout(1 h) around an op that completes at once, added per call (Asio: "
                f"`op() \\|\\| timer.async_wait()`) | {added:.1f} ns "
                f"| {cells(added, added_tokio, 'ns')} | {cells(added, added_asio, 'ns')} "
                f"| ≤ 60 ns{verdict(added, 60)} |")
    plot_rows.append(("timeout", added, added_tokio or 0, added_asio or 0))
    floor = get(ours, "throw_floor", "ns_per_task")
    make_floor = get(ours, "make_tasks_floor", "ns_per_task")
    for name, key, label, unit, limit, target in [
        ("cancel_sleepers", "ns_per_task", "cancel 1,000,000 sleepers (1 h) and await them", "ns/task", 150, "≤ 150 ns/task"),
        ("when_all_empty", "ns_per_task", "when_all over 1,000,000 empty tasks", "ns/task", 60, "≤ 60 ns/task"),
        ("when_any_wake", "p50_ns", "when_any(sleep 1 h, recv) woken by a send, p50", "ns", 500, "≤ 500 ns"),
        ("when_any_wake", "p99_ns", "... p99", "ns", None, "-"),
        ("group_cancel_10k", "p50_us", "cancel a group of 10,000 sleepers and join it, p50", "µs", None, "-"),
        ("group_cancel_10k", "p99_us", "... p99", "µs", 1000, "≤ 1 ms"),
    ]:
        t, k, a = get(ours, name, key), get(tokio, name, key), get(asio, name, key)
        if t is None:
            rows.append(f"| {label} | - | - | - | - | - | {target} |")
            continue
        met = "" if limit is None else verdict(t, limit)
        rows.append(f"| {label} | {t:.1f} {unit} | {cells(t, k, unit)} | {cells(t, a, unit)} "
                    f"| {target}{met} |")
        plot_rows.append((SHORT[name] + ("_p99" if "p99" in key else "_p50" if "p50" in key else ""),
                          t, k or 0, a or 0))
        if name == "cancel_sleepers" and floor is not None:
            rows.append(f"| floor: two throws of TaskCancelled caught at once (the task's co_await, "
                        f"then its handle's) | {floor:.1f} ns/task | - | - | - | - | below the target: "
                        f"unwinding by exception, as SPEC §4 asks |")
        if name == "when_all_empty" and make_floor is not None:
            rows.append(f"| floor: the same 1,000,000 tasks made and destroyed unrun (when_all's input) "
                        f"| {make_floor:.1f} ns/task | - | - | - | - | what is left of the target for "
                        f"when_all itself: {60 - make_floor:.1f} ns/task |")

    spread = get(ours, "when_all_cpu", "two_vs_one")
    if spread is not None:
        rows.append(f"| when_all over 1,000 children of 20 µs of CPU each: time on 2 workers ÷ on 1 "
                    f"| {spread:.3f} | - | - | - | - | 0.5 is perfect spread: children started "
                    f"child-first still run side by side |")

    rss_text = (out / "cancel_rss.txt").read_text()
    rounds = re.findall(r"round (\d): rss_before_mib ([\d.]+) rss_sleeping_mib ([\d.]+) rss_after_mib ([\d.]+)", rss_text)
    cold = float(re.search(r"rss_cold_mib ([\d.]+)", rss_text).group(1))
    rss_lines = []
    for number, before, sleeping, after in rounds:
        before, sleeping, after = float(before), float(sleeping), float(after)
        rss_lines.append(f"| round {number} | {before:.1f} MiB | {sleeping:.1f} MiB | {after:.1f} MiB "
                         f"| {100 * (after - before) / before:+.1f}% | {100 * (after - cold) / cold:+.1f}% |")

    ab_rows = []
    before_runs = sorted(out.glob("ab_before_*.json"))
    after_runs = sorted(out.glob("ab_after_*.json"))
    if before_runs and after_runs:
        b, a = ab_medians(before_runs), ab_medians(after_runs)
        for name in sorted(set(b) & set(a)):
            ab_rows.append(f"| {name} | {b[name]:.1f} ms | {a[name]:.1f} ms | {a[name] / b[name]:.3f} |")

    section = [
        BEGIN,
        f"Command: `{command}` (one run; medians of the repetitions; ratio = tiny_coro / the peer",
        "to its left, lower is better). Peers: Tokio 1.24.2 built offline from Debian's crates",
        "(`bench/tokio`: `time::timeout`, `JoinHandle::abort`, `JoinSet` for when_all and the group,",
        "`select!` for when_any), and Boost.Asio 1.81 with per-operation `cancellation_signal`s and",
        "`awaitable_operators`. Tokio inlines a ready `async fn` (no allocation), so its",
        "`timeout` row is the whole cost of `tokio::time::timeout`.",
        f"Machine: {machine_line(context)}.",
        "",
        "| workload (2 workers) | tiny_coro | Tokio 1.24 | ratio | Asio 1.81 | ratio | target |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Memory of 1,000,000 sleepers cancelled and awaited (`cancel_bench --rss-after-cancel`; "
        f"the process started at {cold:.1f} MiB and cancelled 10,000 sleepers first, to page in the "
        "code cancelling runs; the workers give memory back when they go idle after the burst; "
        "target: back within 10% of before):",
        "",
        "| | before spawning | while asleep | after cancel + await | after vs before | after vs the cold start |",
        "|---|---|---|---|---|---|",
        *rss_lines,
        "",
        "What cancellation costs when unused: the runtime and sync benchmarks at the commit before",
        "cancellation (A) and at this one (B), alternated in the same run (A B A B), medians of both",
        "runs' medians; this machine is noisy, so read small ratios with care:",
        "",
        "| benchmark | A: before | B: now | B / A |",
        "|---|---|---|---|",
        *(ab_rows or ["| (not run) | - | - | - |"]),
        "",
        "![tiny_coro vs Tokio and Asio, cancellation (log scale)](img/cancel_vs_peers.png)",
        END,
    ]
    write_section(doc, BEGIN, END, section, HEADING)
    bar_chart_peers(plot_rows, out / "cancel_plot.dat", plot,
                    "Cancellation on 2 workers: tiny_coro vs Tokio and Asio (log scale, lower is better)",
                    "ns or µs as labelled", "top left", ["Tokio 1.24", "Boost.Asio 1.81"])
    print("\n".join(section))


if __name__ == "__main__":
    main()
