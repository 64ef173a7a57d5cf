"""What a client organization made the seed's way (`POST /cadastro/cliente`, seed 001) gets.

The counter solution `balcao` (profile `counter`), a client id, and an owner invitation for the
client's e-mail (issue 15.2), all in the route's transaction. The invitation's one-time token is
answered once to the platform admin, who hands it to the client; whoever accepts it with proof of the
e-mail's account (or by choosing the password of a new one) becomes the organization's owner.
"""

from __future__ import annotations

from uuid import UUID

from control_api.services.invitations import NewInvitation, invite
from core.settings import Settings
from db.pool import Conn

COUNTER_SOLUTION = "balcao"  # seed 001's name for the counter; its profile is `counter`


async def invite_owner(conn: Conn, settings: Settings, org_id: UUID, email: str) -> NewInvitation:
    """The owner invitation for ``email`` in ``org_id`` (``conn`` is scoped to ``org_id``)."""
    return await invite(conn, settings, org_id, email, "owner", "platform-admin")
