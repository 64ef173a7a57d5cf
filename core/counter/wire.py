"""Seed 001's counter wire names, shared by the agent (which sends) and the API's `/ws` bridge (which
relays to Balto devices): the text-stream topic, the feedback RPC, the event's fields.

A device bridged from seed 001's `/ws` has one microphone that hears the customer and the clerk: its
token carries ``escuta.microphone=shared`` (set by the server, never by the device), and the counter
profile then reads that participant's words as the conversation's (customer words create needs) while
still sending the suggestions to it as the clerk's screen.
"""

from __future__ import annotations

RECOMMENDATION_TOPIC = "escuta.balcao.recomendacao"
FEEDBACK_RPC_METHOD = "escuta.balcao.feedback"
FEEDBACK_TOPIC = "escuta.balcao.feedback"  # the same payload as a text message, for clients without RPC

SEED_EVENT_FIELDS = ("comando", "produto", "explicacao", "transcricao_base", "atendente")
EVENT_FIELDS = ("id", *SEED_EVENT_FIELDS)

MICROPHONE_ATTRIBUTE = "escuta.microphone"
SHARED_MICROPHONE = "shared"
BRIDGE_ATTRIBUTE = "escuta.bridge"
