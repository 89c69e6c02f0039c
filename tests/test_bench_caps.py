"""The issue 21 booking targets of bench/run.py (bench/caps.py): the wrk script's pool and the report lines. No
database, no server, no timing: the load itself runs only in `make bench`."""

from bench import caps
from bench import run as bench_run
from bench import targets as bench_targets
from bench.targets import Results, Sample


def test_a_caps_target_sends_its_own_token():
    target = caps.CapsTarget(caps.SLOTS, "/api/v1/services/7/slots", {"Authorization": "Bearer own"})
    headers = bench_run._headers(target, "shared", {})
    assert headers["Authorization"] == "Bearer own"
    assert headers["User-Agent"] == bench_run.USER_AGENT


def test_the_booking_script_holds_every_pool_pair_and_splits_them_by_thread():
    pairs = [("t1", 11), ("t2", 12), ("t3", 13)]
    lua = caps.BOOK_LUA % (", ".join(f'{{"{t}", {s}}}' for t, s in pairs), 2)
    assert '{"t1", 11}, {"t2", 12}, {"t3", 13}' in lua
    assert "local threads = 2" in lua
    assert "(tid + n * threads) % #pairs + 1" in lua
    assert 'prefix = "bench-" .. run_id' in lua and "math.random" not in lua
    assert '"Idempotency-Key"' in lua and '{"slot_id": %d}' in lua


def test_the_report_prints_the_capability_ratios():
    results = Results()
    for name, rps, p99 in (("B_db1", 100.0, 10.0), (caps.SLOTS, 60.0, 20.0), (caps.BOOK, 20.0, 50.0)):
        results.add(name, Sample(rps, 1.0, 2.0, p99, requests=10, errors=1 if name == caps.BOOK else 0))
    printed = []
    lines = bench_targets.report(results, out=printed.append, ratios=bench_targets.RATIOS + caps.RATIOS)
    caps.report(results, out=printed.append)
    assert f"  RATIO {caps.SLOTS} / B_db1 (req/s): 0.60  (goal >= 0.5) ok" in lines
    assert f"  RATIO {caps.BOOK} / B_db1 (req/s): 0.20  (goal >= 0.3) BELOW GOAL" in lines
    assert f"  RATIO {caps.SLOTS} / B_db1 (p99 latency): 2.00  (goal <= 3.0) ok" in printed
    assert any(line.startswith(f"  {caps.BOOK}: 10 requests in 1 rounds, 1 non-2xx") for line in printed)
