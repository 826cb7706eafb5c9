"""Personal data: export as an archive, account deletion, recording retention."""
