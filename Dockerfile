# Floorwatch image: `floorwatch` with the engine compiled by mypyc. Used by
# docker-compose.yml for the workers and the simulator; runs anywhere as
#   docker build -t floorwatch . && docker run -p 127.0.0.1:9641:9641 floorwatch run --host 0.0.0.0 --insecure
# (inside a container 0.0.0.0 is needed for the published port; publish it on 127.0.0.1,
# or set FLOORWATCH_SERVER__TOKEN before publishing it wider: --insecure serves without one).

FROM python:3.11.11-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY streams ./streams
# The wheel of floorwatch itself (compiled); its dependencies are pinned in pyproject.toml.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11.11-slim-bookworm
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 floorwatch
USER floorwatch
WORKDIR /home/floorwatch
# Owned by floorwatch, so a named volume mounted here starts writable (Docker copies it).
RUN mkdir data
ENV FLOORWATCH_WORKER__STORE_PATH=/home/floorwatch/data \
    PYTHONUNBUFFERED=1
EXPOSE 9641
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9641/healthz', timeout=2)"]
ENTRYPOINT ["floorwatch"]
CMD ["run", "--host", "0.0.0.0", "--insecure"]
