#!/usr/bin/env python3
"""One wrk --latency run as a results line for report_http.py / report_static.py:
parse_wrk.py CASE SERVER CPU_TICKS WRK_OUTPUT"""
import re
import sys

case, name, ticks, path = sys.argv[1:5]
text = open(path).read()
units = {"us": 1, "ms": 1e3, "s": 1e6}
sizes = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
requests = re.search(r"(\d+) requests in", text).group(1)
rps = re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)
transfer = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", text)
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
socket_errors = re.search(r"Socket errors: (.*)", text)
print(f"case {case} server {name} rps {rps} p99_us {float(p99.group(1)) * units[p99.group(2)]:.1f} "
      f"requests {requests} cpu_ticks {ticks} "
      f"bytes_per_s {float(transfer.group(1)) * sizes[transfer.group(2)]:.0f} "
      f"bad {errors.group(1) if errors else 0} socket_errors {'yes' if socket_errors else 'no'}")
