#!/usr/bin/env python3
"""Turns one run of bench/run_sync.sh into the sync section of docs/BENCHMARKS.md."""
import pathlib
import re
import sys

from report_runtime import bar_chart, machine_line, medians

BEGIN = "<!-- sync:begin -->"
END = "<!-- sync:end -->"

# workload -> (items per run, unit, target text, limit in ns per item or None)
WORKLOADS = {
    "ping_pong": (1_000_000, "ns/round trip", "≤ 150 ns/round trip", 150),
    "mpmc": (4_000_000, "ns/item", "≤ 30 ns/item", 30),
    "mutex_contention": (1_000_000, "ns/lock", "≤ 40 ns/lock", 40),
    "uncontended_lock": (1_000_000, "ns/lock", "-", None),
}


def main():
    out, doc, plot, command = sys.argv[1:5]
    out = pathlib.Path(out)
    ours, context = medians(out / "sync_tiny_coro.json")
    asio, _ = medians(out / "sync_asio.json")
    probe = re.findall(r"core_to_core_round_trip_ns (\d+)", (out / "core_to_core_sync.txt").read_text())
    rows, plot_rows = [], []
    for name, (items, unit, target, limit) in WORKLOADS.items():
        t, a = ours.get(name), asio.get(name)
        if t is None or a is None:
            rows.append(f"| {name} | - | - | - | {target} |")
            continue
        per, per_asio = t * 1e6 / items, a * 1e6 / items
        met = "" if limit is None else (": met" if per <= limit else ": **not met**")
        rows.append(f"| {name} | {per:.1f} {unit} | {per_asio:.1f} {unit} | {t / a:.3f} | {target}{met} |")
        plot_rows.append((name, per, per_asio))
    section = [
        BEGIN,
        f"Command: `{command}` (one run; medians of 7 repetitions for tiny_coro, 5 for Asio;",
        "ratio = tiny_coro time / Asio time, lower is better).",
        f"Machine: {machine_line(context)}.",
        f"Cache-line round trip between the two cores before and after the run: {' ns, '.join(probe)} ns.",
        "",
        "| workload (2 workers) | tiny_coro | Asio 1.81 | ratio | target |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "![tiny_coro vs Asio, time per operation (log scale)](img/sync_vs_asio.png)",
        END,
    ]
    doc_path = pathlib.Path(doc)
    text = doc_path.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    doc_path.write_text(text[:start] + "\n".join(section) + text[end:])
    bar_chart(plot_rows, out / "sync_plot.dat", plot,
              "Synchronisation on 2 workers: median ns per operation (log scale, lower is better)",
              "ns", "top right")
    print("\n".join(section))


if __name__ == "__main__":
    main()
