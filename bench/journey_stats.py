"""bench/journeys.py's arithmetic: the request log, figures per stage, the overload and recovery, the footprint."""

import os
import time
import urllib.request
from pathlib import Path


def loadavg():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def wait_for(url, process, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("journeys: gunicorn exited at start; see its log")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"journeys: gunicorn did not answer {url} within {seconds} s")


def read_log(path):
    """[(start, latency_ms, status, ok, name)] from bench/locustfile.py's JOURNEY_LOG."""
    rows = []
    if not Path(path).exists():
        return rows
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split(" ", 4)
        if len(parts) == 5:
            rows.append((float(parts[0]), float(parts[1]), int(parts[2]), parts[3] == "1", parts[4]))
    return rows


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def summarize(rows, seconds):
    latencies = [row[1] for row in rows]
    return {
        "requests": len(rows),
        "rps": round(len(rows) / max(seconds, 1e-9), 1),
        "p50": round(percentile(latencies, 50), 1),
        "p95": round(percentile(latencies, 95), 1),
        "max": round(max(latencies, default=0.0), 1),
        "errors": sum(1 for row in rows if not row[3]),
        "5xx": sum(1 for row in rows if row[2] >= 500 or row[2] == 0),
        "503": sum(1 for row in rows if row[2] == 503),
    }


def _bounds(first, stages):
    """(users, start, end) of each stage, from the first request's time (Locust starts the shape just before it)."""
    out, at = [], first
    for users, seconds in stages:
        out.append((users, at, at + seconds))
        at += seconds
    return out


def per_stage(rows, started, stages, settle=10):
    """Figures of each stage, leaving out its first `settle` seconds (users spawning, pools warming)."""
    first = min((row[0] for row in rows), default=started)
    table = []
    for users, start, end in _bounds(first, stages):
        chosen = [row for row in rows if start + settle <= row[0] < end]
        table.append({"users": users, **summarize(chosen, end - start - settle)})
    return table


def overload(rows, started, stages, goal_ms):
    """The heavy stage's figures and the recovery after the drop: seconds from the drop until every later second's
    p95 (by request start) stays under `goal_ms` (0 when it never went over)."""
    first = min((row[0] for row in rows), default=started)
    (heavy_users, h_start, h_end), (light_users, l_start, l_end) = _bounds(first, stages)
    heavy = [row for row in rows if h_start <= row[0] < h_end]
    figures = {"users": heavy_users, **summarize(heavy, h_end - h_start)}
    figures["5xx share %"] = round(100 * figures["5xx"] / max(figures["requests"], 1), 3)
    seconds = {}
    for row in rows:
        if l_start <= row[0] < l_end:
            seconds.setdefault(int(row[0] - l_start), []).append(row[1])
    bad = [s for s, latencies in seconds.items() if percentile(latencies, 95) >= goal_ms]
    last = max(seconds, default=0)
    figures["recovery s"] = (max(bad) + 1) if bad else 0
    figures["recovered"] = not bad or max(bad) < last - 4  # at least 5 good seconds at the end
    tail = (l_end - l_start) / 2  # the second half of the light stage
    figures["after drop"] = {"users": light_users, **summarize([r for r in rows if l_end - tail <= r[0] < l_end], tail)}
    figures["max overall ms"] = round(max((row[1] for row in rows), default=0.0), 1)
    return figures


def _children(pid):
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(p) for p in task.read_text().split()]
        except OSError:
            pass
    return found


def _tree(pid):
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += _children(current)
    return out


def _by_comm(prefix):
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip().startswith(prefix):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def _memory_kb(pid):
    """(RSS, PSS) in kB: RSS from /proc/<pid>/status, PSS from smaps_rollup (0 when not readable)."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class Footprint:
    """Samples every 2 s: RSS and PSS per group (gunicorn, celery: the process trees; redis, postgres: by name)."""

    def __init__(self, pids):
        self.pids, self.stop, self.samples = pids, False, []

    def sample(self):
        groups = {name: _tree(pid) for name, pid in self.pids.items()}
        groups["redis"] = _by_comm("redis-server")
        groups["postgres"] = _by_comm("postgres")
        row = {}
        for name, pids in groups.items():
            pairs = [_memory_kb(pid) for pid in pids]
            row[name] = (sum(p[0] for p in pairs) / 1024, sum(p[1] for p in pairs) / 1024, len(pids))
        return row

    def run(self):
        while not self.stop:
            self.samples.append(self.sample())
            time.sleep(2)

    def summary(self):
        """The peak of the total (MB) by RSS and by PSS, with that sample's groups."""
        if not self.samples:
            return {}
        by_rss = max(self.samples, key=lambda row: sum(v[0] for v in row.values()))
        by_pss = max(self.samples, key=lambda row: sum(v[1] for v in row.values()))
        return {
            "peak total RSS MB": round(sum(v[0] for v in by_rss.values())),
            "peak total PSS MB": round(sum(v[1] for v in by_pss.values())),
            "groups at RSS peak (RSS MB, PSS MB, processes)": {
                k: (round(v[0]), round(v[1]), v[2]) for k, v in by_rss.items()
            },
            "samples": len(self.samples),
        }


def print_report(report):
    print("\n== journeys ==")
    for row in report.get("steps", []):
        print(f"  step {row['users']:>4} users: {row}")
    print(f"  held at p95 < 500 ms, 0 errors: {report.get('held')}")
    print(f"  saturating users: {report.get('saturating users')}")
    print(f"  spike: {report.get('spike')}")
    print(f"  overload: {report.get('overload')}")
    print(f"  footprint: {report.get('footprint')}")
    print(f"  load average after: {report.get('load average after')}  (pid {os.getpid()})")
