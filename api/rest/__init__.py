"""The REST façade (``/api/v1``, OpenAPI 3.1) for third-party integrations: thin Litestar controllers over the
same domain services GraphQL calls. Errors keep GraphQL's codes (``api/rest/errors.py``)."""
