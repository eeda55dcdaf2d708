"""The `riskgate` command: serve, worker, migrate, run-job, token, demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from domain.values import Role
from riskgate.auth import mint_token
from riskgate.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from resolvers.deps import AlertBus


def _print_tokens(settings: Settings) -> None:
    print("Demo tokens (valid 24 h; send as 'Authorization: Bearer <token>'):")
    for role, sub in (
        (Role.CLIENT, "alice"),
        (Role.SERVICE, "approval-service"),
        (Role.ADMIN, "ops"),
    ):
        token = mint_token(settings, sub=sub, role=role, ttl_seconds=86_400)
        print(f"  {role.value:<8} sub={sub:<17} {token}")


async def _seed_demo(settings: Settings) -> bool:
    from db.engine import Database
    from db.migrations import upgrade_to_head
    from resolvers.deps import Deps
    from riskgate.demo import seed

    await upgrade_to_head(settings.database_url)
    db = Database(settings.database_url)
    try:
        deps = Deps(
            db=db,
            calendar=settings.calendar,
            reservation_ttl=timedelta(seconds=settings.reservation_ttl_seconds),
        )
        return await seed(deps)
    finally:
        await db.dispose()


def _serve(settings: Settings, host: str, port: int, demo: bool) -> None:
    import uvicorn

    from riskgate.app import create_app

    if demo:
        seeded = asyncio.run(_seed_demo(settings))
        print("Demo data seeded." if seeded else "Database not empty: demo data left as it is.")
        _print_tokens(settings)
    print(
        f"GraphQL{' and GraphiQL' if settings.is_development else ''} on http://{host}:{port}/graphql"
    )
    sys.stdout.flush()
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        access_log=False,
        loop="auto",
        http="auto",
    )


def _job_bus(settings: Settings) -> Callable[[], AlertBus]:
    """Jobs publish their alerts (through Redis when configured) but never listen."""
    from riskgate.bus import make_bus

    return lambda: make_bus(settings.redis_url, settings.alerts_channel, listen=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="riskgate", description="Pre-trade risk control.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the GraphQL server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed demo data into an empty database")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply pending migrations")
    sub.add_parser("migrate", help="apply pending migrations")
    sub.add_parser("demo", help="seed demo data into an empty database and print tokens")
    sub.add_parser("worker", help="run the periodic-job worker (arq on Redis)")
    run_job = sub.add_parser("run-job", help="run one periodic job once, without Redis")
    run_job.add_argument("name")
    token = sub.add_parser("token", help="mint a token with the configured secret")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--sub", required=True)
    token.add_argument("--ttl", type=int, default=3600, help="seconds (default 3600)")
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"riskgate: configuration error: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if args.command == "serve":
        if args.no_migrate:
            settings = settings.model_copy(update={"auto_migrate": False})
        _serve(settings, args.host, args.port, args.demo)
    elif args.command == "migrate":
        from db.migrations import upgrade_to_head

        asyncio.run(upgrade_to_head(settings.database_url))
        print("database is at the newest revision")
    elif args.command == "demo":
        seeded = asyncio.run(_seed_demo(settings))
        print("Demo data seeded." if seeded else "Database not empty: demo data left as it is.")
        _print_tokens(settings)
    elif args.command == "token":
        print(mint_token(settings, sub=args.sub, role=Role(args.role), ttl_seconds=args.ttl))
    elif args.command == "worker":
        from jobs.worker import run_worker

        if not settings.redis_url:
            print("the worker needs RISKGATE_REDIS_URL; `riskgate run-job NAME` runs one job")
            return 2
        run_worker(settings, _job_bus(settings))
    elif args.command == "run-job":
        from jobs.runner import run_job_once

        return asyncio.run(run_job_once(settings, args.name, _job_bus(settings)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
