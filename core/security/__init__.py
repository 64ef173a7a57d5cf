"""Security primitives: password hashing, user JWTs, API keys, rate limits. No I/O, no database."""
