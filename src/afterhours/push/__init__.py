"""Push mode: signed Zendesk and Jira webhook deliveries, verified (verify), queued (queue) by
the HTTP server's routes (routes), and taken by the daemon's loop between passes (handling).
The cursor poll keeps running beside it: a lost delivery only means a later pass."""
