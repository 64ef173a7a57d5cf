"""Seed 002's egress done by the agent: WAV segments of each participant's audio."""
