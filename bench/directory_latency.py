#!/usr/bin/env python3
"""bench/directory_latency.py - the service directory through a running linlid, as users reach it.

One keep-alive connection, requests one after another (the latency one user
sees), each timed from send to the last byte. The origins and the answers to
expect come from the EXPECTED.json that directory_bench wrote from
directory_search on the same database:

  - GET /api/v1/facilities?near=LAT,LON&limit=10 (anonymous, as a resident
    asks; the API's default walk of 15 minutes applies, so the answer is the
    first 10 of the within-15 answer);
  - GET /api/v1/facilities?near=LAT,LON&minutes=15&limit=200 (anonymous);
  - GET /api/v1/reports/coverage?service=meals&minutes=15&level=street as the
    admin, a few times.

  directory_latency.py HOST:PORT TOKEN EXPECTED.json [--coverage-runs 3]

Prints markdown: a table of the searches and one of the coverage report.
"""
import argparse
import http.client
import json
import statistics
import time

WARMUP = 20


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def get(conn, path, headers):
    t0 = time.perf_counter()
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    ms = (time.perf_counter() - t0) * 1000
    if r.status != 200:
        raise SystemExit(f"{path}: {r.status} {body[:300]!r}")
    return ms, body


def search(conn, origins, path_of, expect_of):
    times, sizes, same = [], [], 0
    for o in origins:
        ms, body = get(conn, path_of(o), {})
        times.append(ms)
        sizes.append(len(body))
        ids = [item["id"] for item in json.loads(body)["items"]]
        same += ids == expect_of(o)
    return sorted(times), sizes, same


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("token")
    ap.add_argument("expected")
    ap.add_argument("--coverage-runs", type=int, default=3)
    args = ap.parse_args()
    with open(args.expected, encoding="utf-8") as f:
        expected = json.load(f)
    origins = expected["origins"]
    host, port = args.addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=600)

    # repr() of a float is the shortest text that reads back as the same double.
    kinds = [
        ("`?near=LAT,LON&limit=10` (nearest 10 within the default 15 minutes)",
         lambda o: f"/api/v1/facilities?near={o['lat']!r},{o['lon']!r}&limit=10",
         lambda o: o["within"][:10]),
        ("`?near=LAT,LON&minutes=15&limit=200` (within 15 minutes)",
         lambda o: f"/api/v1/facilities?near={o['lat']!r},{o['lon']!r}&minutes=15&limit=200",
         lambda o: o["within"]),
    ]
    for _, path_of, expect_of in kinds:  # warm-up, not counted
        search(conn, origins[:WARMUP], path_of, expect_of)
    print("| GET /api/v1/facilities | requests | p50 ms | p99 ms | mean ms | mean bytes "
          "| answers identical to directory_search |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, path_of, expect_of in kinds:
        times, sizes, same = search(conn, origins, path_of, expect_of)
        print(f"| {name} | {len(times)} | {percentile(times, 50):.2f} | "
              f"{percentile(times, 99):.2f} | {statistics.fmean(times):.2f} | "
              f"{statistics.fmean(sizes):,.0f} | {same} of {len(times)} |", flush=True)

    want = expected["coverage"]
    path = "/api/v1/reports/coverage?service=meals&minutes=15&level=street"
    runs, got = [], None
    for _ in range(args.coverage_runs):
        ms, body = get(conn, path, {"Authorization": "Bearer " + args.token})
        runs.append(ms / 1000)
        got = json.loads(body)["total"]
    agree = all(got[k] == want[k] for k in ("elderly", "located", "covered"))
    print()
    print("| GET /api/v1/reports/coverage | runs | seconds (median) | each run | covered | "
          "same totals as directory_coverage |")
    print("|---|---:|---:|---|---:|---|")
    print(f"| `?service=meals&minutes=15&level=street` | {len(runs)} | "
          f"{statistics.median(runs):.2f} | {' / '.join(f'{r:.2f}' for r in runs)} | "
          f"{got['covered']:,} of {got['located']:,} | {'yes' if agree else 'NO'} |")
    conn.close()


if __name__ == "__main__":
    main()
