"""Reminders: each person's « À faire » (what waits for them, by due date), daily e-mail
digests over the organisation's SMTP relay, and a private calendar feed. Reads the rules of
every domain below it (alerts, claims, staff, operations, accounts); writes only its own
tables."""
