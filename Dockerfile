# The line recognizer as a web service: gunicorn serving textrec_web.wsgi:app.
#   docker build -t textrec-web .                  (the normal way, from the package index)
#   deploy/build-image.sh --offline                (no network inside the build: docs/deploy.md)
#   docker run -p 8000:8000 -v "$PWD/runs/<run>/model:/model:ro" textrec-web
# The model bundle is provided at run time (a volume at /model); see docs/deploy.md.
ARG BASE_IMAGE=python:3.11-slim

# Stage 1: a virtual environment in /opt/venv holding deploy/image-packages.txt.
FROM ${BASE_IMAGE} AS install
# build-image.sh removes this stage's image once the image is built (1.5 GB otherwise left behind).
LABEL textrec.build-stage=install
# Empty: install from the package index (torch from PyTorch's CPU index, pinned by constraints.txt;
# the default build would bring several GB of CUDA packages). A folder of the build context
# (deploy/wheelhouse.sh's): install from its wheels alone, with no network.
ARG WHEELHOUSE=
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN python3 -m venv /opt/venv \
    && if [ -n "$WHEELHOUSE" ]; then \
           /opt/venv/bin/pip install --no-index --find-links "$WHEELHOUSE" -c constraints.txt \
               -r deploy/image-packages.txt; \
       else \
           set -f \
           && /opt/venv/bin/pip install --extra-index-url https://download.pytorch.org/whl/cpu -c constraints.txt \
               $(sh deploy/package-paths.sh); \
       fi

# Stage 2: the base image, the environment and the health check; no sources, no wheels.
FROM ${BASE_IMAGE}
COPY --from=install /opt/venv /opt/venv
COPY deploy/healthcheck.py /opt/textrec/healthcheck.py
RUN useradd --create-home --uid 10001 textrec
USER textrec
WORKDIR /home/textrec

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    TEXTREC_WEB_MODEL=/model \
    OMP_NUM_THREADS=1 \
    WANDB_MODE=disabled \
    WEB_CONCURRENCY=2
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/opt/textrec/healthcheck.py"]
# Each worker loads the model once at start-up (no --preload: see docs/deploy.md). exec: gunicorn
# is the container's first process and gets docker stop's SIGTERM (a graceful shutdown).
CMD ["sh", "-c", "exec gunicorn --workers \"$WEB_CONCURRENCY\" --bind \"$HOST:$PORT\" --timeout 60 textrec_web.wsgi:app"]
