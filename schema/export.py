"""Print the schema's SDL (what `schema/schema.graphql` must hold)."""

from __future__ import annotations

from schema.build import build_schema


def sdl() -> str:
    return build_schema().as_str() + "\n"


if __name__ == "__main__":
    print(sdl(), end="")
