"""Clips and bursts (seed 004, Clipador): Twitch clip ingestion, burst detection, monitoring presets."""
