"""A small LiveKit-compatible server for tests (a test double, never a way to run Escuta).

See README.md in this directory for what it implements, how the pytest fixture is used and how it
differs from the real LiveKit server.
"""
