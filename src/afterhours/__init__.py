"""afterhours: a self-hosted Zendesk/Jira after-hours triage and sync daemon."""

__version__ = "0.1.0"
