#!/usr/bin/env python3
"""Turns one run of bench/run_static.sh into the "tiny_httpd serving files" section of
docs/BENCHMARKS.md and docs/img/static_vs_nginx.png."""
import datetime
import os
import pathlib
import statistics
import subprocess
import sys

from report_runtime import bar_chart, machine_line, write_section

BEGIN = "<!-- static:begin -->"
END = "<!-- static:end -->"
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
# case: (title, what is compared, target ratio of tiny_httpd to nginx)
CASES = {
    "i": ("(i) 13 B file, 1 core each, 1 worker, 64 connections", "req/s", 1.3),
    "ii": ("(ii) 13 B file, unpinned, 2 workers, 256 connections", "req/s", 1.3),
    "iii": ("(iii) as (i), 16 requests pipelined", "req/s", 5.0),
    "mix": ("site mix: 200 files 1 KiB-1 MiB, Zipf, 10% conditional; 2 workers, 64 conns",
            "req/s", 1.2),
    "1m": ("1 MiB file, 2 workers, 16 connections", "GB/s", 1.0),
    "1g": ("1 GiB file, 2 workers, 4 connections", "GB/s", 1.0),
}


def fields(line):
    words = line.split()
    return {words[i]: words[i + 1] for i in range(0, len(words) - 1, 2)}


def met(ok):
    return "met" if ok else "**not met**"


def main():
    out, doc, command = sys.argv[1:4]
    out = pathlib.Path(out)
    runs, fresh = {}, {}
    for line in (out / "static.txt").read_text().splitlines():
        if line.startswith("case "):
            f = fields(line)
            m = runs.setdefault((f["case"], f["server"]), {})
            requests = float(f["requests"])
            m.setdefault("rps", []).append(float(f["rps"]))
            m.setdefault("gbps", []).append(float(f["bytes_per_s"]) / 1e9)
            m.setdefault("p99", []).append(float(f["p99_us"]))
            m.setdefault("cpu_us", []).append(
                float(f["cpu_ticks"]) / TICKS_PER_SECOND / max(requests, 1) * 1e6)
            m.setdefault("bad", []).append(float(f["bad"]))
        elif line.startswith("fresh "):
            f = fields(line[6:])
            fresh[(f["server"], f["change"])] = (int(f["stale"]), int(f["rounds"]))
    med = {k: {m: statistics.median(v) for m, v in d.items()} for k, d in runs.items()}
    rounds = min((len(d["rps"]) for d in runs.values()), default=0)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    nginx_version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    section = [
        BEGIN,
        f"Command: `{command}` (wrk: {rounds} alternating rounds of 10 s per server and case,",
        "medians; server CPU is user+sys from /proc over each round). Peer: "
        f"{nginx_version} serving the same root",
        "with `sendfile on; tcp_nopush on; open_file_cache max=1000 inactive=60s;",
        "open_file_cache_valid 60s;`, access log off; tiny_httpd with `--quiet` and its default",
        "32 MiB cache.",
        f"Machine: {machine_line({'num_cpus': 2, 'date': now})}.",
        "",
        "| case | tiny_httpd | nginx | ratio | target | p99 tiny / nginx | CPU per request tiny / nginx "
        "| CPU ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    chart = []
    floor_rows = []
    for case, (title, unit, target) in CASES.items():
        t, n = med.get((case, "tiny_httpd")), med.get((case, "nginx"))
        if not t or not n:
            continue
        key = "gbps" if unit == "GB/s" else "rps"
        ratio = t[key] / n[key]
        cpu_ratio = t["cpu_us"] / n["cpu_us"]
        goal = f"≥ {target}×: {met(ratio >= target)}"
        if case == "i":
            goal += f"; CPU ≤ 0.7×: {met(cpu_ratio <= 0.7)}"
        if case == "mix":
            goal += f"; p99 ≤ nginx: {met(t['p99'] <= n['p99'])}"
        value = (lambda m: f"{m[key]:.2f} GB/s") if key == "gbps" else (lambda m: f"{m[key]:.0f} req/s")
        p99 = "n/a (pipelined)" if case == "iii" else f"{t['p99']:.0f} / {n['p99']:.0f} µs"
        bad = "" if t["bad"] == 0 and n["bad"] == 0 else f" (non-2xx/3xx: {t['bad']:.0f} / {n['bad']:.0f})"
        section.append(f"| {title} | {value(t)} | {value(n)}{bad} | {ratio:.2f} | {goal} | {p99} | "
                       f"{t['cpu_us']:.2f} / {n['cpu_us']:.2f} µs | {cpu_ratio:.2f} |")
        f = med.get((case, "floor"))
        if f:
            floor_rows.append((title, key, f[key] / n[key], f["cpu_us"], t["cpu_us"] / f["cpu_us"],
                               f["p99"], target, n["p99"]))
        chart.append((case, ratio, f[key] / n[key] if f else 0.0))
    if floor_rows:
        section += [
            "",
            "The floor: bench/floor_server in the same rounds (files mode: every file opened at start,",
            "one recv, the head with MSG_MORE and one sendfile per request, no freshness, no",
            "conditions; its canned 13-byte answer for the 13-byte cases). Its ratio to nginx bounds",
            "what any server can reach here: where the floor sits near 1, the client (wrk, on the same",
            "two cores) and the kernel's copies are the limit, not the server.",
            "",
            "| case | floor / nginx | target within the floor's reach? | floor p99 | floor CPU per request "
            "| tiny_httpd / floor CPU |",
            "|---|---|---|---|---|---|",
        ]
        for title, key, ratio, cpu, tiny_over_floor, p99, target, nginx_p99 in floor_rows:
            reach = "yes" if ratio >= target else f"no: {target}× lies above the floor's {ratio:.2f}×"
            if title.startswith("site mix") and p99 > nginx_p99:
                reach += f"; the floor's p99 is above nginx's too ({p99:.0f} / {nginx_p99:.0f} µs)"
            section.append(f"| {title} | {ratio:.2f} | {reach} | {p99:.0f} µs | {cpu:.2f} µs | "
                           f"{tiny_over_floor:.2f} |")
    if fresh:
        section += [
            "",
            "Never stale: freshness_check.py warms a file (two GETs), changes it, waits 10 ms and",
            "asks again, 20 rounds per change. Stale: the old bytes, or a 304 to a client that",
            "revalidates with the old ETag.",
            "",
            "| change | tiny_httpd stale | nginx (open_file_cache) stale |",
            "|---|---|---|",
        ]
        for change in ("in_place", "renamed_over", "deleted"):
            t = fresh.get(("tiny_httpd", change))
            n = fresh.get(("nginx", change))
            if t and n:
                section.append(f"| {change.replace('_', ' ')} | {t[0]} of {t[1]} | {n[0]} of {n[1]} |")
    section += ["", "![tiny_httpd / nginx, each case](img/static_vs_nginx.png)", END]
    if chart:
        bar_chart(chart, out / "static_chart.dat", pathlib.Path(doc).parent / "img" / "static_vs_nginx.png",
                  "Serving files: requests/s (or GB/s) as a multiple of nginx (higher is better)",
                  "multiple of nginx", "top right", peer="floor_server", log_scale=True,
                  ours="tiny_httpd")
    write_section(doc, BEGIN, END, section, "## tiny_httpd serving files (issue: tiny_httpd vs nginx)")
    print("\n".join(section))


if __name__ == "__main__":
    main()
