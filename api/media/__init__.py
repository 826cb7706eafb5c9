"""The API's side of the media plane: the control feed edges watch (host controls they enforce) and what they
report back (the dominant speaker)."""
