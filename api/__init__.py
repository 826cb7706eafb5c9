"""The control plane: GraphQL API over SQLite/PostgreSQL with an event bus."""
