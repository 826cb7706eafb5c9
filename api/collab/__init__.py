"""Shared CRDT documents (meeting notes, whiteboards) over the Yjs sync and awareness protocols."""
