# Marquee: Debian bookworm-slim, Debian's Python 3.11, a virtualenv of requirements.txt, a non-root user.
#
#   docker build -t marquee .                                 # wheels from PyPI (the ordinary way)
#   docker build --build-arg WHEELS=local -t marquee .        # wheels from ./wheels, built on the host:
#                                                             #   pip wheel -r requirements.txt -w wheels/
# docs/docker.md has the volumes, the variables and a compose file; .ci/container builds and tests it.
ARG WHEELS=pypi

FROM debian:bookworm-slim AS python
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*

# pip and ensurepip live only in the build stages, never in the final image.
FROM python AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-venv \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*

FROM builder AS wheels-pypi
COPY requirements.txt /tmp/requirements.txt
RUN python3 -m venv /tmp/pip \
 && /tmp/pip/bin/pip wheel --no-cache-dir -q -r /tmp/requirements.txt -w /wheels

FROM builder AS wheels-local
COPY wheels/ /wheels/

# Only the stage WHEELS names is built (BuildKit and buildah skip unused stages).
FROM wheels-${WHEELS} AS wheels

FROM builder AS venv
COPY requirements.txt /tmp/requirements.txt
COPY --from=wheels /wheels /wheels
RUN python3 -m venv /venv \
 && /venv/bin/pip install --no-cache-dir --no-index --find-links /wheels -q -r /tmp/requirements.txt \
 && /venv/bin/pip uninstall -y -q pip setuptools \
 && find /venv -name '__pycache__' -prune -exec rm -rf {} +

FROM python
RUN useradd --system --uid 1000 --user-group --home-dir /config --no-create-home --shell /usr/sbin/nologin marquee \
 && mkdir -p /app /config /data /output \
 && chown marquee:marquee /config /data /output \
 && chmod 0700 /data \
 && printf '#!/bin/sh\n# tasks.py lives in /app; the working folder stays /config (marquee.toml, .env).\nexec /venv/bin/invoke --search-root /app "$@"\n' > /usr/local/bin/invoke \
 && chmod 0755 /usr/local/bin/invoke
COPY --from=venv /venv /venv
COPY tasks.py pelicanconf.py publishconf.py requirements.txt marquee.example.toml /app/
COPY pipeline /app/pipeline
COPY content /app/content
COPY theme /app/theme

# The same variables as outside a container (docs/settings.md); these only place the volumes.
ENV PATH=/usr/local/bin:/venv/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MARQUEE_DATA_DIR=/data \
    MARQUEE__SITE__OUTPUT_DIR=/output \
    MARQUEE__DAEMON__HEALTH_BIND=0.0.0.0 \
    MARQUEE__DAEMON__HEALTH_PORT=8787

VOLUME ["/config", "/data", "/output"]
WORKDIR /config
USER marquee
EXPOSE 8787
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('MARQUEE__DAEMON__HEALTH_PORT', '8787') + '/health', timeout=8)"]
# Dry runs until you add --apply (compose.yaml: command: invoke daemon --apply).
CMD ["invoke", "daemon"]
