"""The agent profiles a solution may run (`PUT /solutions/{name}`): the names the worker registers.

The worker's registry (agents/profiles) is the source of truth, but the control API cannot import agents/
(layers): this list is its mirror, and tests/contract/test_input_edges.py fails when the two differ. Before it,
any profile name was accepted and the worker dispatched rooms to a profile that does not exist (issue 14.6).
"""

from __future__ import annotations

from typing import Literal, get_args

ProfileName = Literal["transcription", "counter", "balcao", "meeting_coach", "avatar"]
PROFILE_NAMES: tuple[str, ...] = get_args(ProfileName)
