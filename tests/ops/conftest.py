"""An app on a fresh SQLite database for tests where the backend does not matter
(middleware, static files, logging set-up)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from riskgate.app import create_app
from tests.support.databases import SqliteTemplate
from tests.support.settings import make_settings

OpenClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def sqlite_client(sqlite_template: SqliteTemplate) -> OpenClient:
    """Opens an HTTP client on an app built with the given settings overrides."""

    @asynccontextmanager
    async def open_client(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(make_settings(sqlite_template.fresh(), **overrides))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://riskgate.test"
            ) as http:
                yield http

    return open_client


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Puts the root logger and the loggers configure_logging touches back as they were."""
    names = ["", "alembic", "sqlalchemy.engine", "uvicorn", "uvicorn.error", "uvicorn.access"]
    saved = {
        name: (
            list(logging.getLogger(name).handlers),
            logging.getLogger(name).level,
            logging.getLogger(name).propagate,
        )
        for name in names
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
