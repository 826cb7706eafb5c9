"""Meeting and recording analytics: talk time, speakers, chat, reactions, polls, attendance, recording views."""
