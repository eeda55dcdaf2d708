"""Known defects whose fixes are under way elsewhere: matched narrowly, counted, reported.

Each name is one defect of the hardening issue. An exchange that shows it is still held to
"no 5xx" but not to the rest; delete the entry (and its matcher) once the fix has landed:
the suite must then stay green without it.
"""

from __future__ import annotations

import re

from tests.fuzz.harness import Answer
from tests.fuzz.hostile import RawNumber
from tests.fuzz.requests import Request

# A lone surrogate or NUL inside a String argument is accepted (stored on SQLite) or ends
# in INTERNAL on PostgreSQL, instead of BAD_USER_INPUT naming the field.
SURROGATE_OR_NUL_STRING = "surrogate-or-nul-string"
# "2024-01-01T00:00:00Z\u0000" is accepted as a date-time.
NUL_SUFFIXED_DATETIME = "nul-suffixed-datetime"
# An explicit null for a limit that has no "no limit" meaning reaches the database's NOT NULL
# constraint and answers INTERNAL.
EXPLICIT_NULL_LIMIT = "explicit-null-limit"
# A JSON number of more than 4300 digits raises while the body is decoded (HTTP 500).
JSON_NUMBER_OVER_4300_DIGITS = "json-number-over-4300-digits"
# On PostgreSQL, a root field refused while a sibling field of the same document is mid-
# statement closes that connection under it, and the closed connection goes back to the pool:
# a later request of anyone answers RISK_UNAVAILABLE.
REFUSED_SIBLING_POISONS_POOL = "refused-sibling-poisons-pool"

KNOWN_PENDING: frozenset[str] = frozenset()
_BAD_TEXT_LABELS = {"lone-surrogate", "lone-low-surrogate", "nul", "nul-suffix"}


def _refused_as_bad_input(answer: Answer) -> bool:
    return answer.refused and "BAD_USER_INPUT" in answer.codes


def poisoned_pool(answer: Answer, *, postgres: bool, after_refused_sibling: bool) -> bool:
    """RISK_UNAVAILABLE "store unavailable" on PostgreSQL, once some document has had a field
    refused next to running siblings, and nothing else wrong with the answer."""
    if not (postgres and after_refused_sibling) or answer.status >= 500:
        return False
    unavailable = [
        e for e in answer.errors if e.get("extensions", {}).get("code") == "RISK_UNAVAILABLE"
    ]
    return bool(unavailable) and all(
        str(e.get("message", "")).startswith("the risk store is unavailable") for e in unavailable
    )


def known_pending(request: Request, answer: Answer) -> str | None:
    """The name of the known defect this exchange shows, if any."""
    hostile = request.hostile
    if any(isinstance(h.value, RawNumber) and len(h.value.text) > 4300 for h in hostile):
        return JSON_NUMBER_OVER_4300_DIGITS if answer.status == 500 else None
    if answer.status >= 500 or _refused_as_bad_input(answer):
        return None
    if any(h.label == "nul-suffix" and str(h.value).endswith("Z\x00") for h in hostile):
        return NUL_SUFFIXED_DATETIME
    if any(h.label in _BAD_TEXT_LABELS and isinstance(h.value, str) for h in hostile):
        return SURROGATE_OR_NUL_STRING
    inputs = [v for k, v in request.variables.items() if k.endswith("input")]
    if (
        "updatePlatformLimits" in request.operation
        and "INTERNAL" in answer.codes
        and any(_has_explicit_null(v) for v in inputs)
    ):
        return EXPLICIT_NULL_LIMIT
    return None


_BAD_TEXT_IN_DOCUMENT = re.compile(r"[\x00\ud800-\udfff]|\\u0000|\\u[dD][89a-fA-F]")


def known_pending_document(document: str, answer: Answer) -> str | None:
    """The same, for a generated document with inline values."""
    if "INTERNAL" not in answer.codes:
        return None
    if _BAD_TEXT_IN_DOCUMENT.search(document):
        return SURROGATE_OR_NUL_STRING
    if "updatePlatformLimits" in document and ": null" in document:
        return EXPLICIT_NULL_LIMIT
    return None


def _has_explicit_null(value: object) -> bool:
    if isinstance(value, dict):
        return any(v is None or _has_explicit_null(v) for v in value.values())
    return False


def known_malformed(row: str) -> str | None:
    """A stored value the API should have refused, matching a known defect."""
    if row.endswith(": NUL") or row.endswith(": lone surrogate"):
        return SURROGATE_OR_NUL_STRING
    return None
