#!/usr/bin/env python3
"""bench/cases_latency.py - list, search and figures latency through a running linlid.

One keep-alive connection, requests one after another (the latency one member
of staff sees), each timed from send to the last byte. The texts, communities
and streets come from the QUERIES.json that `cases_bench gen` wrote, so they
exist in the data.

  cases_latency.py HOST:PORT ADMIN_TOKEN STREET_TOKEN QUERIES.json [--requests 1000]
                   [--report-runs 3] [--seed 1]

Prints two markdown tables: list and search (p50, p99, mean, mean items), and
the figures (each report asked --report-runs times: median and every run).
"""
import argparse
import http.client
import json
import random
import statistics
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

SHANGHAI = timezone(timedelta(hours=8))


def percentile(sorted_values, p):
    """Nearest rank: the ceil(p/100 * n)-th of n sorted values."""
    if not sorted_values:
        return float("nan")
    k = max(1, -(-p * len(sorted_values) // 100))
    return sorted_values[k - 1]


def get(conn, token, path):
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": "Bearer " + token})
    r = conn.getresponse()
    body = r.read()
    ms = (time.perf_counter() - t0) * 1000
    if r.status != 200:
        raise SystemExit(f"{path}: {r.status} {body[:300]!r}")
    return ms, json.loads(body)


def run(conn, token, paths):
    times, items = [], []
    for path in paths:
        ms, b = get(conn, token, path)
        times.append(ms)
        items.append(len(b["items"]))
    return sorted(times), items


def month_start(dt):
    return dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def rfc(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("admin_token")
    ap.add_argument("street_token")
    ap.add_argument("queries")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--report-runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with open(args.queries, encoding="utf-8") as f:
        q = json.load(f)
    n = args.requests
    admin, street = args.admin_token, args.street_token

    def paths(make):
        return [make() for _ in range(n)]

    def search(**p):
        return "/api/v1/cases/search?" + urlencode(dict(p, limit=50))

    def lst(**p):
        return "/api/v1/cases?" + urlencode(dict(p, limit=50))

    kinds = [
        ("list, newest first (GET /api/v1/cases)", admin, paths(lambda: lst())),
        ("list, one community (?area=)", admin,
         paths(lambda: lst(area=rng.choice(q["communities"])))),
        ("list, one street and category (?area=&category=)", admin,
         paths(lambda: lst(area=rng.choice(q["streets"]), category=rng.choice(q["categories"])))),
        ("list, as street staff (their street's cases)", street, paths(lambda: lst())),
        ("search, 3+ characters (trigram index)", admin,
         paths(lambda: search(q=rng.choice(q["three"])))),
        ("search, 3+ characters in one street (?q=&area=)", admin,
         paths(lambda: search(q=rng.choice(q["three"]), area=rng.choice(q["streets"])))),
        ("search, 2 characters (LIKE over at most 20,000 cases)", admin,
         paths(lambda: search(q=rng.choice(q["two"])))),
        ("search, 1 character (LIKE over at most 20,000 cases)", admin,
         paths(lambda: search(q=rng.choice(q["one"])))),
        ("search, 3+ characters, as street staff", street,
         paths(lambda: search(q=rng.choice(q["three"])))),
    ]
    host, port = args.addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=300)
    # Warm the connection and the page cache a little; not counted.
    for _, tok, ps in kinds:
        run(conn, tok, ps[:20])
    print("| request | requests | p50 ms | p99 ms | mean ms | mean items |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind, tok, ps in kinds:
        times, items = run(conn, tok, ps)
        print(f"| {kind} | {len(times)} | {percentile(times, 50):.2f} | "
              f"{percentile(times, 99):.2f} | {statistics.fmean(times):.2f} | "
              f"{statistics.fmean(items):.1f} |", flush=True)

    now = datetime.now(SHANGHAI)
    this_month = month_start(now)
    last_month = month_start(this_month - timedelta(days=1))
    reports = [
        ("figures, current month (default), admin", admin, "/api/v1/reports/cases"),
        ("figures, last whole month, admin", admin,
         "/api/v1/reports/cases?" + urlencode({"from": rfc(last_month), "to": rfc(this_month)})),
        ("figures, last 366 days, admin", admin,
         "/api/v1/reports/cases?" + urlencode({"from": rfc(now - timedelta(days=366)),
                                                "to": rfc(now)})),
        ("figures, current month, street staff", street, "/api/v1/reports/cases"),
        ("recurring problems, last whole month, top 10", admin,
         "/api/v1/reports/cases/recurring?" + urlencode({"month": last_month.strftime("%Y-%m")})),
    ]
    print()
    print("| report | units | received | ms (median) | runs (ms) |")
    print("|---|---:|---:|---:|---|")
    for what, tok, path in reports:
        times, body = [], None
        for _ in range(args.report_runs):
            ms, body = get(conn, tok, path)
            times.append(ms)
        if "units" in body:
            units, received = len(body["units"]), body["totals"]["received"]
        else:
            units, received = "-", sum(i["count"] for i in body["items"])
        print(f"| {what} | {units} | {received} | {statistics.median(times):.0f} | "
              f"{' / '.join(f'{t:.0f}' for t in times)} |", flush=True)
    conn.close()


if __name__ == "__main__":
    main()
