"""Plain Starlette routes for the hottest paths, mounted ahead of FastAPI's (issue 20.3, 20.4).

FastAPI's per-request machinery (matching the path against every route, solving even an empty list of
dependencies, validating the response) costs a measurable share of a webhook's or a token's CPU. These
routes call the same endpoint functions their documented FastAPI twins call; like FastAPI they put
themselves in the scope as ``route``, so the metrics label them by template.
"""

from __future__ import annotations

from starlette.routing import Match, Route
from starlette.types import Scope


class FastRoute(Route):
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child = {**child, "route": self}
        return match, child
