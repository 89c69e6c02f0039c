"""Benchmark: the export writer (backend/exports/writer.py) against a bare openpyxl write-only loop, and its memory at
N against 10 N rows (issue 12: rows/s >= 0.5x the bare loop; RSS(1M) <= 1.2x RSS(100k)). Prints ratios, asserts
nothing.

    .venv/bin/python bench/exports.py                 # small: 20,000 rows; RSS at 20k vs 200k
    .venv/bin/python bench/exports.py --rows 100000   # the goal's sizes: RSS at 100k vs 1M

Rows look like the roster export's (11 columns: names, dates, masked numbers). Throughput: the same in-memory rows
written --repeat times by each, interleaved, medians. Memory: each size in a fresh subprocess that generates its rows
lazily (as the worker reads them from the database in batches) and reports its peak RSS (ru_maxrss).
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEADER = ["姓名", "性别", "出生日期", "服务站", "网格", "网格员", "状态", "身份证号", "手机号", "安置日期", "党员"]


def make_rows(n):
    """A generator of n roster-like rows (deterministic, no personal data)."""
    base = date(1960, 1, 1)
    for i in range(n):
        yield [
            f"老兵{i:07d}",
            "男" if i % 3 else "女",
            base + timedelta(days=i % 15000),
            f"第{i % 4000}服务站",
            f"第{i % 7}网格",
            f"网格员{i % 900}",
            "在册",
            f"320102********{i % 10000:04d}",
            f"138****{i % 10000:04d}",
            base + timedelta(days=20000 + i % 3000),
            "是" if i % 5 == 0 else "否",
        ]


def write_with_exporter(path, rows):
    from backend.exports.writer import write_workbook

    return write_workbook(path, title="退役军人名册", header=HEADER, rows=iter(rows), sheet_rows=500_000)


def write_bare(path, rows):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("退役军人名册")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)


def throughput(n, repeat):
    rows = list(make_rows(n))
    times = {"exporter": [], "bare": []}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeat):  # interleaved, so drift hits both alike
            for name, fn in (("exporter", write_with_exporter), ("bare", write_bare)):
                started = time.perf_counter()
                fn(Path(folder) / f"{name}.xlsx", rows)
                times[name].append(time.perf_counter() - started)
    return {name: n / statistics.median(values) for name, values in times.items()}


def child(n):
    """Run in a fresh process: stream n lazily generated rows through the exporter; print the peak RSS in KiB."""
    with tempfile.TemporaryDirectory() as folder:
        write_with_exporter(Path(folder) / "rss.xlsx", make_rows(n))
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def peak_rss(n):
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(n)], capture_output=True, text=True, check=True, env=os.environ.copy()
    )
    return int(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows for throughput; RSS compares rows and 10x rows")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    from openpyxl.xml import LXML

    print(f"export writer benchmark: lxml={'yes' if LXML else 'NO (install lxml)'}")
    # Memory first: a child's ru_maxrss starts from this process's at fork, so measure before the in-memory rows exist.
    small, large = args.rows, args.rows * 10
    rss_small, rss_large = peak_rss(small), peak_rss(large)
    rate = throughput(args.rows, args.repeat)
    ratio = rate["exporter"] / rate["bare"]
    print(f"rows/s over {args.rows:,} rows (median of {args.repeat}):")
    print(f"  exporter {rate['exporter']:>10,.0f}   bare write-only loop {rate['bare']:>10,.0f}   ratio {ratio:.2f}x")
    print("  goal: >= 0.5x")
    print("peak RSS, each in a fresh process (rows generated lazily):")
    print(f"  {small:>9,} rows {rss_small / 1024:8.1f} MiB   {large:>9,} rows {rss_large / 1024:8.1f} MiB")
    print(f"  ratio {rss_large / rss_small:.2f}x   goal: <= 1.2x")


if __name__ == "__main__":
    main()
