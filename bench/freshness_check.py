#!/usr/bin/env python3
"""Is a server ever stale? (SPEC.md §3: a change is served to every request that arrives
10 ms or more after it.) For PORT serving ROOT: warm a file (two GETs), change it, wait
10 ms, GET it again — 20 rounds of each change. Prints one line per change with the number
of stale answers: old bytes, or 304 to a client revalidating with the old ETag."""
import http.client
import os
import sys
import time

port, root = int(sys.argv[1]), sys.argv[2]
ROUNDS = 20


def get(path, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, response.getheader("ETag"), body


def warm(path):
    for _ in range(2):
        get(path)


def in_place(round_):
    path = os.path.join(root, "fresh_in_place.txt")
    if round_ == 0:
        with open(path, "wb") as f:
            f.write(b"version-00")
    warm("/fresh_in_place.txt")
    _, old_etag, _ = get("/fresh_in_place.txt")
    new = b"version-%02d" % (round_ + 1)
    with open(path, "r+b") as f:  # same inode, same size, same second
        f.write(new)
    time.sleep(0.010)
    status, _, body = get("/fresh_in_place.txt")
    revalidated, _, _ = get("/fresh_in_place.txt", {"If-None-Match": old_etag or '"none"'})
    return body != new or revalidated == 304


def renamed_over(round_):
    path = os.path.join(root, "fresh_renamed.txt")
    if round_ == 0:
        with open(path, "wb") as f:
            f.write(b"renamed-00")
    warm("/fresh_renamed.txt")
    new = b"renamed-%02d" % (round_ + 1)
    with open(path + ".tmp", "wb") as f:
        f.write(new)
    os.rename(path + ".tmp", path)
    time.sleep(0.010)
    _, _, body = get("/fresh_renamed.txt")
    return body != new


def deleted(round_):
    path = os.path.join(root, "fresh_deleted.txt")
    with open(path, "wb") as f:
        f.write(b"here")
    time.sleep(0.010)
    warm("/fresh_deleted.txt")
    os.remove(path)
    time.sleep(0.010)
    status, _, _ = get("/fresh_deleted.txt")
    return status != 404


for name, change in (("in_place", in_place), ("renamed_over", renamed_over), ("deleted", deleted)):
    stale = sum(1 for r in range(ROUNDS) if change(r))
    print(f"change {name} stale {stale} rounds {ROUNDS}")
