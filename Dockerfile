# smx in a container: `docker build -t smx .` then
#   docker run -e SLACK_BOT_TOKEN=… -e SLACK_SIGNING_SECRET=… -p 3000:3000 -v smx-data:/data smx
# Secrets come from the environment at run time; none is baked into the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SMX_DB=/data/smx.db \
    PORT=3000

WORKDIR /app
# The same install as `make run`: the package and its dependencies from pyproject.toml.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
RUN pip install .

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin smx \
    && mkdir -p /data && chown smx /data
USER smx
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4)"

ENTRYPOINT ["smx", "run"]
