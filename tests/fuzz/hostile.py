"""Hostile wire values per scalar kind, each marked with whether the API must refuse it.

A value the scalar itself must refuse (non-finite decimals, malformed date-times, strings with
lone surrogates or NUL, ints outside 32 bits, unknown enum values) makes the whole request a
BAD_USER_INPUT; the others (empty strings, "-0", SQL-looking text, long strings) may pass the
scalar and are refused, or not, by the rules behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from riskgate.settings import Settings

# The service's default body limit; a string that still fits under it with its envelope,
# and one that does not (the body limit must answer it with a coded 413).
BODY_LIMIT: int = Settings.model_fields["max_body_bytes"].default
NEAR_BODY_LIMIT = BODY_LIMIT - 100_000
OVER_BODY_LIMIT = BODY_LIMIT + 1


@dataclass(frozen=True)
class RawNumber:
    """A JSON number sent verbatim (NaN, Infinity, 1E+1000000 are not valid JSON)."""

    text: str


@dataclass(frozen=True)
class Hostile:
    """One hostile leaf: the wire value, a short label for reports, and the expected verdict."""

    value: Any
    label: str
    must_refuse: bool

    def __repr__(self) -> str:
        shown = self.value
        if isinstance(shown, RawNumber):
            shown = shown.text
        if isinstance(shown, str) and len(shown) > 40:
            shown = f"{shown[:12]}…<{len(shown)} chars>"
        return f"Hostile({self.label}: {shown!r})"


def _h(value: Any, label: str, *, refuse: bool) -> Hostile:
    return Hostile(value, label, refuse)


STRINGS: tuple[Hostile, ...] = (
    _h("", "empty", refuse=False),
    _h("   ", "blank", refuse=False),
    _h("\ud800", "lone-surrogate", refuse=True),
    _h("ab\udfffcd", "lone-low-surrogate", refuse=True),
    _h("\x00", "nul", refuse=True),
    _h("EURUSD\x00", "nul-suffix", refuse=True),
    _h("alice\n", "trailing-newline", refuse=False),
    _h("x" * 129, "over-column-width", refuse=False),
    _h("A" * NEAR_BODY_LIMIT, "near-limit", refuse=False),
    _h("A" * OVER_BODY_LIMIT, "over-limit", refuse=True),
    _h("'; DROP TABLE trades; --", "quote-injection", refuse=False),
    _h("\u202egnp.exe", "bidi-override", refuse=False),
    _h("𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "astral", refuse=False),
    _h("%s%n{0}", "format-directives", refuse=False),
    _h(123, "int-for-string", refuse=True),
    _h(True, "bool-for-string", refuse=True),
    _h(["EURUSD"], "list-for-string", refuse=True),
)

DECIMALS: tuple[Hostile, ...] = (
    _h("NaN", "nan", refuse=True),
    _h("-sNaN", "snan", refuse=True),
    _h("Infinity", "infinity", refuse=True),
    _h("-Infinity", "minus-infinity", refuse=True),
    _h("1E+1000000", "exponent-overflow", refuse=True),
    _h("1e-1000000", "exponent-underflow", refuse=True),
    _h("9" * 29, "29-digits", refuse=True),
    _h("0." + "1" * 30, "30-decimals", refuse=True),
    _h("1e18", "over-range", refuse=True),
    _h("", "empty", refuse=True),
    _h("1,000", "thousands-comma", refuse=True),
    _h("0x10", "hex", refuse=True),
    _h("\ud800", "lone-surrogate", refuse=True),
    _h("1\x00", "nul", refuse=True),
    _h(RawNumber("NaN"), "json-nan", refuse=True),
    _h(RawNumber("Infinity"), "json-infinity", refuse=True),
    _h(RawNumber("1E+1000000"), "json-exponent-overflow", refuse=True),
    _h(10**30, "json-huge-int", refuse=True),
    _h(True, "bool", refuse=True),
    _h({"value": "1"}, "object", refuse=True),
    _h("-0", "minus-zero", refuse=False),
    _h("-0.00", "minus-zero-cents", refuse=False),
    _h("0", "zero", refuse=False),
    _h("-1", "negative", refuse=False),
    _h("0.001", "sub-cent", refuse=False),
    _h("1e17", "large", refuse=False),
    _h(" 1.50 ", "padded", refuse=False),
    _h(RawNumber("1.5"), "json-float", refuse=False),
    _h("99999999999999999.99", "largest-in-range", refuse=False),
    _h("0.000000000001", "smallest-in-range", refuse=False),
)

DATETIMES: tuple[Hostile, ...] = (
    _h("2024-01-01T00:00:00", "zone-less", refuse=True),
    _h("2024-01-01", "date-only", refuse=True),
    _h("2024-13-01T00:00:00Z", "month-13", refuse=True),
    _h("2024-02-30T00:00:00Z", "february-30", refuse=True),
    _h("2024-01-01T00:00:00Z\x00", "nul-suffix", refuse=True),
    _h("2024-01-01T00:00:00+25:00", "offset-25h", refuse=True),
    _h("0001-01-01T00:00:00+14:00", "before-year-1-in-utc", refuse=True),
    _h("yesterday", "words", refuse=True),
    _h("", "empty", refuse=True),
    _h("\ud800", "lone-surrogate", refuse=True),
    _h(1_700_000_000, "epoch-int", refuse=True),
    _h("9999-12-31T23:59:59-14:00", "after-year-9999-in-utc", refuse=True),
    _h("1970-01-01T00:00:00+00:00", "epoch", refuse=False),
    _h("0001-01-01T00:00:00Z", "first-instant", refuse=False),
    _h("9999-12-31T23:59:59.999999Z", "last-instant", refuse=False),
    _h("2999-01-01T00:00:00Z", "far-future", refuse=False),
)

INTS: tuple[Hostile, ...] = (
    _h(2**31, "2^31", refuse=True),
    _h(-(2**31) - 1, "-2^31-1", refuse=True),
    _h(2**63, "2^63", refuse=True),
    _h(10**400, "400-digits", refuse=True),
    _h(RawNumber("9" * 5000), "5000-digits", refuse=True),
    _h(RawNumber("NaN"), "json-nan", refuse=True),
    _h(RawNumber("1E+1000000"), "json-exponent-overflow", refuse=True),
    _h(1.5, "fraction", refuse=True),
    _h("1", "string", refuse=True),
    _h(-1, "negative", refuse=False),
    _h(0, "zero", refuse=False),
    _h(2**31 - 1, "int-max", refuse=False),
    _h(-(2**31), "int-min", refuse=False),
)

BOOLEANS: tuple[Hostile, ...] = (
    _h("true", "string", refuse=True),
    _h(1, "int", refuse=True),
)


def enum_hostiles(values: tuple[str, ...]) -> tuple[Hostile, ...]:
    first = values[0]
    return (
        _h(first.lower(), "lower-case", refuse=True),
        _h(f"{first} ", "trailing-space", refuse=True),
        _h("HOLD", "unknown", refuse=True),
        _h("", "empty", refuse=True),
        _h(0, "ordinal", refuse=True),
    )


BY_SCALAR: dict[str, tuple[Hostile, ...]] = {
    "String": STRINGS,
    "ID": STRINGS,
    "Decimal": DECIMALS,
    "DateTime": DATETIMES,
    "Int": INTS,
    "Boolean": BOOLEANS,
}
