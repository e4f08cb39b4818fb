# syntax=docker/dockerfile:1
# The product's one image: `overdue worker`, `overdue api`, `overdue migrate` and the ops
# commands (`docker compose run --rm api status A-1001`). docker-compose.yml builds it.
#
# Dependencies are the runtime subset of requirements-lock.txt at the very same versions
# (deploy/requirements-runtime.txt, hash-checked; tests/deploy keeps the two in step), so the
# image runs what the tests ran, without the test and lint tools.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 UV_PYTHON_DOWNLOADS=never UV_NO_CACHE=1
COPY requirements-lock.txt deploy/requirements-runtime.txt /tmp/
# uv at the lock's version, bootstrapped with pip as the Makefile does; it stays in this stage.
RUN pip install "uv==$(sed -n 's/^uv==\([^ ]*\).*/\1/p' /tmp/requirements-lock.txt)" \
 && uv venv /opt/venv \
 && uv pip sync --python /opt/venv/bin/python --require-hashes /tmp/requirements-runtime.txt

FROM ${PYTHON_IMAGE}
# Letters embed Noto Sans CJK from Debian (OVERDUE_LETTER_FONT; docs/letters.md), the same
# package scripts/debian-packages installs for the tests.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
# An unprivileged user; the app writes nothing to its own folder.
RUN useradd --system --uid 10001 --no-create-home --home-dir /app overdue
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The source tree as in the repository: settings find policies/ and migrations/ beside the
# packages (overdue.settings.PROJECT_ROOT), so it runs from here rather than as a wheel.
COPY pyproject.toml ./
COPY overdue/ overdue/
COPY workflows/ workflows/
COPY activities/ activities/
COPY workers/ workers/
COPY api/ api/
COPY migrations/ migrations/
COPY policies/ policies/
# Bytecode compiled now: the image runs with PYTHONDONTWRITEBYTECODE and cannot write /app, and
# the workflow sandbox imports the workflow module again for every workflow instance. Without a
# .pyc each import compiles the source anew: 13% of a worker's CPU in a profile
# (docs/benchmarks.md, "The sandbox's imports").
RUN /opt/venv/bin/python -m compileall -q overdue workflows activities workers api
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OVERDUE_STATE_DIR=/tmp/overdue-state
USER overdue
# 8000: the API (OVERDUE_API_PORT); 9464: the worker's /metrics (OVERDUE_WORKER_METRICS_ADDRESS).
EXPOSE 8000 9464
ENTRYPOINT ["python", "-m", "workers.cli.main"]
CMD ["--help"]
