"""Calendars (issue 18): iCalendar files of meetings, a secret per-user feed, iTIP/iMIP e-mail invitations."""
