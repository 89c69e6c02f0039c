"""Flask CLI commands: `flask --app backend demo-load`, `flask --app backend serve`."""

import click


def init_app(app):
    from backend.audit.cli import register as register_audit  # auditchain slice: audit-seal, audit-verify

    register_audit(app)
    from backend.keys.cli import register as register_keys  # issue 15: pii-rotate, pii-status, pii-retire

    register_keys(app)

    @app.cli.command("demo-load")
    def demo_load():
        """Load the demo org tree and accounts once."""
        from backend.demo import load_demo

        lines = load_demo()
        click.echo("Demo data loaded." if lines else "Demo data already present; skipped.")

    @app.cli.command("bootstrap")
    @click.option("--province", required=True, help="the name of the top unit, e.g. 某省退役军人事务厅")
    @click.option("--prefix", default="", help="prefix of the three administrator usernames")
    def bootstrap_cmd(province, prefix):
        """First start of a real deployment: the top unit and the three administrators, with one-time passwords."""
        from backend.bootstrap import AlreadyBootstrapped, bootstrap

        try:
            created = bootstrap(province=province, prefix=prefix)
        except AlreadyBootstrapped as exc:
            raise click.ClickException("系统已有组织机构或账号，不能再次初始化 (the database is not empty)") from exc
        click.echo("One-time passwords (shown once; each must be changed at first login, then TOTP is enrolled):")
        for username, password, role in created:
            click.echo(f"  {username:<16}{password:<20}{role}")

    @app.cli.command("run-jobs")
    def run_jobs():
        """Run the scheduled jobs once now (they are idempotent): overdue registrations, reminders."""
        from backend.registration import jobs
        from backend.travel import jobs as travel_jobs

        click.echo(
            f"registrations overdue: {jobs.mark_overdue()}, reminders sent: {jobs.send_reminders()}, "
            f"trips overdue: {travel_jobs.mark_overdue()}"
        )
        from backend.figures.rollup import rollup  # aggregates slice (issue 12)

        click.echo(f"figures rolled up: {rollup()} rows")
        from backend.feedback import handling, prompts  # issue 20

        click.echo(f"feedback cases escalated: {handling.escalate_overdue()}, prompts: {prompts.prompt_pending()}")
        from backend.assessment.aggregate import nightly  # issue 20: the assessment figures

        click.echo(f"assessment figures written: {nightly()} rows")

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1")
    @click.option("--port", default=8000, type=int)
    def serve(host, port):
        """Serve the portal at / and the API at /api (development server; production uses gunicorn)."""
        from flask import current_app
        from werkzeug.serving import run_simple

        import wsgi
        from backend.demo import logins_file

        base = f"http://{host}:{port}"
        fake_base = "http://127.0.0.1:8001/"
        if current_app.config["WECHAT_API_BASE"] == fake_base and current_app.config["APP_ENV"] == "development":
            from backend.wechat.fake_server import FakeWechat, serve_in_thread

            cfg = current_app.config
            serve_in_thread(port=8001, fake=FakeWechat(cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"]))
            click.echo(f"\n  Fake WeChat:      {fake_base} (see README, 'Acting as the phone')")
        if current_app.config["APP_ENV"] == "development":  # no beat in the embedded setup: catch up once at start
            from backend.registration import jobs
            from backend.travel import jobs as travel_jobs

            jobs.mark_overdue()
            jobs.send_reminders()
            travel_jobs.mark_overdue()
            from backend.audit.chain import seal_pending  # auditchain slice: no beat here; the verify page seals too

            seal_pending()
            from backend.figures.rollup import rollup  # aggregates slice: the figures pages read the rollup

            rollup()
            # care slice (issue 16): contact plans for every veteran, so the overdue lists are right at once
            from backend.care import digest

            digest.run_weekly()
            # notifications slice (issue 13): scheduled sends, the delivery watchdog and the call list, every 30 s
            from backend.notifications import ticker

            ticker.start(current_app._get_current_object())
        click.echo(f"\n  管理端 (portal):  {base}/")
        click.echo(f"  小程序 API:       {base}/api/v1\n  OpenAPI:          {base}/api/openapi.json")
        path = logins_file()
        if path.exists():
            click.echo("\n  Demo logins (username / password / roles; last line: a veteran to bind):")
            for line in path.read_text(encoding="utf-8").splitlines():
                click.echo(f"    {line}")
        click.echo("\n  Ctrl-C stops everything.\n")
        run_simple(host, port, wsgi.application, threaded=True, use_reloader=False)
