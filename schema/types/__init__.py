"""Output types: thin views that round for display and nothing else."""

from schema.types.alerts import BreakerAlertView
from schema.types.checks import HeadroomView, PositionSizeView, RiskCheckView, ViolationView
from schema.types.exposure import (
    ClientPageView,
    DirectionExposureView,
    ExposureView,
    GlobalExposureView,
    InstrumentExposureView,
)
from schema.types.ledger import AccountView, InstrumentView, TradeView
from schema.types.profiles import ClientCeilingsView, PlatformLimitsView, RiskProfileView

__all__ = [
    "AccountView",
    "BreakerAlertView",
    "ClientCeilingsView",
    "ClientPageView",
    "DirectionExposureView",
    "ExposureView",
    "GlobalExposureView",
    "HeadroomView",
    "InstrumentExposureView",
    "InstrumentView",
    "PlatformLimitsView",
    "PositionSizeView",
    "RiskCheckView",
    "RiskProfileView",
    "TradeView",
    "ViolationView",
]
