"""The routing policy: YAML that support leads own, validated into plain models."""

from afterhours.policy.load import LoadedPolicy, load_policy, parse_policy
from afterhours.policy.model import Policy

__all__ = ["LoadedPolicy", "Policy", "load_policy", "parse_policy"]
