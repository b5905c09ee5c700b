#!/usr/bin/env python3
"""Turns one run of bench/run_udp.sh into the udp section of docs/BENCHMARKS.md."""
import datetime
import os
import pathlib
import statistics
import sys

from report_runtime import machine_line, write_section

BEGIN = "<!-- udp:begin -->"
END = "<!-- udp:end -->"
HEADING = "## UDP echo (issue: UDP sockets)"
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def rounds_of(path):
    """{(placement, server): [{metric: value} per round]}"""
    rounds, current = {}, None
    for line in pathlib.Path(path).read_text().splitlines():
        key, _, value = line.partition(" ")
        if key == "discarded":
            current = None
            rounds.setdefault("discarded", []).append(value)
        elif key == "server":
            current = {}
            rounds.setdefault(tuple(value.split()), []).append(current)
        elif current is not None and value:
            current[key] = float(value)
    return rounds


def summary(rounds):
    pps = [r["packets_per_s"] for r in rounds]
    cpu_us = [r["server_cpu_ticks"] / TICKS_PER_SECOND / (r["packets_per_s"] * r["seconds"]) * 1e6
              for r in rounds]
    busy = [r["server_cpu_ticks"] / TICKS_PER_SECOND / r["seconds"] for r in rounds]
    return {"pps": statistics.median(pps), "pps_all": pps, "cpu_us": statistics.median(cpu_us),
            "busy": statistics.median(busy), "restarts": sum(r["restarts"] for r in rounds)}


def rows(placement, ours, floor):
    ratio = ours["pps"] / floor["pps"]
    # Each round runs floor then tiny_coro back to back: their ratio sees the same state of
    # the machine, which drifts between rounds more than the two servers differ.
    paired = statistics.median(t / f for t, f in zip(ours["pps_all"], floor["pps_all"]))
    met = "met" if ratio >= 0.95 else "**not met**"
    target = f"≥ 0.95×: {met}" if placement == "shared" else "-"
    return [
        f"| {placement}: echoed datagrams/s | {ours['pps']:.0f} | {floor['pps']:.0f} | "
        f"{ratio:.2f} | {target} |",
        f"| {placement}: median of per-round ratios | - | - | {paired:.2f} | - |",
        f"| {placement}: server CPU per datagram (user+sys) | {ours['cpu_us']:.2f} µs | "
        f"{floor['cpu_us']:.2f} µs | {ours['cpu_us'] / floor['cpu_us']:.2f} | - |",
        f"| {placement}: server CPU busy (of one core) | {ours['busy'] * 100:.0f}% | "
        f"{floor['busy'] * 100:.0f}% | - | - |",
    ]


def main():
    results, doc, command, count = sys.argv[1:5]
    rounds = rounds_of(results)
    seconds = rounds[("shared", "floor")][0]["seconds"]
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    each = lambda s: ", ".join(f"{v:.0f}" for v in s["pps_all"])
    table, detail, restarts = [], [], []
    for placement in ("shared", "split"):
        ours = summary(rounds[(placement, "tiny_coro")])
        floor = summary(rounds[(placement, "floor")])
        table += rows(placement, ours, floor)
        detail.append(f"{placement}: tiny_coro {each(ours)}; floor {each(floor)}")
        restarts.append(f"{placement} {ours['restarts']:.0f} / {floor['restarts']:.0f}")
    lines = [
        BEGIN,
        f"Command: `{command}` ({count} rounds, each running both servers in both placements",
        "back to back; medians. Each server one thread; the load generator bench/udp_load one",
        f"thread: 100 clients, 64-byte datagrams, 4 in flight per client, {seconds:.0f} s measured",
        "after 1 s of warm-up. shared: server and load generator pinned to CPU 1 together;",
        "split: server on CPU 0, load generator on CPU 1).",
        f"Machine: {machine_line({'num_cpus': 2, 'date': now}, peer='no peer')}.",
        "",
        "| UDP echo, 64-byte datagrams, 100 clients | tiny_coro | floor | ratio | target |",
        "|---|---|---|---|---|",
        *table,
        "",
        "Datagrams/s per round: " + "; ".join(detail) + ". Clients restarted after 200 ms of "
        "silence (lost datagrams), tiny_coro / floor: " + ", ".join(restarts) + ". Runs "
        "discarded and rerun because the server echoed nothing at all (run_udp.sh says why): "
        + (", ".join(rounds.get("discarded", [])) or "none") + ".",
        END,
    ]
    write_section(doc, BEGIN, END, lines, HEADING)


if __name__ == "__main__":
    main()
