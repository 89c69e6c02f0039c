"""Load generation for bench/run.py: a gunicorn server, wrk (or a Python fallback), and the servers' memory.

wrk is closed-loop and NOT corrected for coordinated omission (wrk2 and oha are not installed): under saturation its
tail percentiles understate what an open-loop client would see. Every target is measured the same way, so the ratios
compare like with like. The percentiles come from wrk's own latency histogram through a Lua done() hook (wrk's
--latency table has no p95).
"""

import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.targets import Sample

ROOT = Path(__file__).resolve().parent.parent
WRK = shutil.which("wrk")
LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %.1f %.1f %.1f\\n", summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


class Server:
    """gunicorn serving wsgi:application on 127.0.0.1:<port>, the same settings for every endpoint."""

    def __init__(self, *, port, workers, worker_class, threads, env, log_path, timeout=30):
        self.port, self.log_path = port, log_path
        self.args = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            f"--worker-class={worker_class}",
            f"--threads={threads}",
            f"--timeout={timeout}",
        ]
        self.env = {**os.environ, **env}
        self.process = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        Path(self.log_path).parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 (closed with the process)
        self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"bench: gunicorn exited at start; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.base}/api/v1/_bench/json", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"bench: gunicorn did not answer /api/v1/_bench/json within 60 s; see {self.log_path}")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def rss_mb(self):
        """Total resident memory of the gunicorn master and its workers, from /proc."""
        return sum(_rss_kb(pid) for pid in [self.process.pid, *_children(self.process.pid)]) / 1024


def _children(pid):
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(p) for p in task.read_text().split()]
    return found


def _rss_kb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(url, *, headers, duration, connections, threads=2):
    """One measurement of `url`: wrk when installed, else the Python fallback."""
    if WRK:
        return _wrk(url, headers=headers, duration=duration, connections=connections, threads=threads)
    return python_load(url, headers=headers, duration=duration, connections=connections)


def _wrk(url, *, headers, duration, connections, threads):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    try:
        args = [WRK, f"-t{threads}", f"-c{max(connections, threads)}", f"-d{duration}s", "--timeout", "60s"]
        args += ["--latency", "-s", script.name]
        for name, value in headers.items():
            args += ["-H", f"{name}: {value}"]
        output = subprocess.run(args + [url], capture_output=True, text=True, timeout=duration + 60).stdout
    finally:
        os.unlink(script.name)
    line = next((x for x in output.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"bench: wrk gave no summary for {url}:\n{output}")
    requests, micros, status_errors, socket_errors, p50, p95, p99 = (float(x) for x in line.split()[1:])
    return Sample(
        rps=requests / (micros / 1e6),
        p50=p50 / 1000,
        p95=p95 / 1000,
        p99=p99 / 1000,
        requests=int(requests),
        errors=int(status_errors + socket_errors),
    )


def python_load(url, *, headers, duration, connections):
    """Closed-loop fallback: `connections` threads, each on one keep-alive connection (slower than wrk; the GIL of
    this process caps throughput, so ratios near the top end are compressed)."""
    parsed = urllib.parse.urlsplit(url)
    path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    latencies, errors, lock = [], [0], threading.Lock()
    stop = time.monotonic() + duration

    def worker():
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        mine, bad = [], 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                answer = conn.getresponse()
                answer.read()
                bad += answer.status >= 400
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return sample_from(latencies, time.monotonic() - started, errors[0])


def sample_from(latencies, elapsed, errors=0):
    ordered = sorted(latencies) or [0.0]

    def pct(p):
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    return Sample(len(latencies) / max(elapsed, 1e-9), pct(50), pct(95), pct(99), len(latencies), errors)


def generator_name():
    return "wrk (closed-loop, not coordinated-omission corrected)" if WRK else "Python fallback (wrk not found)"


if __name__ == "__main__":
    sys.exit("bench/load.py is a library of bench/run.py")
