"""What a client organization made the seed's way (`POST /cadastro/cliente`, seed 001) gets.

The counter solution `balcao` (profile `counter`) and a client id are created in the route's
transaction. The owner invitation for the client's e-mail is the seam below: it needs issue 14's
invitations (a pending invitation with a one-time token, `POST /invitations/accept`), built in parallel.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

COUNTER_SOLUTION = "balcao"  # seed 001's name for the counter; its profile is `counter`


async def invite_owner(pool: asyncpg.Pool, org_id: UUID, email: str) -> None:
    """SEAM (issue 14): create an owner invitation for ``email`` in ``org_id`` and return it, so
    `/cadastro/cliente` can answer its one-time token once to the platform admin.

    Does nothing until issue 14's invitations are merged; tests/compat/test_seed001_cadastro.py holds
    the expected behaviour as a strict xfail ("needs issue 14's invitations").
    """
    del pool, org_id, email
