#!/usr/bin/env python3
"""Prints a table of Google Benchmark rows from builds run in alternating rounds.

Reads DIR/BUILD-BENCH-ROUND.json (--benchmark_out files whose repetitions report a median),
takes each build's median of its rounds' medians per row, and prints them with the ratio of
the last build named to each of the others (run_ab.sh: after ÷ before; run_tracking_ab.sh:
on ÷ before and on ÷ off).
  report_ab.py DIR ROUNDS "NOTE" BUILD... LAST
"""
import json
import pathlib
import statistics
import sys


def main():
    out, rounds, note, *builds = sys.argv[1:]
    rows = {}
    for path in pathlib.Path(out).glob("*.json"):
        build = path.name.split("-")[0]
        for bench in json.loads(path.read_text())["benchmarks"]:
            if bench.get("aggregate_name") != "median":
                continue
            name = bench["run_name"].split("/")[0]
            rows.setdefault(name, {}).setdefault(build, []).append(bench["real_time"])
    *earlier, last = builds
    print(f"{rounds} alternating rounds; median of the rounds' medians (the bench's unit); {note}")
    print("| row | " + " | ".join(builds) + " | "
          + " | ".join(f"{last} ÷ {other}" for other in earlier) + " |")
    print("|---" * (len(builds) + len(earlier) + 1) + "|")
    for name, per_build in rows.items():
        medians = {b: statistics.median(v) for b, v in per_build.items()}
        if any(b not in medians for b in builds):
            continue
        cells = [f"{medians[b]:.1f}" for b in builds]
        ratios = [f"{medians[last] / medians[other]:.3f}" for other in earlier]
        print(f"| {name} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main()
