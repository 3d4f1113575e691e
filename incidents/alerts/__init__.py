"""Alert e-mails: what is new in the store, queued in an outbox, composed, sent once, never a flood.

The steps a mail goes through, one module each: `collect` (the news: spike episodes, severe incidents,
silent feeds, daily summaries), `outbox` (the store's tables and their state changes), `compose`
(plain text and HTML from one view, Jinja2), `send` (smtplib), `job` (one cron run, under `joblock`'s lock), and
`failed` (the operator's requeue or dismissal of alerts the server refused for good).
The read API for the TUI and `incidents doctor` is `list_alerts`, `alert_counts`, `last_alert_run`.
"""

from incidents.alerts.outbox import AlertRun, OutboxRow, alert_counts, last_alert_run, list_alerts

__all__ = ["AlertRun", "OutboxRow", "alert_counts", "last_alert_run", "list_alerts"]
