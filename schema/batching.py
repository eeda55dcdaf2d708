"""Keep the cyclic garbage collector out of the way of a checkSignals operation."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from resolvers.batch import collector_paused


class BatchesPauseCollector(SchemaExtension):
    """Pause the collector for the whole of an operation that checks a batch.

    Its thousands of input objects are coerced before the resolver runs and its answers
    completed after it returns; the collector would traverse them again and again there
    as well (see `collector_paused`).
    """

    def on_operation(self) -> Iterator[None]:
        query = self.execution_context.query or ""
        if "checkSignals" not in query:
            yield
            return
        with collector_paused():
            yield
