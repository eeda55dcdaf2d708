"""A small Prometheus text exposition: request counts, error codes, decisions, latency."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass
class Metrics:
    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)
    latency_buckets: list[int] = field(default_factory=lambda: [0] * (len(_BUCKETS) + 1))
    latency_sum: float = 0.0
    latency_count: int = 0

    def observe_request(self, status: int, seconds: float) -> None:
        self.requests[str(status)] += 1
        self.latency_sum += seconds
        self.latency_count += 1
        for i, bound in enumerate(_BUCKETS):
            if seconds <= bound:
                self.latency_buckets[i] += 1
                return
        self.latency_buckets[-1] += 1

    def render(self) -> str:
        lines = [
            "# HELP riskgate_http_requests_total HTTP requests by status.",
            "# TYPE riskgate_http_requests_total counter",
        ]
        lines += [
            f'riskgate_http_requests_total{{status="{s}"}} {n}'
            for s, n in sorted(self.requests.items())
        ]
        lines += [
            "# HELP riskgate_graphql_errors_total GraphQL errors by code.",
            "# TYPE riskgate_graphql_errors_total counter",
        ]
        lines += [
            f'riskgate_graphql_errors_total{{code="{c}"}} {n}'
            for c, n in sorted(self.errors.items())
        ]
        lines += [
            "# HELP riskgate_risk_decisions_total Reserving risk checks by outcome.",
            "# TYPE riskgate_risk_decisions_total counter",
        ]
        lines += [
            f'riskgate_risk_decisions_total{{outcome="{o}"}} {n}'
            for o, n in sorted(self.decisions.items())
        ]
        lines += [
            "# HELP riskgate_http_request_seconds HTTP request latency.",
            "# TYPE riskgate_http_request_seconds histogram",
        ]
        running = 0
        for bound, count in zip(_BUCKETS, self.latency_buckets, strict=False):
            running += count
            lines.append(f'riskgate_http_request_seconds_bucket{{le="{bound}"}} {running}')
        lines.append(f'riskgate_http_request_seconds_bucket{{le="+Inf"}} {self.latency_count}')
        lines.append(f"riskgate_http_request_seconds_sum {self.latency_sum:.6f}")
        lines.append(f"riskgate_http_request_seconds_count {self.latency_count}")
        return "\n".join(lines) + "\n"
