"""Accounts: sign-up, log-in, token refresh."""
