"""Media edge: an SFU on aiortc.

Clients join over the signalling WebSocket (``signalling``; join tokens checked in ``tokens``), publish with an
offer and receive everyone else's tracks through edge-initiated renegotiation (``rooms``, ``room``, ``session``).
Media is forwarded as RTP packets with no decode or encode: ``forwarder`` (sans-I/O), ``rtp_hooks`` (the aiortc
1.16 glue), ``rtcp`` (NACK/RTX, sender and receiver reports), ``bandwidth`` (per-subscriber estimates),
``audio_level`` (RFC 6464). ``speakers`` and ``room`` decide who receives what (last-N, top-N audio);
``control`` is the API's control feed (host controls); ``simulcast`` and ``layers`` are the pure parts of
simulcast receive (not wired yet). ``ice`` chooses the addresses media may use; ``synthetic`` is a low-CPU test
participant."""
