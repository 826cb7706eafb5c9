"""Media edge: an SFU on aiortc that forwards encoded RTP (issue: media edge). Not built yet."""
