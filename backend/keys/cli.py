"""`flask pii-rotate`, `flask pii-status` and `flask pii-retire VERSION`: key rotation from the command line (the
same service functions the portal page and the Celery task call). No key material is ever printed."""

import click


def register(app):
    @app.cli.command("pii-rotate")
    @click.option("--batch", type=int, default=None, help="rows per transaction (PII_ROTATION_BATCH)")
    def pii_rotate(batch):
        """Re-seal every sealed value under the newest key version, here and now (resumes an interrupted run)."""
        from backend.audit.service import SystemActor
        from backend.keys import rotation

        result = rotation.run(batch=batch, actor=SystemActor(label="cli"))
        click.echo(f"rows looked at: {result.rows}, finished: {result.finished}")

    @app.cli.command("pii-status")
    def pii_status():
        """Key versions configured, per-column progress and the versions values still use."""
        from backend.keys import rotation

        state = rotation.status()
        click.echo(f"versions: {state['versions']} (newest {state['newest']}); sealing as {state['seal_header']}")
        for col in state["columns"]:
            census = ", ".join(f"{k}={v}" for k, v in sorted(col.census.items())) or "-"
            click.echo(f"  {col.name}: {col.percent}% (target {col.target or '-'}); values: {census}")
        click.echo(f"retired: {[r.version for r in state['retired']] or '-'}")

    @app.cli.command("pii-retire")
    @click.argument("version", type=int)
    def pii_retire(version):
        """Record VERSION as retired once no value uses it; remove its key from the configuration afterwards."""
        from backend.audit.service import SystemActor
        from backend.keys import rotation

        try:
            dropped = rotation.retire(version, actor=SystemActor(label="cli"))
        except rotation.RotationRefused as refused:
            raise click.ClickException(str(refused)) from None
        click.echo(f"version {version} retired; unused recovery codes deleted: {dropped}")
