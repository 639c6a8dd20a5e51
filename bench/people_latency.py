#!/usr/bin/env python3
"""bench/people_latency.py - search latency of GET /api/v1/people through a running linlid.

One keep-alive connection, requests one after another (no concurrency: this
is the latency a single operator sees), each timed from send to the last byte.
The queries come from the OUT.queries.json that people_gen.py wrote, so they
name people, ID numbers and communities that exist.

  people_latency.py HOST:PORT TOKEN QUERIES.json [--requests 2000] [--seed 1]

Prints one markdown table row per kind:
  | kind | requests | p50 ms | p99 ms | mean ms | mean items |
"""
import argparse
import http.client
import json
import random
import statistics
import time
from urllib.parse import quote


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def run(conn, token, paths):
    times, items = [], []
    headers = {"Authorization": "Bearer " + token}
    for path in paths:
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        times.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            raise SystemExit(f"{path}: {r.status} {body[:300]!r}")
        items.append(len(json.loads(body)["items"]))
    return sorted(times), items


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("token")
    ap.add_argument("queries")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with open(args.queries, encoding="utf-8") as f:
        q = json.load(f)
    n = args.requests
    three = [s for s in q["names"] if len(s) >= 3] or q["names"]
    kinds = {
        "name, 3+ characters (trigram index)":
            [f"/api/v1/people?q={quote(rng.choice(three))}" for _ in range(n)],
        "name, 2 characters (substring)":
            [f"/api/v1/people?q={quote(rng.choice(q['names'])[-2:])}" for _ in range(n)],
        "name, 1 character (substring)":
            [f"/api/v1/people?q={quote(rng.choice(rng.choice(q['names'])))}" for _ in range(n)],
        "id_number":
            [f"/api/v1/people?id_number={rng.choice(q['id_numbers'])}" for _ in range(n)],
        "community (first page of 50)":
            [f"/api/v1/people?community={rng.choice(q['communities'])}" for _ in range(n)],
    }
    host, port = args.addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    # Warm the connection and the page cache a little; not counted.
    run(conn, args.token, [p for paths in kinds.values() for p in paths[:20]])
    print("| query | requests | p50 ms | p99 ms | mean ms | mean items |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind, paths in kinds.items():
        times, items = run(conn, args.token, paths)
        print(f"| {kind} | {len(times)} | {percentile(times, 50):.2f} | "
              f"{percentile(times, 99):.2f} | {statistics.fmean(times):.2f} | "
              f"{statistics.fmean(items):.1f} |", flush=True)
    conn.close()


if __name__ == "__main__":
    main()
