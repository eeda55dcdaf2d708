"""Drive the real ASGI app from synchronous property tests and check every answer.

Hypothesis runs examples synchronously, so the app, its HTTP client and a read-only engine for
fingerprints live on one private event loop for the whole test.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import graphql
import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from db.tables import metadata
from domain.instruments import SYMBOL_PATTERN
from domain.profile import CLIENT_ID_PATTERN
from domain.values import Role
from riskgate.app import create_app
from riskgate.auth import mint_token
from riskgate.settings import Settings
from tests.fuzz.hostile import Hostile, RawNumber
from tests.fuzz.requests import Caller, Request, unwrap

# RISK_UNAVAILABLE is a public code, but the database stays healthy through a fuzz run: an
# answer with it means one request broke the store for the next (e.g. a poisoned pool).
ALLOWED_CODES = frozenset(
    {"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "NOT_FOUND", "CONFLICT"}
)
# Text that only an internal failure would put in a message (hostile inputs avoid these words).
LEAK_MARKERS = re.compile(
    r"Traceback|File \"|sqlalchemy|asyncpg|aiosqlite|sqlite3|psycopg|IntegrityError|"
    r"OperationalError|ProgrammingError|DataError|InterfaceError|\[SQL:|INSERT INTO|"
    r"DELETE FROM|SELECT |UPDATE \w+ SET|violates|constraint|relation \"",
    re.IGNORECASE,
)


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def errors(self) -> list[dict[str, Any]]:
        if not isinstance(self.body, dict):
            return []
        return list(self.body.get("errors") or [])

    @property
    def codes(self) -> list[Any]:
        return [(e.get("extensions") or {}).get("code") for e in self.errors]

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None

    @property
    def granted(self) -> bool:
        return self.status == 200 and not self.errors and self.data is not None

    @property
    def refused(self) -> bool:
        """No field answered (but a non-null root field's error nulls its siblings too)."""
        data = self.data
        return bool(self.errors) and (data is None or all(v is None for v in data.values()))

    def refused_every(self, document: str) -> bool:
        """Each root field of the document failed, or the request never ran: nothing that the
        operation did can have been kept."""
        if not self.refused:
            return False
        failed = set()
        for error in self.errors:
            path = error.get("path")
            if not path:
                return True  # refused before execution (parse, validation, variables, size)
            failed.add(path[0])
        return failed >= set(root_keys(document))


def root_keys(document: str) -> list[str]:
    """The response keys (aliases or names) of the operation's root fields."""
    try:
        parsed = graphql.parse(document)
    except graphql.GraphQLError:
        return []
    keys = []
    for definition in parsed.definitions:
        if isinstance(definition, graphql.OperationDefinitionNode):
            for node in definition.selection_set.selections:
                if isinstance(node, graphql.FieldNode):
                    keys.append((node.alias or node.name).value)
    return keys


def encode(body: Any) -> bytes:
    """JSON with lone surrogates escaped and non-JSON numbers written verbatim."""
    raw: list[str] = []

    def swap(value: Any) -> Any:
        if isinstance(value, RawNumber):
            raw.append(value.text)
            return f"\x01raw{len(raw) - 1}\x01"
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    text_ = json.dumps(swap(body), ensure_ascii=True, allow_nan=True)
    for i, number in enumerate(raw):
        text_ = text_.replace(f'"\\u0001raw{i}\\u0001"', number)
    return text_.encode("ascii")


def describe(request: Request | str, answer: Answer) -> str:
    """A reproducer for a report: who sent what, and what came back."""
    if isinstance(request, str):
        sent = request
        who = "?"
    else:
        shown = json.dumps(_shorten(request.variables), default=repr, ensure_ascii=True)
        sent = f"{request.document}\nvariables: {shown}"
        who = f"{request.caller.role}:{request.caller.sub}"
    body = json.dumps(answer.body, ensure_ascii=True, default=repr)[:1500]
    return f"\nas {who}\n{sent}\n→ HTTP {answer.status} {body}"


def _shorten(value: Any) -> Any:
    if isinstance(value, Hostile):
        return repr(value)
    if isinstance(value, str) and len(value) > 60:
        return f"{value[:12]}…<{len(value)} chars>"
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    return value


def check_answer(answer: Answer, context: str) -> None:
    """What must hold for every answer: no 5xx, JSON, every error coded and clean."""
    assert answer.status < 500, f"5xx{context}"
    assert isinstance(answer.body, dict), f"answer is not a JSON object{context}"
    if answer.status != 200:
        assert answer.errors, f"a non-200 answer without GraphQL errors{context}"
    for error in answer.errors:
        code = (error.get("extensions") or {}).get("code")
        assert code in ALLOWED_CODES, f"error code {code!r}{context}"
        message = str(error.get("message", ""))
        assert not LEAK_MARKERS.search(message), f"internal detail in a message{context}"


def check_output(type_: graphql.GraphQLOutputType, value: Any, where: str, context: str) -> None:
    """Granted data is well-formed: decimals finite strings, date-times ISO 8601 in UTC."""
    if value is None:
        return
    named = graphql.get_named_type(type_)
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_output(named, item, f"{where}[{i}]", context)
        return
    if isinstance(named, graphql.GraphQLObjectType):
        for key, item in value.items():
            check_output(named.fields[key].type, item, f"{where}.{key}", context)
    elif named.name == "Decimal":
        assert isinstance(value, str) and Decimal(value).is_finite(), f"{where}={value!r}{context}"
    elif named.name == "DateTime":
        at = datetime.fromisoformat(value)
        assert at.utcoffset() == timedelta(0), f"{where}={value!r} is not UTC{context}"


@dataclass
class Tally:
    """What a run reached: granted answers per (operation, role), and answers by code."""

    granted: Counter[tuple[str, str]] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    refused_mutations: int = 0
    replays: int = 0
    outcomes: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def outcomes_of(self, operation: str, role: str) -> dict[str, int]:
        return {c: n for (o, r, c), n in self.outcomes.items() if (o, r) == (operation, role)}

    def operations_granted(self) -> set[str]:
        return {operation for operation, _role in self.granted}


class Driver:
    """The app on a private loop; send requests, fingerprint the database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.stack = AsyncExitStack()
        self.http: httpx.AsyncClient
        self.reader: AsyncEngine
        self.tally = Tally()
        self.postgres = settings.database_url.startswith("postgresql")
        # Whether a document has had a root field refused while its siblings ran.

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def __enter__(self) -> Driver:
        self.run(self._start())
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self.run(self.stack.aclose())
        finally:
            self.loop.close()

    async def _start(self) -> None:
        app = create_app(self.settings)
        await self.stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.http = await self.stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://riskgate.test", timeout=60)
        )
        self.reader = create_async_engine(self.settings.database_url)
        self.stack.push_async_callback(self.reader.dispose)

    def headers(self, caller: Caller) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if caller.role is not None:
            token = mint_token(self.settings, sub=caller.sub, role=Role(caller.role))
            headers["authorization"] = f"Bearer {token}"
        return headers

    def post(self, body: Any, caller: Caller) -> Answer:
        reply = self.run(
            self.http.post("/graphql", content=encode(body), headers=self.headers(caller))
        )
        return self._answer(reply)

    def _answer(self, reply: httpx.Response) -> Answer:
        try:
            parsed = reply.json()
        except ValueError:
            parsed = reply.text
        self.tally.requests += 1
        answer = Answer(reply.status_code, parsed)
        for code in answer.codes:
            self.tally.codes[str(code)] += 1
        return answer

    def send(self, request: Request) -> Answer:
        body = {"query": request.document, "variables": unwrap(request.variables)}
        return self.post(body, request.caller)

    def send_all(self, requests: list[Request]) -> list[Answer]:
        async def one(request: Request) -> httpx.Response:
            body = {"query": request.document, "variables": unwrap(request.variables)}
            headers = self.headers(request.caller)
            return await self.http.post("/graphql", content=encode(body), headers=headers)

        async def together() -> list[httpx.Response]:
            return list(await asyncio.gather(*(one(r) for r in requests)))

        return [self._answer(reply) for reply in self.run(together())]

    def fingerprint(self) -> dict[str, tuple[int, str]]:
        return self.run(self._fingerprint())

    async def _fingerprint(self) -> dict[str, tuple[int, str]]:
        """Row count and a hash of the rows of every table.

        The platform row's writer sequence is left out: it counts the writers that took the
        platform lock, a replay that changes nothing included, and is no data of its own.
        """
        out: dict[str, tuple[int, str]] = {}
        async with self.reader.connect() as conn:
            for table in metadata.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                columns = [c for c in table.columns if c.name != "writer_seq"]
                rows = (await conn.execute(select(*columns).order_by(*order))).all()
                digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode("utf-8", "replace"))
                out[table.name] = (len(rows), digest.hexdigest()[:16])
        return out

    def malformed_rows(self) -> list[str]:
        return self.run(self._malformed_rows())

    async def _malformed_rows(self) -> list[str]:
        """Stored identifiers the API would refuse, and text holding NUL or lone surrogates."""
        found: list[str] = []
        async with self.reader.connect() as conn:
            for table in metadata.sorted_tables:
                for row in (await conn.execute(select(table))).mappings():
                    for name, value in row.items():
                        if not isinstance(value, str):
                            continue
                        bad = _bad_text(name, value)
                        if bad:
                            found.append(f"{table.name}.{name} = {value[:40]!r}: {bad}")
        return found


def _bad_text(column: str, value: str) -> str | None:
    if "\x00" in value:
        return "NUL"
    if any("\ud800" <= c <= "\udfff" for c in value):
        return "lone surrogate"
    if column == "client_id" and not CLIENT_ID_PATTERN.fullmatch(value):
        return "not a client id"
    if column == "symbol" and not SYMBOL_PATTERN.fullmatch(value):
        return "not a symbol"
    return None
