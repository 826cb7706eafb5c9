"""Polls in meetings: drafts, launch, one vote per participant, live counts for hosts, shared results; anonymous
polls keep who voted apart from what was chosen (see `service`)."""
