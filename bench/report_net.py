#!/usr/bin/env python3
"""Turns one run of bench/run_net.sh into the net section of docs/BENCHMARKS.md."""
import datetime
import os
import pathlib
import statistics
import sys

from report_runtime import machine_line, write_section

BEGIN = "<!-- net:begin -->"
END = "<!-- net:end -->"


def echo_rounds(path):
    """{server: {metric: [values per round]}}"""
    rounds, server = {}, None
    for line in pathlib.Path(path).read_text().splitlines():
        key, _, value = line.partition(" ")
        if key == "server":
            server = value
            rounds.setdefault(server, {})
        elif server is not None and value:
            rounds[server].setdefault(key, []).append(float(value))
    return rounds


REQUESTS = 100 * 2000
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_us(server):
    return server["server_cpu_ticks"] / TICKS_PER_SECOND / REQUESTS * 1e6


def main():
    out, doc, command = sys.argv[1:4]
    round_count = sys.argv[4] if len(sys.argv) > 4 else "3"
    out = pathlib.Path(out)
    rounds = echo_rounds(out / "net_echo.txt")
    med = {s: {k: statistics.median(v) for k, v in m.items()} for s, m in rounds.items()}
    bulk = dict(line.split() for line in (out / "net_bulk.txt").read_text().splitlines())
    ours, asio = med["tiny_coro"], med["asio"]
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    rps_ratio = ours["requests_per_second"] / asio["requests_per_second"]
    bulk_ratio = float(bulk["tiny_coro_mb_s"]) / float(bulk["blocking_mb_s"])
    met = lambda ok: "met" if ok else "**not met**"
    section = [
        BEGIN,
        f"Command: `{command}` (echo: {round_count} alternating rounds per server, medians; the same load",
        "generator, bench/echo_load with 2 workers, drives both servers on the same 2 cores).",
        f"Machine: {machine_line({'num_cpus': 2, 'date': now})}.",
        "",
        "| echo, 64-byte messages, 100 connections | tiny_coro | Asio 1.81 | ratio | target |",
        "|---|---|---|---|---|",
        f"| requests/s | {ours['requests_per_second']:.0f} | {asio['requests_per_second']:.0f} | "
        f"{rps_ratio:.2f} | ≥ 1.5×: {met(rps_ratio >= 1.5)} |",
        f"| p50 round trip | {ours['p50_us']:.0f} µs | {asio['p50_us']:.0f} µs | "
        f"{ours['p50_us'] / asio['p50_us']:.2f} | - |",
        f"| p99 round trip | {ours['p99_us']:.0f} µs | {asio['p99_us']:.0f} µs | "
        f"{ours['p99_us'] / asio['p99_us']:.2f} | - |",
        f"| server CPU per request (user+sys) | {cpu_us(ours):.2f} µs | {cpu_us(asio):.2f} µs | "
        f"{cpu_us(ours) / cpu_us(asio):.2f} | - |",
    ]
    floor = med.get("floor")
    if floor:
        floor_ratio = floor["requests_per_second"] / asio["requests_per_second"]
        section += [
            "",
            "The kernel floor: bench/floor_server (one recv and one send per message and nothing else,",
            "2 threads, each with its own epoll and SO_REUSEPORT listener) in the same rounds. Its ratio",
            "to Asio bounds what any server can reach here.",
            "",
            "| echo | floor | floor / Asio | tiny_coro / floor |",
            "|---|---|---|---|",
            f"| requests/s | {floor['requests_per_second']:.0f} | {floor_ratio:.2f} | "
            f"{ours['requests_per_second'] / floor['requests_per_second']:.2f} |",
            f"| server CPU per request (user+sys) | {cpu_us(floor):.2f} µs | {cpu_us(floor) / cpu_us(asio):.2f} | "
            f"{cpu_us(ours) / cpu_us(floor):.2f} |",
        ]
    section += [
        "",
        "| bulk, 1 GiB over one connection | tiny_coro | blocking send/recv, 2 threads | ratio | target |",
        "|---|---|---|---|---|",
        f"| MB/s (median of 5) | {float(bulk['tiny_coro_mb_s']):.0f} | {float(bulk['blocking_mb_s']):.0f} | "
        f"{bulk_ratio:.2f} | ≥ 0.9×: {met(bulk_ratio >= 0.9)} |",
        END,
    ]
    write_section(doc, BEGIN, END, section, "## Network (issue 4)")
    print("\n".join(section))


if __name__ == "__main__":
    main()
