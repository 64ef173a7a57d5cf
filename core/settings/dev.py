"""Built-in development secrets. Public knowledge: `ESCUTA_ENV=prod` refuses to start with any of them."""

from __future__ import annotations

# The keys our livekit.yaml configures; 32+ bytes, as LiveKit and HS256 want.
DEV_LIVEKIT_API_KEY = "devkey"
DEV_LIVEKIT_API_SECRET = "escuta-dev-secret-0123456789abcdef"
DEV_ADMIN_TOKEN = "dev-admin-token"
# Seed 002's dev names, padded to the 32 bytes HS256 wants.
DEV_JWT_ACCESS_SECRET = "dev-access-secret-not-for-production"
DEV_JWT_REFRESH_SECRET = "dev-refresh-secret-not-for-production"
