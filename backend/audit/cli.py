"""`flask --app backend audit-seal` and `audit-verify`: the sealer and the verifier from the command line."""

import click


def register(app):
    @app.cli.command("audit-seal")
    @click.option("--all", "full", is_flag=True, help="also rows that committed more than AUDIT_SEAL_LOOKBACK late")
    def audit_seal(full):
        """Chain every unsealed audit row now and write a signed checkpoint (what the beat task does)."""
        from backend.audit import chain

        result = chain.seal_pending(full=full)
        click.echo(f"sealed: {result.sealed}, head: {result.head.seq}" + (" (another sealer is running)" * result.busy))

    @app.cli.command("audit-verify")
    @click.option(
        "--checkpoints", "path", type=click.Path(dir_okay=False), help="checkpoint lines, e.g. a syslog export"
    )
    def audit_verify(path):
        """Check the audit chain and the checkpoints; exit status 1 when anything does not match."""
        from backend.audit.verify import verify

        report = verify(checkpoint_path=path)
        click.echo(
            f"sealed rows: {report.sealed_rows} (seq {report.first_seq}-{report.last_seq}), "
            f"unsealed: {report.unsealed_rows}, checkpoints compared: {report.checkpoints_compared} "
            f"from {report.checkpoint_source or '-'}"
        )
        for problem in report.problems:
            click.echo(f"  [{problem.kind}] {problem.message}")
        if not report.ok:
            raise SystemExit(1)
        click.echo("ok")
