"""What the benchmarks (``bench``), the load tests (``loadtests``) and the test suite share to drive a real stack:
launchers for the API and the edge as processes (``server``, ``media_stack``) and synthetic media participants
that join through GraphQL and the signalling socket (``media_load``). Imports neither ``bench`` nor ``loadtests``."""
