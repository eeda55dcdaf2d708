"""The `riskgate` command: serve, worker, migrate, run-job, token, demo."""

from __future__ import annotations

import argparse
import asyncio
import errno
import socket
import sys
from collections.abc import Callable
from datetime import timedelta
from importlib import metadata
from typing import TYPE_CHECKING

from domain.profile import CLIENT_ID_PATTERN
from domain.values import Role
from riskgate.auth import mint_token
from riskgate.logging_setup import configure_logging
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


def _listen(host: str, port: int) -> socket.socket:
    """Bind the server's socket up front, so a busy port is reported before anything else
    happens (no seeding, no tokens printed for a server that will not start)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise CliError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise CliError(
                f"port {port} on {host} is already in use; stop what listens there or pick "
                "another port with --port (make run PORT=...)"
            ) from None
        raise CliError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.set_inheritable(True)
    return sock


def _serve(settings: Settings, host: str, port: int, demo: bool) -> None:
    import uvicorn

    from riskgate.app import create_app

    sock = _listen(host, port)
    if demo:
        seeded = asyncio.run(_seed_demo(settings))
        print("Demo data seeded." if seeded else "Database not empty: demo data left as it is.")
        _print_tokens(settings)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(
        f"GraphQL{' and GraphiQL' if settings.is_development else ''} on "
        f"http://{shown}:{bound_port}/graphql"
    )
    sys.stdout.flush()
    config = uvicorn.Config(
        create_app(settings),
        log_config=None,  # our handler formats uvicorn's lines too (text or JSON)
        log_level=settings.log_level.lower(),
        access_log=False,  # the app writes its own access line, with the request id
        loop="auto",
        http="auto",
    )
    uvicorn.Server(config).run(sockets=[sock])


def _job_bus(settings: Settings) -> Callable[[], AlertBus]:
    """Jobs publish their alerts (through Redis when configured) but never listen."""
    from riskgate.bus import make_bus

    return lambda: make_bus(settings.redis_url, settings.alerts_channel, listen=False)


class CliError(Exception):
    """A problem reported as one line on stderr, with exit status 2."""


def _version() -> str:
    try:
        return metadata.version("riskgate")
    except metadata.PackageNotFoundError:
        return "unknown"


def _port(raw: str) -> int:
    port = int(raw)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is 0-65535 (0 picks a free one)")
    return port


def _parser() -> argparse.ArgumentParser:
    from jobs.tasks import JOBS

    formatter = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(
        prog="riskgate",
        description="Pre-trade risk control: the GraphQL service, its worker and tools. "
        "Configuration comes from RISKGATE_* environment variables (or .env).",
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the GraphQL server", formatter_class=formatter)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (0: any free)")
    serve.add_argument(
        "--demo", action="store_true", help="seed demo data into an empty database, print tokens"
    )
    serve.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not apply pending migrations on start (run `riskgate migrate` once instead)",
    )
    sub.add_parser("migrate", help="apply pending migrations", formatter_class=formatter)
    sub.add_parser(
        "demo",
        help="seed demo data into an empty database and print tokens",
        formatter_class=formatter,
    )
    sub.add_parser(
        "worker", help="run the periodic-job worker (arq on Redis)", formatter_class=formatter
    )
    run_job = sub.add_parser(
        "run-job",
        help=f"run one periodic job once, without Redis ({', '.join(JOBS)})",
        formatter_class=formatter,
    )
    run_job.add_argument(
        "name", choices=list(JOBS), metavar="NAME", help=f"one of: {', '.join(JOBS)}"
    )
    token = sub.add_parser(
        "token", help="mint a token with the configured secret", formatter_class=formatter
    )
    token.add_argument(
        "--role", required=True, choices=[r.value for r in Role], help="the token's role"
    )
    token.add_argument(
        "--sub", required=True, help="the subject: for a client token, the client id"
    )
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    return parser


def _token(settings: Settings, sub: str, role: Role, ttl: int) -> str:
    """Mint only what the server would accept."""
    if not sub or len(sub) > 128:
        raise CliError("--sub must be 1-128 characters")
    if role is Role.CLIENT and not CLIENT_ID_PATTERN.match(sub):
        raise CliError(
            "--sub must be a client id for a client token: 1-64 letters, digits and ._:@- "
            "(starting with a letter or digit)"
        )
    if ttl < 1:
        raise CliError("--ttl must be at least 1 second")
    if not settings.jwt_algorithm.startswith("HS"):
        raise CliError(
            f"tokens can only be minted with an HS* secret (RISKGATE_JWT_ALGORITHM is "
            f"{settings.jwt_algorithm})"
        )
    return mint_token(settings, sub=sub, role=role, ttl_seconds=ttl)


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except CliError as error:
        print(f"riskgate: {error}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)

    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"riskgate: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    if args.command == "serve":
        if args.no_migrate:
            settings = settings.model_copy(update={"auto_migrate": False})
        _serve(settings, args.host, args.port, args.demo)
    elif args.command == "migrate":
        from db.migrations import upgrade_to_head

        before, after = asyncio.run(upgrade_to_head(settings.database_url))
        if before == after:
            print(f"database is at the newest revision ({after})")
        else:
            print(f"database migrated from {before or 'empty'} to {after}")
    elif args.command == "demo":
        seeded = asyncio.run(_seed_demo(settings))
        print("Demo data seeded." if seeded else "Database not empty: demo data left as it is.")
        _print_tokens(settings)
    elif args.command == "token":
        print(_token(settings, args.sub, Role(args.role), args.ttl))
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
