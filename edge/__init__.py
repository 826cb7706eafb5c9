"""Media edge: an SFU on aiortc. Built so far: the signalling front door (``signalling``: WebSocket at
/edge/signal, join tokens verified with the API's Ed25519 key in ``tokens``) and packet-level RTP forwarding
with no decode or encode (``forwarder``, sans-I/O; ``rtp_hooks``, the aiortc 1.16 glue; ``ice``, which
addresses media may use), plus a synthetic participant (``synthetic``). Rooms wiring them together come next."""
