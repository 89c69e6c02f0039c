"""Issue 21: bench/journey_stats.py's arithmetic on a made-up request log (no load, no timings asserted)."""

import pytest

from bench import journey_stats as stats

pytestmark = pytest.mark.no_db


def _row(start, latency, status=200, ok=True, name="/me"):
    return (start, latency, status, ok, name)


def test_read_log_parses_the_locustfile_lines(tmp_path):
    log = tmp_path / "x.requests"
    log.write_text("100.000 12.5 200 1 /me\n100.5 30.0 503 0 /inbox/[id]\nbroken\n", encoding="utf-8")
    assert stats.read_log(log) == [_row(100.0, 12.5), _row(100.5, 30.0, 503, False, "/inbox/[id]")]
    assert stats.read_log(tmp_path / "missing") == []


def test_per_stage_leaves_out_the_settling_seconds_and_counts_failures():
    rows = [_row(0.0, 900.0)]  # stage 1, settling: left out
    rows += [_row(5.0 + i * 0.1, 10.0) for i in range(50)]  # stage 1, measured: 50 requests in 5 s
    rows += [_row(15.0 + i * 0.1, 20.0, 409, True) for i in range(20)]  # stage 2: an expected refusal is no error
    rows += [_row(17.0, 40.0, 500, False)]
    table = stats.per_stage(rows, 0.0, [(10, 10), (20, 10)], settle=5)
    assert [s["users"] for s in table] == [10, 20]
    assert table[0]["requests"] == 50 and table[0]["rps"] == 10.0 and table[0]["max"] == 10.0
    assert table[1]["requests"] == 21 and table[1]["errors"] == 1 and table[1]["5xx"] == 1


def test_overload_recovery_is_the_end_of_the_last_slow_second():
    rows = [_row(0.0 + i * 0.5, 2000.0) for i in range(20)]  # heavy stage 0-10 s, all slow
    rows += [_row(10.0 + s, 900.0) for s in range(3)]  # seconds 0-2 after the drop: still slow
    rows += [_row(10.0 + s + f, 50.0) for s in range(3, 40) for f in (0.1, 0.2, 0.3)]  # then fast
    figures = stats.overload(rows, 0.0, [(100, 10), (25, 40)], goal_ms=500)
    assert figures["users"] == 100 and figures["p95"] == 2000.0 and figures["5xx share %"] == 0.0
    assert figures["recovery s"] == 3 and figures["recovered"]
    assert figures["max overall ms"] == 2000.0


def test_overload_never_slow_after_the_drop_recovers_at_once():
    rows = [_row(float(s), 100.0) for s in range(20)]
    assert stats.overload(rows, 0.0, [(10, 10), (5, 10)], goal_ms=500)["recovery s"] == 0


def test_footprint_summary_takes_the_peak_sample():
    footprint = stats.Footprint({})
    footprint.samples = [{"a": (100.0, 50.0, 1)}, {"a": (300.0, 60.0, 2), "b": (10.0, 5.0, 1)}]
    summary = footprint.summary()
    assert summary["peak total RSS MB"] == 310 and summary["peak total PSS MB"] == 65
