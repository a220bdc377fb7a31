# The one image of our processes: the saga worker (`python worker.py`, the default), the backend
# ingress (`python -m ingress`) and the sandbox platform (`python -m sandbox serve`), as
# docker-compose.yml runs them. The base is pinned to a patch release (PYTHON_VERSION, also set in
# .env); dependencies are the exact versions of pyproject.toml.
ARG PYTHON_VERSION=3.11.14
FROM python:${PYTHON_VERSION}-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UPGRADE_DATA_DIR=/data \
    UPGRADE_LOG_FORMAT=json

WORKDIR /app
COPY . .
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin upgrade \
    && mkdir -p /data \
    && chown upgrade:upgrade /data

# Never root: the processes only need /data (the sandbox's SQLite ledger) writable.
USER upgrade
VOLUME ["/data"]
# sandbox, ingress, worker metrics
EXPOSE 8300 8400 9464
CMD ["python", "worker.py"]
