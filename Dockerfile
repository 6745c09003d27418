# syntax=docker/dockerfile:1
# Multi-stage build: dependencies are built in a throwaway stage; the runtime image holds the
# virtualenv and the code, runs as a non-root user and serves with `python -m server serve`.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY core ./core
COPY server ./server
COPY schema ./schema
COPY resolvers ./resolvers
COPY vocabulary ./vocabulary
COPY models ./models
COPY loaders ./loaders
COPY services ./services
RUN pip install --upgrade pip && pip install .

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH APP_ENV=production
# A fixed numeric user: Kubernetes' runAsNonRoot can only check a numeric USER
# (deploy/k8s runs it as 10001).
RUN groupadd --system --gid 10001 agora \
    && useradd --system --uid 10001 --gid agora --home-dir /app agora
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=agora:agora pyproject.toml ./
COPY --chown=agora:agora migrations ./migrations
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["python", "-m", "server"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
