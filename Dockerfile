# okr-checkin: `okr serve` (HTTP on :3000, scheduler included) by default.
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
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////data/okr.db
RUN groupadd --system okr && useradd --system --gid okr --home-dir /home/okr --create-home okr \
    && mkdir -p /data && chown okr:okr /data
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
USER okr
WORKDIR /home/okr
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"
CMD ["okr", "serve", "--host", "0.0.0.0", "--port", "3000"]
