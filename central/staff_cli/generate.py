"""`python -m central.staff_cli.generate --db PATH`: a new central database filled with a
generated city network (`central.circulation.sample.generate`)."""

import click

from central.circulation.sample import generate
from central.circulation.store import Store
from central.staff_cli.common import store_at


@click.command()
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False))
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.0001, 1),
              help="1 = 30 branches, 200,000 patrons, 1,000,000 items.")
@click.option("--seed", default=1, show_default=True)
def main(db_path: str, scale: float, seed: int) -> None:
    """Fill a new central database with a generated city network."""
    s = Store(store_at(db_path, init=True))
    if s.scalar("SELECT EXISTS (SELECT 1 FROM branches UNION ALL SELECT 1 FROM patrons)"):
        raise click.ClickException(f"[store_not_empty] {db_path} already holds a library; "
                                   "the generator fills only a new database")
    made = generate(s, branches=max(2, round(30 * scale ** 0.5)), patrons=int(200_000 * scale),
                    items=int(1_000_000 * scale), seed=seed, progress=click.echo)
    click.echo(made)


if __name__ == "__main__":
    main()
