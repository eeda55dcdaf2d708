"""Who may do what: roles, and a client reaching only its own data."""

from __future__ import annotations

from dataclasses import dataclass

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
