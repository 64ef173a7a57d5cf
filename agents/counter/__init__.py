"""The counter assistant (seed 001, "Balto"): product suggestions from a pharmacy counter conversation.

Layers, each usable alone:

- ``catalog``: products and the CSV format shared by the sample catalog and the import route;
- ``text`` + ``lexicon``: Portuguese normalization, colloquial symptom names, negation;
- ``conversation``: what the customer has said so far (needs, conditions, who said it);
- ``recommender``: one interface, a local (offline) and an LLM implementation, both behind ``safety``;
- ``events``: seed 001's ``{"comando": "recomendar", ...}`` event and the clerk's feedback;
- ``assistant``: ``CounterAssistant``, the seam the live counter profile feeds transcript segments into.
"""
