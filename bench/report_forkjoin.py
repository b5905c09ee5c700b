#!/usr/bin/env python3
"""Turns one run of bench/run_forkjoin.sh into the fork-join section of docs/BENCHMARKS.md.

Reads "WORKLOAD PROGRAM DURATION_US MAX_RSS_KIB" lines (one per program, workload and round)
and writes the median time and peak RSS of each, the ratio of each of tiny_coro's rows
(fork() and Job, each built by g++ and by clang) to the best peer, the floors of each build, the issue's targets (time ≤ 1.0× the
best peer, peak RSS ≤ 2× the best peer's), and a gnuplot bar chart. Only measured numbers are
written; a program missing from the run shows as "-".
"""
import datetime
import os
import pathlib
import statistics
import subprocess
import sys

from report_runtime import bar_chart_peers, machine_line, write_section

BEGIN = "<!-- forkjoin:begin -->"
END = "<!-- forkjoin:end -->"
HEADING = "## Fork-join: tiny_coro against libfork, TooManyCooks and citor"
WORKLOADS = {"skynet": "skynet (10^8 leaves)", "fib": "fib(39)", "nqueens": "nqueens(14)"}
PEERS = ["libfork", "TooManyCooks", "citor"]
# tiny_coro's rows (bench/run_forkjoin.sh): label -> program name in the results. Each of
# forkjoin_bench's two builds runs the trees as Tasks with fork() and as Jobs. The floors are
# per build; the suffix of each build's floor programs, and the fork() row set against them.
BUILDS = {"g++": "tiny_coro", "clang": "tiny_coro-clang",
          "Job, g++": "tiny_coro-job", "Job, clang": "tiny_coro-job-clang"}
FLOOR_SUFFIXES = {"g++": "", "clang": "-clang"}


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


def compiler_line():
    """The first line of `clang++ --version`, for the section's header."""
    try:
        out = subprocess.run(["clang++", "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0] if out else "clang++ (unknown version)"
    except OSError:
        return "clang++ (not found)"


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

    time_rows, floor_rows, rss_rows, plot_rows = [], [], [], []
    for workload, label in WORKLOADS.items():
        ours = {build: median_ms(workload, program) for build, program in BUILDS.items()}
        peers = {peer: median_ms(workload, peer) for peer in PEERS}
        measured = {peer: t for peer, t in peers.items() if t is not None}
        best_peer = min(measured, key=measured.get) if measured else None
        ratios = {build: (t / measured[best_peer] if t is not None and best_peer else None)
                  for build, t in ours.items()}
        known = {build: r for build, r in ratios.items() if r is not None}
        if known:
            best_build = min(known, key=known.get)
            verdict = "met" if known[best_build] <= 1.0 else "**not met**"
            verdict += f" (best: {best_build}, {known[best_build]:.2f}×)"
        else:
            verdict = "-"
        time_rows.append(
            f"| {label} | " + " | ".join(cell(ours[b], " ms") for b in BUILDS) + " | "
            + " | ".join(cell(peers[p], " ms") for p in PEERS) + " | "
            + " | ".join("-" if ratios[b] is None else f"{ratios[b]:.2f}×" for b in BUILDS)
            + f" | {best_peer or '-'} | ≤ 1.0×: {verdict} |")

        # Each build's floors, and each build's fork time against them.
        floor_cells, below = [], []
        for build, suffix in FLOOR_SUFFIXES.items():
            for kind in ("serial", "bare"):
                one_thread = median_ms(workload, kind + suffix)
                floor = None if one_thread is None else one_thread / 2
                if floor is None:
                    floor_cells.append("-")
                    continue
                text = f"{floor:,.0f} ms"
                if ours[build] is not None:
                    text += f" ({ours[build] / floor:.2f}×)"
                floor_cells.append(text)
                if best_peer and measured[best_peer] < floor:
                    below.append(f"{build} {'Task' if kind == 'serial' else 'bare'}")
        floor_rows.append(
            f"| {label} | {cell(median_ms(workload, 'spawn'), ' ms')} | " + " | ".join(floor_cells)
            + f" | {', '.join(below) if below else 'none'} |")

        ours_rss = [v for v in (peak_mib(workload, p) for p in BUILDS.values()) if v is not None]
        peer_rss = {peer: peak_mib(workload, peer) for peer in PEERS}
        known_rss = [v for v in peer_rss.values() if v is not None]
        best_rss = min(known_rss) if known_rss else None
        top_rss = max(ours_rss) if ours_rss else None
        rss_ratio = top_rss / best_rss if top_rss is not None and best_rss else None
        rss_verdict = "-" if rss_ratio is None else ("met" if rss_ratio <= 2.0 else "**not met**")
        rss_rows.append(
            f"| {label} | {cell(top_rss, ' MiB')} | "
            + " | ".join(cell(peer_rss[p], " MiB") for p in PEERS)
            + f" | {'-' if rss_ratio is None else f'{rss_ratio:.2f}×'} | ≤ 2×: {rss_verdict} |")
        if all(t is not None for t in ours.values()) and all(peers[p] is not None for p in PEERS):
            plot_rows.append((workload, *ours.values(), *(peers[p] for p in PEERS)))

    builds = " | ".join(f"tiny_coro ({b})" for b in BUILDS)
    ratio_heads = " | ".join(f"ratio ({b})" for b in BUILDS)
    section = [
        BEGIN,
        f"Command: `{command}` ({rounds} alternating rounds, 2 threads each; medians of the",
        "timed runs; peak RSS is the largest `max_rss` over the rounds and both builds; ratio =",
        "tiny_coro's time / the best peer's). The peers are the suite's own builds (clang 19,",
        "-O3 -march=native, tcmalloc; nqueens with -falign-loops=64). tiny_coro's",
        "forkjoin_bench is built twice: by g++ (the release preset; the program at -O3",
        "-falign-loops=64, as the suite builds its programs, the library at -O2) and by clang",
        "(the bench-clang preset, -O3 throughout, the program also with -falign-loops=64).",
        f"Machine: {machine_line(context, 'peers as built in bench-peers')}; {compiler_line()}.",
        "",
        f"| workload | {builds} | libfork | TooManyCooks | citor | {ratio_heads} | best peer "
        "| target |",
        "|---|" + "---|" * (len(BUILDS) * 2 + len(PEERS) + 2),
        *time_rows,
        "",
        "| workload | tiny_coro (spawn, g++) | g++ Task floor | g++ bare floor | clang Task floor "
        "| clang bare floor | floors above the best peer |",
        "|---|---|---|---|---|---|---|",
        *floor_rows,
        "",
        "| peak RSS | tiny_coro | libfork | TooManyCooks | citor | ratio to best | target |",
        "|---|---|---|---|---|---|---|",
        *rss_rows,
        "",
        "tiny_coro (g++, clang): the trees written with Tasks and `fork()` (continuation",
        "stealing, fork.h); Job: the same trees written with `Job` (job.h: each child writes its",
        "result into its parent's frame, one `join()` per frame; `forkjoin_bench WORKLOAD-job`);",
        "spawn: the same trees with `spawn()` and `JoinHandle`, every child a task of its own",
        "(`forkjoin_bench WORKLOAD-spawn`).",
        "",
        "The floors, per compiler, each with tiny_coro's forked time from the same build over it.",
        "Task floor: the same tree on one worker, every child a Task awaited in place (no spawn,",
        "no join, no stealing: `forkjoin_bench WORKLOAD-serial`), halved: what tiny_coro's Task",
        "frames and the nodes' own work cost with perfect scaling and free scheduling. Bare",
        "floor: the same serial tree with a bare coroutine type (`WORKLOAD-bare`: a continuation",
        "and a value, free-list frames, no scheduler), halved: what any runtime with one coroutine",
        "frame per task, built by that compiler, pays for the frames and the nodes' own work.",
        "",
        "![fork-join workloads on 2 threads (log scale)](img/forkjoin.png)",
        END,
    ]
    write_section(doc, BEGIN, END, section, HEADING)
    if plot_rows:
        bar_chart_peers(plot_rows, pathlib.Path(results).with_suffix(".dat"), plot,
                        "Fork-join on 2 threads: median time (log scale, lower is better)", "ms",
                        "top left", [f"tiny_coro ({b})" for b in list(BUILDS)[1:]] + PEERS,
                        ours=f"tiny_coro ({next(iter(BUILDS))})")
    print("\n".join(section))


if __name__ == "__main__":
    main()
