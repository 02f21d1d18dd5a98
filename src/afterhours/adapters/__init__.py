"""Adapters: the only code that talks to Zendesk, Jira, chat webhooks and the state file."""
