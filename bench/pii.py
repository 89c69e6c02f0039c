"""Benchmark (issue 15): seal/unseal per second under AES-256-GCM and SM4-GCM, the index HMAC under SHA-256 and
SM3, and the portal's veteran list page (50 rows: each row unseals an ID number and a phone) under each cipher.
Prints figures and ratios side by side; asserts nothing.

    .venv/bin/python bench/pii.py [--veterans 300] [--ops 20000] [--repeat 30]

Runs on a temporary SQLite database of its own (or DATABASE_URL when set: it adds rows there, never point it at data
you keep). The list is timed with the veterans sealed under AES-256-GCM and SM4-GCM in turn (rotating
v1 AES -> v2 SM4 -> v3 AES -> v4 SM4, each rotation timed too); each cipher's figure is the mean of its two medians.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APP_ENV", "development")

VALUE = "110105199001011234"


def per_second(call, ops):
    start = time.perf_counter()
    for _ in range(ops):
        call()
    return ops / (time.perf_counter() - start)


def primitives(app, ops, use):
    from backend import pii

    rows = {}
    for cipher in ("aes-256-gcm", "sm4-gcm"):
        use(1, 2, cipher=cipher)
        with app.app_context():
            token = pii.encrypt(VALUE, context="bench")
            rows[cipher] = (
                per_second(lambda: pii.encrypt(VALUE, context="bench"), ops),
                per_second(lambda token=token: pii.decrypt(token, context="bench"), ops),
                per_second(lambda: pii.blind_index(VALUE, context="bench"), ops),
            )
    return rows


def list_page(client, repeat):
    client.get("/veterans/", expect=200)  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.get("/veterans/", expect=200)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--veterans", type=int, default=300)
    parser.add_argument("--ops", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from admin_portal import create_app
    from backend.extensions import db
    from backend.keys import rotation
    from backend.keys.keyring import LEGACY_VERSION  # noqa: F401
    from config.settings import Development
    from tests.factories import create_staff, create_unit, create_veteran, unique
    from tests.helpers import PortalClient
    from tests.keys.helpers import pii_keys

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp(prefix='bench-pii-')}/bench.db"
    config = type("BenchConfig", (Development,), {"SQLALCHEMY_DATABASE_URI": url, "PII_STARTUP_CHECK": False})
    app = create_app(config)
    app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False, PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")

    def use(*versions, cipher):
        app.config.update(PII_KEYS=pii_keys(*versions), PII_CIPHER=cipher)

    with app.app_context():
        if url.startswith("sqlite"):
            upgrade()
        use(1, cipher="aes-256-gcm")
        county = create_unit(parent=create_unit(parent=create_unit(name=unique("省")), name="市"), name="县")
        station = create_unit(parent=county, name=unique("站"))
        staff = create_staff(unit=county, roles=("station_staff",))
        for _ in range(args.veterans):
            create_veteran(station=station)
        db.session.remove()

    client = PortalClient(app)
    client.login(staff)
    rows = client.get("/veterans/", expect=200).get_data(as_text=True).count("********")
    pages, rotations = {"aes-256-gcm": [], "sm4-gcm": []}, []
    pages["aes-256-gcm"].append(list_page(client, args.repeat))
    # AES v1 -> SM4 v2 -> AES v3 -> SM4 v4: each list timed twice, in alternation, so warm-up favours neither
    for version, cipher in ((2, "sm4-gcm"), (3, "aes-256-gcm"), (4, "sm4-gcm")):
        use(*range(1, version + 1), cipher=cipher)
        with app.app_context():
            started = time.perf_counter()
            result = rotation.run(batch=500)
            rotations.append((cipher, result.rows, time.perf_counter() - started))
            db.session.remove()
        pages[cipher].append(list_page(client, args.repeat))
    figures = primitives(app, args.ops, use)

    aes, sm4 = figures["aes-256-gcm"], figures["sm4-gcm"]
    print(f"{'per second':<36}{'AES-256-GCM':>14}{'SM4-GCM':>14}{'SM4/AES':>10}")
    labels = ("seal (pii.encrypt, 18 chars)", "unseal (pii.decrypt)", "index (HMAC-SHA256 | HMAC-SM3)")
    for i, label in enumerate(labels):
        print(f"{label:<36}{aes[i]:>14,.0f}{sm4[i]:>14,.0f}{sm4[i] / aes[i]:>10.2f}")
    aes_ms, sm4_ms = (1000 * statistics.mean(pages[c]) for c in ("aes-256-gcm", "sm4-gcm"))
    label = f"veteran list ({rows} masked IDs), ms"
    print(f"{label:<36}{aes_ms:>14.1f}{sm4_ms:>14.1f}{sm4_ms / aes_ms:>10.2f}")
    for cipher, count, seconds in rotations:
        print(f"rotation to {cipher}: {count} values in {seconds:.2f} s ({count / seconds:,.0f}/s)")


if __name__ == "__main__":
    main()
