"""The per-track capture format (encoded packets in Matroska plus a JSON sidecar, see ``protocol.jobs``): the
edge writes it while recording, the workers read it to compose and transcribe. Its own package because edge and
workers never import each other; it depends on PyAV and ``protocol`` only."""
