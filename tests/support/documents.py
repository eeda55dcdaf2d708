"""The GraphQL documents the suite sends, each written once with the fields tests read."""

from __future__ import annotations

TRADE_FIELDS = """
    tradeId clientId status signalId instrument direction volume entryPrice stopLoss
    openedAt exitPrice closedAt realizedPnl
"""
ACCOUNT_FIELDS = """
    clientId balance equity peakEquity currentDrawdownPercent netCashFlows realizedPnl
    openPositionsCount
"""
EXPOSURE_FIELDS = """
    clientId totalExposure
    byInstrument { instrument volume exposure }
    byDirection { direction exposure }
    openPositionsCount reservedPositionsCount reservedExposure
    equity currentDrawdownPercent dailyPnl
"""
RISK_CHECK_FIELDS = f"""
    signalId clientId passes volume notional
    violations {{ check limit current message }}
    headroom {{ check limit used remaining }}
    exposure {{ {EXPOSURE_FIELDS} }}
    profile {{ clientId maxOpenPositions maxPositionSize maxCorrelationExposure tradingMode }}
    decisionId reservationExpiresAt checkedAt
"""
ALERT_FIELDS = "id clientId kind level previousLevel value limit message createdAt"

# Events the approval service reports.
OPEN = f"""
mutation Open($trade: TradeOpenedInput!) {{
  recordTradeOpened(trade: $trade) {{ {TRADE_FIELDS} }}
}}
"""
CLOSE = f"""
mutation Close($trade: TradeClosedInput!) {{
  recordTradeClosed(trade: $trade) {{ {TRADE_FIELDS} }}
}}
"""
CASH = f"""
mutation Cash($flow: CashFlowInput!) {{
  recordCashFlow(flow: $flow) {{ {ACCOUNT_FIELDS} }}
}}
"""
MARKS = """
mutation Marks($prices: [MarkPriceInput!]!) { updateMarkPrices(prices: $prices) }
"""

# Limits and modes.
PROFILE = """
mutation Profile($clientId: String, $input: RiskProfileInput!) {
  updateRiskProfile(clientId: $clientId, input: $input) { clientId maxDailyLoss }
}
"""
PLATFORM = """
mutation Platform($input: PlatformLimitsInput!) {
  updatePlatformLimits(input: $input) { maxTotalExposure maxOpenPositions maxPositionSize }
}
"""
MODE = """
mutation Mode($clientId: String, $mode: TradingMode!, $reason: String!) {
  setTradingMode(clientId: $clientId, mode: $mode, reason: $reason)
}
"""

# Signals.
CHECK = f"""
mutation Check($signal: SignalInput!, $dryRun: Boolean!) {{
  checkSignal(signal: $signal, dryRun: $dryRun) {{ {RISK_CHECK_FIELDS} }}
}}
"""
RELEASE = "mutation Release($id: String!) { releaseSignal(signalId: $id) }"
DECISIONS = f"""
query Decisions($clientId: String, $limit: Int!) {{
  riskDecisions(clientId: $clientId, limit: $limit) {{ {RISK_CHECK_FIELDS} }}
}}
"""
POSITION_SIZE = """
query Size($clientId: String, $instrument: String!, $entry: Decimal!, $stop: Decimal!) {
  positionSize(clientId: $clientId, instrument: $instrument, entryPrice: $entry, stopLoss: $stop)
  { volume riskAmount riskAtStop equity clampedBy }
}
"""

# Reports.
EXPOSURE = f"""
query Exposure($clientId: String) {{ exposure(clientId: $clientId) {{ {EXPOSURE_FIELDS} }} }}
"""
GLOBAL = """
{ globalExposure {
    totalPlatformExposure totalOpenPositions reservedPositions reservedExposure
    maxExposureLimit maxPositionsLimit exposureUtilizationPercent positionsUtilizationPercent
    dailyPlatformPnl maxDailyLoss tradingMode
    byInstrument { instrument volume exposure }
} }
"""
ALERTS = f"""
query Alerts($clientId: String, $limit: Int! = 100) {{
  breakerAlerts(clientId: $clientId, limit: $limit) {{ {ALERT_FIELDS} }}
}}
"""
SUBSCRIBE = f"""
subscription Watch($clientId: String) {{
  breakerAlerts(clientId: $clientId) {{ {ALERT_FIELDS} }}
}}
"""
