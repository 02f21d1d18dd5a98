"""Read-only views of the policy at work: `explain` one ticket, `replay` a period of tickets.

Nothing here writes to Zendesk, Jira, chat or the state file; the pure modules build plain
reports and the `commands` module gathers their inputs.
"""
