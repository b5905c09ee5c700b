#!/usr/bin/env python3
"""Turns one run of bench/run_http.sh into the http section of docs/BENCHMARKS.md and
docs/img/http_vs_nginx.png."""
import datetime
import json
import os
import pathlib
import statistics
import subprocess
import sys

from report_runtime import bar_chart, machine_line, write_section

BEGIN = "<!-- http:begin -->"
END = "<!-- http:end -->"
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
CASES = {
    "i": "(i) 1 core each, 1 worker, 64 connections",
    "ii": "(ii) unpinned, 2 workers, 256 connections",
    "iii": "(iii) as (i), 16 requests pipelined",
}
TARGETS = {"i": 1.0, "ii": 1.1, "iii": 1.5}


def fields(line):
    words = line.split()
    return {words[i]: words[i + 1] for i in range(0, len(words) - 1, 2)}


def met(ok):
    return "met" if ok else "**not met**"


def parser_rows(path):
    data = json.loads(pathlib.Path(path).read_text())
    rows = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            rows[b["run_name"]] = (b["real_time"], b.get("bytes_per_second", 0) / 1e9, b.get("label", ""))
    return rows


def main():
    out, doc, command = sys.argv[1:4]
    out = pathlib.Path(out)
    lines = (out / "http.txt").read_text().splitlines()
    wrk = {}  # (case, server) -> {metric: [values]}
    idle, uploads = {}, {"limit": [], "tiny_httpd": [], "rss": []}
    for line in lines:
        if line.startswith("case "):
            f = fields(line)
            m = wrk.setdefault((f["case"], f["server"]), {})
            requests = float(f["requests"])
            m.setdefault("rps", []).append(float(f["rps"]))
            m.setdefault("p99", []).append(float(f["p99_us"]))
            m.setdefault("cpu_us", []).append(float(f["cpu_ticks"]) / TICKS_PER_SECOND / requests * 1e6)
            m.setdefault("bad", []).append(float(f["bad"]))
        elif line.startswith("idle "):
            f = fields(line[5:])
            idle[f["server"]] = (int(f["loaded_kib"]) - int(f["base_kib"])) * 1024 / int(f["connections"])
        elif line.startswith("upload limit"):
            uploads["limit"].append(float(fields(line.split(" ", 2)[2])["MB/s"]))
        elif line.startswith("upload tiny_httpd"):
            f = fields(line.split(" ", 2)[2])
            uploads["tiny_httpd"].append(float(f["MB/s"]))
            uploads["rss"].append(int(f["peak_rss_kib"]))
    med = {k: {m: statistics.median(v) for m, v in d.items()} for k, d in wrk.items()}
    rounds = min((len(d["rps"]) for d in wrk.values()), default=0)
    parser = parser_rows(out / "http_parser.json")
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    nginx_version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()

    section = [
        BEGIN,
        f"Command: `{command}` (wrk: {rounds} alternating rounds of 10 s per server and case, medians;",
        f"server CPU is user+sys from /proc over each round). Peer: {nginx_version} (nginx-light,",
        '`return 200 "Hello, World!"`, access log off) against bench/http_hello_server (HttpServer,',
        "one route).",
        f"Machine: {machine_line({'num_cpus': 2, 'date': now})}.",
        "",
        "| parser | time per request | GB/s | scanner | target |",
        "|---|---|---|---|---|",
    ]
    browser = parser.get("BM_parse_browser_request")
    minimal = parser.get("BM_parse_minimal_request")
    chunked = parser.get("BM_decode_chunked_64k")
    if browser:
        section.append(f"| browser request (703 B) | {browser[0]:.0f} ns | {browser[1]:.2f} | {browser[2]} | "
                       f"≤ 120 ns: {met(browser[0] <= 120)} |")
    if minimal:
        section.append(f"| `GET / HTTP/1.1` (18 B) | {minimal[0]:.1f} ns | {minimal[1]:.2f} | {minimal[2]} | - |")
    if chunked:
        section.append(f"| chunked body, 64 KiB in 4 KiB chunks (with a copy) | {chunked[0]:.0f} ns | "
                       f"{chunked[1]:.1f} | - | - |")
    section += [
        "",
        "| plaintext | tiny_coro req/s | nginx req/s | ratio | target | p99 tiny / nginx | "
        "CPU per request tiny / nginx | CPU ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    chart = []
    for case, title in CASES.items():
        t, n = med.get((case, "tiny_coro")), med.get((case, "nginx"))
        if not t or not n:
            continue
        ratio = t["rps"] / n["rps"]
        cpu_ratio = t["cpu_us"] / n["cpu_us"]
        target = f"≥ {TARGETS[case]}×: {met(ratio >= TARGETS[case])}"
        if case == "i":
            target += f"; CPU ≤ 0.8×: {met(cpu_ratio <= 0.8)}"
        if case == "iii":
            # wrk times a pipelined batch only as a whole and printed 0 for tiny_coro's
            # batches: no comparable p99 here.
            p99_cell = f"n/a (wrk printed {t['p99']:.0f} / {n['p99']:.0f} µs)"
        else:
            p99_cell = f"{t['p99']:.0f} / {n['p99']:.0f} µs (no worse: {met(t['p99'] <= n['p99'])})"
        section.append(
            f"| {title} | {t['rps']:.0f} | {n['rps']:.0f} | {ratio:.2f} | {target} | {p99_cell} | "
            f"{t['cpu_us']:.2f} / {n['cpu_us']:.2f} µs | {cpu_ratio:.2f} |")
        chart.append((case, t["rps"], n["rps"]))
    section.append("")
    floor_rows = [(case, title, med[(case, "floor")], med[(case, "nginx")], med[(case, "tiny_coro")])
                  for case, title in CASES.items()
                  if (case, "floor") in med and (case, "nginx") in med and (case, "tiny_coro") in med]
    if floor_rows:
        section += [
            "The kernel floor: bench/floor_server, one recv and one send per request and nothing else,",
            "in the same rounds. Its ratios to nginx bound what any server can reach here.",
            "",
            "| plaintext | floor req/s | floor / nginx req/s | floor CPU per request | floor / nginx CPU | "
            "tiny_coro / floor CPU |",
            "|---|---|---|---|---|---|",
        ]
        for case, title, f, n, t in floor_rows:
            section.append(f"| {title} | {f['rps']:.0f} | {f['rps'] / n['rps']:.2f} | {f['cpu_us']:.2f} µs | "
                           f"{f['cpu_us'] / n['cpu_us']:.2f} | {t['cpu_us'] / f['cpu_us']:.2f} |")
        section.append("")
    if idle:
        t, n = idle.get("tiny_coro", 0), idle.get("nginx", 0)
        section += [
            "| memory per idle keep-alive connection (RSS growth / 10,000) | tiny_coro | nginx | target |",
            "|---|---|---|---|",
            f"| bytes | {t:.0f} | {n:.0f} | ≤ 512: {met(t <= 512)} |",
            "",
        ]
    if uploads["limit"] and uploads["tiny_httpd"]:
        limit = statistics.median(uploads["limit"])
        ours = statistics.median(uploads["tiny_httpd"])
        rss = max(uploads["rss"]) / 1024
        section += [
            "| upload, 1 GiB PUT (5 alternating rounds, medians) | tiny_httpd | loopback+disk limit "
            "(blocking recv/write sink) | ratio | target |",
            "|---|---|---|---|---|",
            f"| MB/s | {ours:.0f} | {limit:.0f} | {ours / limit:.2f} | ≥ 0.95×: {met(ours / limit >= 0.95)} |",
            f"| server peak RSS | {rss:.1f} MiB | - | - | ≤ 16 MiB: {met(rss <= 16)} |",
            "",
        ]
    section.append("![requests per second, tiny_coro and nginx](img/http_vs_nginx.png)")
    section.append(END)

    if chart:
        bar_chart(chart, out / "http_chart.dat", pathlib.Path(doc).parent / "img" / "http_vs_nginx.png",
                  "HTTP plaintext, requests/s (wrk, higher is better)", "requests/s", "top left",
                  peer="nginx 1.22", log_scale=False)
    write_section(doc, BEGIN, END, section, "## HTTP (issue: HTTP/1.1 and tiny_httpd)")
    print("\n".join(section))


if __name__ == "__main__":
    main()
