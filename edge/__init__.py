"""Media edge: an SFU on aiortc. Built so far: the signalling front door (``signalling``: WebSocket at
/edge/signal, join tokens verified with the API's Ed25519 public key in ``tokens``); media comes next."""
