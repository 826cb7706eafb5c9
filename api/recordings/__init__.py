"""Cloud recordings of meetings: capture control, listing, sharing (media files come from the edge and workers)."""
