#!/usr/bin/env python3
"""Turns one run of bench/run_forkjoin.sh into the fork-join section of docs/BENCHMARKS.md.

Reads "WORKLOAD PROGRAM DURATION_US MAX_RSS_KIB" lines (one per program, workload and round)
and writes the median time and peak RSS of each, tiny_coro's ratio to the best peer, the
issue's targets (time ≤ 1.0× the best peer, peak RSS ≤ 2× the best peer's), and a gnuplot bar
chart. Only measured numbers are written; a program missing from the run shows as "-".
"""
import datetime
import os
import pathlib
import statistics
import sys

from report_runtime import bar_chart_peers, machine_line, write_section

BEGIN = "<!-- forkjoin:begin -->"
END = "<!-- forkjoin:end -->"
HEADING = "## Fork-join: tiny_coro against libfork, TooManyCooks and citor"
WORKLOADS = {"skynet": "skynet (10^8 leaves)", "fib": "fib(39)", "nqueens": "nqueens(14)"}
PEERS = ["libfork", "TooManyCooks", "citor"]


def read(path):
    """(workload, program) -> ([durations in ms], [peak RSS in KiB])."""
    runs = {}
    for line in pathlib.Path(path).read_text().splitlines():
        fields = line.split()
        if len(fields) != 4:
            continue
        workload, program, duration, rss = fields
        times, sizes = runs.setdefault((workload, program), ([], []))
        times.append(int(duration) / 1000)
        if rss != "-":
            sizes.append(int(rss))
    return runs


def main():
    results, doc, plot, command = sys.argv[1:5]
    runs = read(results)
    context = {"num_cpus": os.cpu_count(), "date": datetime.datetime.now().isoformat(timespec="minutes")}
    rounds = max((len(times) for times, _ in runs.values()), default=0)

    def median_ms(workload, program):
        times = runs.get((workload, program), ([], []))[0]
        return statistics.median(times) if times else None

    def peak_mib(workload, program):
        sizes = runs.get((workload, program), ([], []))[1]
        return max(sizes) / 1024 if sizes else None

    def cell(value, unit=""):
        return "-" if value is None else f"{value:,.0f}{unit}"

    time_rows, rss_rows, plot_rows = [], [], []
    for workload, label in WORKLOADS.items():
        ours = median_ms(workload, "tiny_coro")
        peers = {peer: median_ms(workload, peer) for peer in PEERS}
        measured = {peer: t for peer, t in peers.items() if t is not None}
        best_peer = min(measured, key=measured.get) if measured else None
        ratio = ours / measured[best_peer] if ours is not None and best_peer else None
        verdict = "-" if ratio is None else ("met" if ratio <= 1.0 else "**not met**")
        spawned = median_ms(workload, "spawn")
        floors = {}
        for kind in ("serial", "bare"):
            one_thread = median_ms(workload, kind)
            floors[kind] = None if one_thread is None else one_thread / 2

        def floor_cell(floor):
            if floor is None:
                return "-"
            return f"{floor:,.0f} ms" + ("" if ours is None else f" (tiny_coro at {ours / floor:.2f}×)")

        if best_peer and verdict != "met":
            if floors["bare"] is not None and measured[best_peer] < floors["bare"]:
                verdict += ", and the target lies below the g++ coroutine floor"
            elif floors["serial"] is not None and measured[best_peer] < floors["serial"]:
                verdict += ", and the target lies below the Task floor"
        time_rows.append(
            f"| {label} | {cell(ours, ' ms')} | " + " | ".join(cell(peers[p], " ms") for p in PEERS)
            + f" | {'-' if ratio is None else f'{ratio:.2f}× {best_peer}'} | {cell(spawned, ' ms')}"
            + f" | {floor_cell(floors['serial'])} | {floor_cell(floors['bare'])}"
            + f" | ≤ 1.0×: {verdict} |")

        ours_rss = peak_mib(workload, "tiny_coro")
        peer_rss = {peer: peak_mib(workload, peer) for peer in PEERS}
        known = [v for v in peer_rss.values() if v is not None]
        best_rss = min(known) if known else None
        rss_ratio = ours_rss / best_rss if ours_rss is not None and best_rss else None
        rss_verdict = "-" if rss_ratio is None else ("met" if rss_ratio <= 2.0 else "**not met**")
        rss_rows.append(
            f"| {label} | {cell(ours_rss, ' MiB')} | "
            + " | ".join(cell(peer_rss[p], " MiB") for p in PEERS)
            + f" | {'-' if rss_ratio is None else f'{rss_ratio:.2f}×'} | ≤ 2×: {rss_verdict} |")
        if ours is not None and all(peers[p] is not None for p in PEERS):
            plot_rows.append((workload, ours, *(peers[p] for p in PEERS)))

    section = [
        BEGIN,
        f"Command: `{command}` ({rounds} alternating rounds, 2 threads each; medians of the",
        "timed runs; peak RSS is the largest `max_rss` over the rounds; ratio = tiny_coro time /",
        "the best peer's). The peers are the suite's own builds (clang 19, -O3 -march=native,",
        "tcmalloc); tiny_coro's forkjoin_bench by g++ 12 at -O3, as the suite builds its",
        "programs (the fork path is inline in it; the library is -O2, as the project builds it).",
        f"Machine: {machine_line(context, 'peers as built in bench-peers')}.",
        "",
        "| workload | tiny_coro (fork) | libfork | TooManyCooks | citor | ratio to best | "
        "tiny_coro (spawn) | Task floor: serial ÷ 2 | g++ floor: bare ÷ 2 | target |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *time_rows,
        "",
        "| peak RSS | tiny_coro | libfork | TooManyCooks | citor | ratio to best | target |",
        "|---|---|---|---|---|---|---|",
        *rss_rows,
        "",
        "tiny_coro (fork): the trees written with `fork()` (continuation stealing, fork.h);",
        "tiny_coro (spawn): the same trees with `spawn()` and `JoinHandle`, every child a task",
        "of its own (`forkjoin_bench WORKLOAD-spawn`).",
        "",
        "The Task floor: the same tree on one worker, every child a Task awaited in place (no",
        "spawn, no join, no stealing: `forkjoin_bench WORKLOAD-serial`), halved. It is what",
        "tiny_coro's Task frames and the nodes' own work cost with perfect scaling and free",
        "scheduling: a floor of this Task type, not of the machine or the compiler. The g++",
        "floor: the same serial tree with a bare coroutine type (`WORKLOAD-bare`: a continuation",
        "and a value, free-list frames, no scheduler), halved: what any runtime with one g++",
        "coroutine frame per task pays for the frames and the nodes' own work.",
        "",
        "![fork-join workloads on 2 threads (log scale)](img/forkjoin.png)",
        END,
    ]
    write_section(doc, BEGIN, END, section, HEADING)
    if plot_rows:
        bar_chart_peers(plot_rows, pathlib.Path(results).with_suffix(".dat"), plot,
                        "Fork-join on 2 threads: median time (log scale, lower is better)", "ms",
                        "top left", PEERS)
    print("\n".join(section))


if __name__ == "__main__":
    main()
