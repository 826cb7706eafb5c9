"""Media edge: an SFU on aiortc.

Clients join over the signalling WebSocket (``signalling``; join tokens checked in ``tokens``), publish with an
offer and receive everyone else's tracks through edge-initiated renegotiation (``rooms``, ``session``; the
room policy is :mod:`sfu.room`). Media is forwarded as RTP packets with no decode or encode: the sans-I/O
packet core is the ``sfu`` package (forwarder, RTCP, bandwidth, layers, speakers, VP8/H.264 readers);
``rtp_hooks`` is the aiortc 1.16 glue. ``simulcast`` negotiates RID-based simulcast in SDP; ``control`` is the
API's control feed (host controls). ``ice`` chooses the addresses media may use; ``synthetic`` is a low-CPU test
participant."""
