"""Who may do what: the role table, and a client reaching only its own data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import BadInput, Forbidden
from domain.profile import validate_client_id
from domain.values import Role


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: a client (sub is its clientId), the service or an admin."""

    sub: str
    role: Role

    @property
    def is_client(self) -> bool:
        return self.role is Role.CLIENT


def require_role(caller: Caller, *roles: Role) -> Caller:
    if caller.role not in roles:
        raise Forbidden(f"the {caller.role.value} role may not do this")
    return caller


def client_scope(caller: Caller, client_id: str | None) -> str:
    """The client an operation acts on: a client only ever its own; others must name one."""
    if caller.is_client:
        if client_id is not None and client_id != caller.sub:
            raise Forbidden("a client may only reach its own data")
        return caller.sub
    if client_id is None:
        raise BadInput("clientId is required for service and admin callers", field="clientId")
    return validate_client_id(client_id)


STAFF = (Role.SERVICE, Role.ADMIN)


class Scope(StrEnum):
    """Who may call an operation."""

    ANYONE = "anyone"  # every authenticated caller
    OWN = "own"  # a client for itself; the service and admins for any client they name
    STAFF = "staff"  # the approval service and admins
    ADMIN = "admin"  # operators only


# The role table: every operation of the API and who may call it. Resolvers authorize
# through it (`authorize`), and the access tests read it.
ROLE_TABLE: dict[str, Scope] = {
    "riskProfile": Scope.OWN,
    "exposure": Scope.OWN,
    "exposureHistory": Scope.OWN,
    "positionSize": Scope.OWN,
    "riskDecisions": Scope.OWN,
    "breakerAlerts": Scope.OWN,
    "updateRiskProfile": Scope.OWN,
    "checkSignal.dryRun": Scope.OWN,
    "checkSignal": Scope.STAFF,
    "checkSignals.dryRun": Scope.OWN,
    "checkSignals": Scope.STAFF,
    "releaseSignal": Scope.STAFF,
    "recordTradeOpened": Scope.STAFF,
    "recordTradeClosed": Scope.STAFF,
    "recordCashFlow": Scope.STAFF,
    "updateMarkPrices": Scope.STAFF,
    "setTradingMode.client": Scope.STAFF,
    "setTradingMode.platform": Scope.ADMIN,
    "globalExposure": Scope.ADMIN,
    "platformLimits": Scope.ADMIN,
    "updatePlatformLimits": Scope.ADMIN,
    "upsertInstrument": Scope.ADMIN,
    "clients": Scope.STAFF,
    "instruments": Scope.ANYONE,
}

_ROLES = {
    Scope.ANYONE: tuple(Role),
    Scope.OWN: tuple(Role),
    Scope.STAFF: STAFF,
    Scope.ADMIN: (Role.ADMIN,),
}


def authorize(caller: Caller, operation: str) -> Caller:
    """Refuse a caller whose role the role table does not allow for `operation`.

    Operations scoped to a client (`Scope.OWN`) then resolve their target with
    `client_scope`."""
    return require_role(caller, *_ROLES[ROLE_TABLE[operation]])
