"""Parked actions come back when the configuration they depend on changes.

An action that failed for good (an unknown Jira project, a mistyped webhook URL) is parked:
settled as 'failed' in the ledger, so no pass plans it again. A fix is usually a change of
the policy or of the settings, so the daemon keeps a fingerprint of both in the state file;
when it starts or reloads the policy with a different one, it releases every parked action
once (audit row `retry_automatic`) and the next pass plans them again through the ledger.
If the cause was not fixed, they fail and are parked again until the next change (or
`afterhours retry`): a change releases them once, never in a loop.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import structlog

from afterhours.adapters.state import StateStore
from afterhours.clock import Clock
from afterhours.policy import LoadedPolicy
from afterhours.settings import Settings

log = structlog.get_logger()
# The settings whose values the actions themselves depend on (where they go, who acts);
# tokens are left out: a refused one makes actions wait, it never parks them.
ACTING_SETTINGS = ("zendesk_url", "zendesk_email", "jira_url", "jira_email")
AUTOMATIC = "retry_automatic"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def config_fingerprint(settings: Settings, policy_sha256: str) -> dict[str, str]:
    """Digests of what actions depend on: the policy, the acting settings, and each channel's
    webhook URL (hashed: the URLs are secrets and never stored in clear)."""
    acting = {name: str(getattr(settings, name)) for name in ACTING_SETTINGS}
    parts = {"policy": policy_sha256, "settings": _digest(json.dumps(acting, sort_keys=True))}
    for channel, url in settings.webhooks.items():
        parts[f"webhook:{channel}"] = _digest(url.get_secret_value())
    return parts


def change_reason(stored: Mapping[str, str], current: Mapping[str, str]) -> str | None:
    """Why parked actions are released: "policy changed", "settings changed" (or both), or
    None when nothing changed or nothing was stored yet (no change is known then)."""
    if not stored:
        return None
    policy = stored.get("policy") != current.get("policy")
    others = ({k: v for k, v in stored.items() if k != "policy"}
              != {k: v for k, v in current.items() if k != "policy"})
    if policy and others:
        return "policy and settings changed"
    if policy:
        return "policy changed"
    return "settings changed" if others else None


def release_on_change(state: StateStore, fingerprint: Mapping[str, str], clock: Clock) -> int:
    """Release every parked action once if `fingerprint` differs from the stored one, then
    store it; return how many were released."""
    stored = state.config_fingerprint()
    if dict(stored) == dict(fingerprint):
        return 0
    reason = change_reason(stored, fingerprint)
    with state.batch():  # released and remembered together: a change releases them once
        released = [] if reason is None else state.release_parked(
            None, at=clock(), outcome=AUTOMATIC, reason=reason, detail={"by": "afterhours"})
        state.store_config_fingerprint(fingerprint)
    if released:
        log.info("parked.released", count=len(released), reason=reason, trigger="automatic")
    return len(released)


def replan_on_change(settings: Settings, state: StateStore, clock: Clock,
                     loaded: LoadedPolicy) -> int:
    """`release_on_change` for the policy `loaded` with `settings`: at start and on reload."""
    return release_on_change(state, config_fingerprint(settings, loaded.sha256), clock)
