"""Escuta's control plane: tokens, devices, LiveKit webhooks, sessions and reports (FastAPI)."""
