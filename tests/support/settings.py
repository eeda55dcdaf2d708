"""Settings for an app under test: a known signing secret, no environment file, no migrating."""

from __future__ import annotations

from riskgate.settings import Settings

TEST_SECRET = "riskgate-test-secret-0123456789abcdef"


def make_settings(database_url: str, **overrides: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        jwt_secret=TEST_SECRET,
        auto_migrate=False,
        **overrides,  # type: ignore[arg-type]
    )
