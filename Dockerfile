# The line recognizer as a web service: gunicorn serving textrec_web.wsgi:app.
# Build:  docker build -t textrec-web .
# Run:    docker run -p 8000:8000 -v "$PWD/runs/<run>/model:/model:ro" textrec-web
# The model bundle is provided at run time (a volume at /model); see docs/deploy.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # CPU wheels of torch: with constraints.txt's torch==2.13.0 pip takes 2.13.0+cpu here
    # instead of the default build with several GB of CUDA packages.
    PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu

WORKDIR /src
COPY constraints.txt setup.cfg pyproject.toml README.md ./
COPY textrec_core ./textrec_core
# Only what a served line model needs: the web app, the line predictor, networks and models
# (the core without its train extra: no wandb, no matplotlib).
COPY plugins/textrec-web ./plugins/textrec-web
COPY plugins/textrec-iam ./plugins/textrec-iam
COPY plugins/textrec-lines ./plugins/textrec-lines
COPY plugins/textrec-line-cnn ./plugins/textrec-line-cnn
COPY plugins/textrec-lstm-ctc ./plugins/textrec-lstm-ctc
COPY plugins/textrec-attention ./plugins/textrec-attention
RUN pip install -c constraints.txt . ./plugins/textrec-web ./plugins/textrec-iam ./plugins/textrec-lines ./plugins/textrec-line-cnn \
        ./plugins/textrec-lstm-ctc ./plugins/textrec-attention \
    && rm -rf /src

RUN useradd --create-home --uid 10001 textrec
USER textrec
WORKDIR /home/textrec

ENV TEXTREC_WEB_MODEL=/model \
    OMP_NUM_THREADS=1 \
    WANDB_MODE=disabled \
    WEB_CONCURRENCY=2
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
# Each worker loads the model once at start-up (no --preload: see docs/deploy.md).
CMD ["sh", "-c", "exec gunicorn --workers \"$WEB_CONCURRENCY\" --bind 0.0.0.0:8000 --timeout 60 textrec_web.wsgi:app"]
