"""The packet core both the edge and the relay import: stdlib only, sans-I/O, nothing of ``edge`` or ``relay``.

``forwarder`` (one published track fanned out to per-subscriber rewriters), ``rtcp`` (NACK/RTX history, sender
and receiver reports, REMB), ``bandwidth`` (per-subscriber estimates), ``layers`` (which simulcast layer each
subscriber gets), ``speakers`` and ``audio_level`` (RFC 6464 levels → dominant speaker), ``room`` (the pure
policy: who receives what, last-N and top-N audio), and the codec readers ``vp8`` and ``h264``. As LiveKit's
``pkg/sfu``, it knows tracks and packets, never sockets, sessions or aiortc."""
