# One image for every role of dpa-service (API replicas, migrations, workers).
# Debian's Python 3.11 is also the one where LibreOffice's `uno` bridge imports.
FROM debian:12.8-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv python3-uno libreoffice-writer-nogui \
      fonts-dejavu fonts-liberation2 curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/dpa dpa

WORKDIR /app
COPY pyproject.toml README.md ./
COPY dpa_service ./dpa_service
COPY templates ./templates
COPY examples ./examples
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -e /app

ENV PATH=/opt/venv/bin:$PATH \
    DPA_HOST=0.0.0.0 \
    DPA_DATA_DIR=/var/lib/dpa/data \
    DPA_ARCHIVE_DIR=/var/lib/dpa/signed \
    DPA_TEMPLATES_DIR=/app/templates \
    HOME=/var/lib/dpa
USER dpa
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD curl -fsS http://127.0.0.1:8000/health || exit 1
CMD ["dpa-service", "serve"]
