"""One world per test module, each test inside a savepoint that is rolled back (issue 21: the suite's run time).

The authorization matrix and the hostile-input probes run thousands of tests against the same world
(tests/factories.py: build_world, add_objects, add_veteran_accounts). Building it once per test cost more than most
of the tests themselves. A module marked `pytest.mark.shared_world` gets it built once, in an outer transaction on
one connection (the harness of tests/conftest.py, widened to the module); every test then runs inside a SAVEPOINT on
that connection, rolled back after it, so each test still starts from exactly the world it would have built:
- the rows: everything a test commits (its own calls and its requests) is undone with the savepoint;
- the objects: the test session's objects are expired, so the next test reads them back from the restored rows;
- the objects a cell made on first use (w.objects, tests/authz/*_cells.py) are forgotten with their rows;
- the world's stored files (a registration attachment) come back if a test deleted them.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

from backend.extensions import db

CELL = "shared_world_cell"


class SharedWorld:
    def __init__(self, apps):
        self.apps = apps
        self.world = None
        self.tokens = None
        self.connection = None

    def __enter__(self):
        from tests.factories import add_objects, add_veteran_accounts, build_world

        with self.apps["backend"].app_context():
            engine = db.engine
        self.connection = engine.connect()
        self._outer = self.connection.begin()
        self._swapped = []
        for flask_app in self.apps.values():
            with flask_app.app_context():
                engines = db.engines
                self._swapped.append((engines, dict(engines)))
                for key in list(engines):
                    engines[key] = self.connection
        self._ctx = self.apps["backend"].app_context()
        self._ctx.push()
        before = _files(self.apps["backend"])
        with pytest.MonkeyPatch.context() as patch:  # as the tests do: nothing leaves for Celery or WeChat
            patch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: None)
            patch.setattr("backend.notifications.dispatch.kick", lambda *args: None)
            self.world = add_objects(build_world())
            self.tokens = add_veteran_accounts(self.world, self.apps["api"])
        self._files = {path: path.read_bytes() for path in _files(self.apps["backend"]) - before}
        return self

    def __exit__(self, *exc):
        db.session.remove()
        self._ctx.pop()
        for engines, original in self._swapped:
            engines.update(original)
        if self._outer.is_active:
            self._outer.rollback()
        self.connection.close()
        return False

    @contextmanager
    def cell(self):
        """One test: everything it does is rolled back to the world as built."""
        objects = dict(self.world.objects)
        # A savepoint of its own, under SQLAlchemy's: its ROLLBACK TO keeps the savepoint, and one left open per test
        # would nest thousands deep, each level keeping its locks until the module's end.
        self.connection.exec_driver_sql(f"SAVEPOINT {CELL}")
        try:
            yield self.connection
        finally:
            db.session.rollback()  # the test session's own savepoint; its objects are expired, read back next time
            self.connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {CELL}")
            self.connection.exec_driver_sql(f"RELEASE SAVEPOINT {CELL}")
            self.world.objects.clear()
            self.world.objects.update(objects)
            for path, content in self._files.items():
                if not path.exists():
                    path.write_bytes(content)


def _files(flask_app):
    """Every file under the app's upload directory (tests/conftest.py make_config: one per test process)."""
    root = flask_app.config.get("UPLOAD_DIR")
    if not root or not os.path.isdir(root):
        return set()
    return {path for path in Path(root).rglob("*") if path.is_file()}
