"""Contract checks: what afterhours and its twins exchange, validated against the vendors' specs.

The official OpenAPI documents of Zendesk Support and Jira Cloud (kept outside this repository,
see `specs.find_specs_dir`; the part afterhours uses is shipped in spec_subset/, made by
`subset`) are the reference: every request and every answer the twins record
is validated with openapi-core. Known differences between the specs and the live services are
listed, each with its reason, in `allowances`. This package needs the `dev` extra (openapi-core)
and is used by the test suite only; the daemon never imports it.
"""
