# styletrace API image: the same install steps as `make install`, run as a non-root user.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    STYLETRACE_DATA_DIR=/data \
    STYLETRACE_HOST=0.0.0.0 \
    STYLETRACE_PORT=8000

# pdqhash ships only as source: it needs a C++ compiler. Debian's security updates move
# these versions, so they are not pinned; the base image tag fixes the release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc g++ \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 styletrace
WORKDIR /app

COPY pyproject.toml README.md ./
COPY models ./models
COPY indexer ./indexer
COPY service ./service
COPY examples ./examples
# invisible-watermark without its dependencies, as `make install` does (see pyproject.toml)
RUN pip install --no-cache-dir . \
    && pip install --no-cache-dir --no-deps invisible-watermark==0.2.0 \
    && mkdir -p /data && chown 10001:10001 /data

USER 10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["styletrace", "serve"]
