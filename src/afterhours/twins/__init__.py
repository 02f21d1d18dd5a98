"""Loopback twins of the Zendesk, Jira and chat-webhook APIs, for the demo and the tests."""
