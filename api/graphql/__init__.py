"""GraphQL boundary: schema assembly, request context, error mapping."""
