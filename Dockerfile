# One image for every Escuta process; the command picks it:
#   docker run IMAGE api        control API on :8000
#   docker run IMAGE worker     LiveKit agent worker (health on :8081)
#   docker run IMAGE migrate    apply migrations, then exit
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libgomp1: onnxruntime and CTranslate2 (VAD, local Whisper); ffmpeg libraries come inside the PyAV wheel.
# The image includes the local speech-to-text extra so the default provider order works offline.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin escuta

WORKDIR /app
COPY pyproject.toml README.md ./
# Every package of pyproject's [tool.setuptools.packages.find] (tests/test_deploy_files.py checks it):
# core, stt and jobs were missing, so the image's `escuta` could not even import its settings.
COPY core ./core
COPY db ./db
COPY stt ./stt
COPY agents ./agents
COPY control_api ./control_api
COPY jobs ./jobs
COPY escuta ./escuta
RUN pip install ".[local-stt]"

USER escuta
ENV ESCUTA_API_HOST=0.0.0.0 \
    ESCUTA_DATA_DIR=/home/escuta/data \
    ESCUTA_LOG_FORMAT=json
EXPOSE 8000 8081
ENTRYPOINT ["escuta"]
CMD ["api"]
