"""`python -m stack`: the whole embedded stack as one process group (what `just up` runs)."""
