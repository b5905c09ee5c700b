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
    """{server: [{metric: value} per round]}"""
    rounds, current = {}, None
    for line in pathlib.Path(path).read_text().splitlines():
        key, _, value = line.partition(" ")
        if key == "server":
            current = {}
            rounds.setdefault(value, []).append(current)
        elif current is not None and value:
            current[key] = float(value)
    return rounds


def summary(rounds):
    pps = [r["packets_per_s"] for r in rounds]
    cpu_us = [r["server_cpu_ticks"] / TICKS_PER_SECOND / (r["packets_per_s"] * r["seconds"]) * 1e6
              for r in rounds]
    busy = [r["server_cpu_ticks"] / TICKS_PER_SECOND / r["seconds"] for r in rounds]
    restarts = sum(r["restarts"] for r in rounds)
    return {"pps": statistics.median(pps), "pps_all": pps, "cpu_us": statistics.median(cpu_us),
            "busy": statistics.median(busy), "restarts": restarts}


def main():
    results, doc, command, count = sys.argv[1:5]
    rounds = rounds_of(results)
    ours, floor = summary(rounds["tiny_coro"]), summary(rounds["floor"])
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    ratio = ours["pps"] / floor["pps"]
    met = "met" if ratio >= 0.95 else "**not met**"
    each = lambda s: ", ".join(f"{v:.0f}" for v in s["pps_all"])
    lines = [
        BEGIN,
        f"Command: `{command}` ({count} alternating rounds per server, medians; each server one",
        "thread pinned to CPU 0, the load generator bench/udp_load one thread pinned to CPU 1:",
        "100 clients, 64-byte datagrams, 4 in flight per client, 5 s measured after 1 s warm-up).",
        f"Machine: {machine_line({'num_cpus': 2, 'date': now}, peer='no peer')}.",
        "",
        "| UDP echo, 64-byte datagrams, 100 clients | tiny_coro | floor | ratio | target |",
        "|---|---|---|---|---|",
        f"| echoed datagrams/s | {ours['pps']:.0f} | {floor['pps']:.0f} | {ratio:.2f} | "
        f"≥ 0.95×: {met} |",
        f"| server CPU per datagram (user+sys) | {ours['cpu_us']:.2f} µs | "
        f"{floor['cpu_us']:.2f} µs | {ours['cpu_us'] / floor['cpu_us']:.2f} | - |",
        f"| server CPU busy (of one core) | {ours['busy'] * 100:.0f}% | {floor['busy'] * 100:.0f}% "
        "| - | - |",
        "",
        f"Rounds, datagrams/s: tiny_coro {each(ours)}; floor {each(floor)}. Clients restarted "
        f"after 200 ms of silence (lost datagrams): tiny_coro {ours['restarts']:.0f}, "
        f"floor {floor['restarts']:.0f}.",
        END,
    ]
    write_section(doc, BEGIN, END, lines, HEADING)


if __name__ == "__main__":
    main()
