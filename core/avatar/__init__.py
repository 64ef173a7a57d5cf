"""Avatar (issue 10, seed 000 "EuVatar"): voice checks, media triggers and credit prices.

Shared by the control API (configuration, `/context/resolve`, `/credits`) and the avatar profile
(agents/profiles/avatar.py); nothing here touches a room.
"""
