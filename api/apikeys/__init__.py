"""Server-to-server API keys: created by an account, shown once, stored hashed, scoped, revocable, rate-limited."""
