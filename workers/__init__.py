"""Background jobs (arq on Redis, or in-process): recording composition, transcription, webhooks. Not built yet."""
