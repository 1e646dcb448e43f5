# okr-checkin: `okr serve` (HTTP on OKR_PORT, default 3000, scheduler included) by default;
# `okr worker --port 3000` runs the scheduler alone (see docs/deployment.md).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY handlers ./handlers
COPY scheduler ./scheduler
COPY scoring ./scoring
COPY blocks ./blocks
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim
# A fixed numeric user, so Kubernetes' runAsNonRoot can check it (deploy/kubernetes).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////data/okr.db OKR_PORT=3000
RUN groupadd --system --gid 10001 okr \
    && useradd --system --uid 10001 --gid okr --home-dir /home/okr --create-home okr \
    && mkdir -p /data && chown okr:okr /data
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
USER 10001:10001
WORKDIR /home/okr
VOLUME ["/data"]
# Documentation only: the port is OKR_PORT (publish the one you set).
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os,sys,urllib.request; port = os.environ['OKR_PORT']; sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"]
# Host and port come from OKR_HOST (0.0.0.0) and OKR_PORT.
CMD ["okr", "serve"]
