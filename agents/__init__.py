"""Escuta's realtime side: LiveKit agent workers, the per-participant audio path and the profiles."""
