"""Configuration from RISKGATE_* environment variables (and a .env file)."""

from __future__ import annotations

from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jwt.algorithms import RSAAlgorithm
from jwt.exceptions import InvalidKeyError
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.trading_day import TradingCalendar

DEVELOPMENT_SECRET = "riskgate-development-secret-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RISKGATE_", env_file=".env", extra="ignore", frozen=True
    )

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./riskgate.db"
    redis_url: str | None = None
    # Namespace of this deployment's Redis keys and channels (alerts, job queue).
    redis_prefix: str = Field(default="riskgate", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_algorithm: Literal["HS256", "HS384", "HS512", "RS256", "RS384", "RS512"] = "HS256"
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    trading_day_timezone: str = "UTC"
    trading_day_start_hour: int = Field(default=0, ge=0, le=23)
    reservation_ttl_seconds: int = Field(default=300, ge=1, le=86_400)
    statement_timeout_ms: int = Field(default=5000, ge=100, le=120_000)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    # Large enough for a checkSignals call of max_batch signals.
    max_body_bytes: int = Field(default=4_000_000, ge=1_000)
    # How long a request body may take to arrive before the request is refused (408).
    body_timeout_seconds: float = Field(default=15.0, gt=0, le=600)
    # The most signals one checkSignals call may hold.
    max_batch: int = Field(default=10_000, ge=1, le=100_000)
    auto_migrate: bool = True
    log_level: str = "INFO"
    # Observability: log lines as text or one JSON object per line; browser origins allowed
    # to call the API (comma-separated, none by default); Strawberry's OpenTelemetry tracing.
    log_format: Literal["text", "json"] = "text"
    cors_origins: str = ""
    otel_enabled: bool = False

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        scheme = value.partition("://")[0].lower()
        if scheme in ("postgres", "postgresql") or scheme.startswith("postgresql+"):
            if scheme != "postgresql+asyncpg":
                raise ValueError("for PostgreSQL use a postgresql+asyncpg:// URL")
        elif scheme != "sqlite+aiosqlite":
            raise ValueError("expected a postgresql+asyncpg:// or sqlite+aiosqlite:/// URL")
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _long_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) < 32:
            raise ValueError("the secret must be at least 32 bytes")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value

    @field_validator("trading_day_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @model_validator(mode="after")
    def _production_needs_real_keys(self) -> Settings:
        if not self.jwt_algorithm.startswith("HS"):
            if not self.jwt_public_key:
                raise ValueError(f"{self.jwt_algorithm} needs RISKGATE_JWT_PUBLIC_KEY (a PEM key)")
            try:
                RSAAlgorithm(RSAAlgorithm.SHA256).prepare_key(self.jwt_public_key)
            except (InvalidKeyError, ValueError, TypeError):
                raise ValueError("RISKGATE_JWT_PUBLIC_KEY is not a PEM RSA public key") from None
        if self.env != "production":
            return self
        if self.jwt_algorithm.startswith("HS"):
            secret = self.jwt_secret or ""
            if len(secret.encode()) < 32 or secret == DEVELOPMENT_SECRET:
                raise ValueError("production needs RISKGATE_JWT_SECRET of at least 32 bytes")
        elif not self.jwt_public_key:
            raise ValueError("production with RS* needs RISKGATE_JWT_PUBLIC_KEY")
        return self

    @property
    def signing_secret(self) -> str:
        """The HS secret; development falls back to a fixed, well-known one."""
        if self.jwt_secret:
            if len(self.jwt_secret.encode()) < 32:
                raise ValueError("RISKGATE_JWT_SECRET must be at least 32 bytes")
            return self.jwt_secret
        if self.env == "production":
            raise ValueError("RISKGATE_JWT_SECRET is required in production")
        return DEVELOPMENT_SECRET

    @property
    def alerts_channel(self) -> str:
        return f"{self.redis_prefix}:alerts"

    @property
    def job_queue(self) -> str:
        return f"{self.redis_prefix}:jobs"

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @cached_property
    def calendar(self) -> TradingCalendar:
        return TradingCalendar(ZoneInfo(self.trading_day_timezone), self.trading_day_start_hour)


def describe(error: ValidationError) -> str:
    """One line naming each bad setting and what it expects; the values are never shown
    (a secret or a database password must not reach a log)."""
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        message = str(item["msg"]).removeprefix("Value error, ")
        names = [str(part) for part in item["loc"] if isinstance(part, str)]
        if names:
            problems.append(f"RISKGATE_{names[0].upper()}: {message}")
        else:
            problems.append(message)
    return "; ".join(problems)


def load_settings() -> Settings:
    """The settings from the environment; a ConfigError with one clear line otherwise."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(describe(error)) from None


class ConfigError(Exception):
    """The configuration is not usable; the message names the settings at fault."""
