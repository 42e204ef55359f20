# One image for every Mirobody process (API, Dagster webserver, daemon and code server).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DAGSTER_HOME=/opt/dagster/home
RUN apt-get update && apt-get install -y --no-install-recommends gcc make libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY indicators indicators
COPY providers providers
COPY mirobody_assets mirobody_assets
COPY api api
COPY workspace.yaml dagster.yaml ./
COPY docker docker
RUN pip install --no-cache-dir -e . \
    && mkdir -p "$DAGSTER_HOME" && cp dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && useradd --create-home mirobody && chown -R mirobody "$DAGSTER_HOME"
USER mirobody
EXPOSE 8000 3000 4000
# --no-proxy-headers: the app believes X-Forwarded-* only from API_TRUSTED_PROXIES.
CMD ["uvicorn", "api.app:create_app_from_env", "--factory", "--no-proxy-headers", "--host", "0.0.0.0", "--port", "8000"]
