# The hub's image: web (gunicorn), worker, beat, TIC reader and the one-shot migrate service of
# docker-compose.yml all run it. The code is root-owned and read-only for the service user,
# which owns only /app/var (consent proofs, job results: a volume that survives redeploys).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    HUB_VAR_DIR=/app/var \
    DJANGO_STATIC_ROOT=/app/staticfiles

RUN groupadd --system --gid 10001 hub \
    && useradd --system --uid 10001 --gid hub --home-dir /app/var --no-create-home \
        --shell /usr/sbin/nologin hub

WORKDIR /app

# Dependencies first (runtime only, read from pyproject.toml): this layer is rebuilt only
# when they change, not on every code change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .

# The translation catalogues, rebuilt from the .po files with GNU gettext (removed afterwards:
# the image only needs the .mo files).
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends gettext >/dev/null \
    && DJANGO_SECRET_KEY=compilemessages-only HUB_VAR_DIR=/tmp/build-var \
        python manage.py compilemessages \
    && apt-get purge -y -qq gettext >/dev/null && apt-get autoremove -y -qq >/dev/null \
    && rm -rf /var/lib/apt/lists/* /tmp/build-var

# Static files at build time, into a root-owned folder outside var/ (a volume would hide a
# newer image's files). The keys below exist only for this step.
RUN DJANGO_SECRET_KEY=collectstatic-only HUB_VAR_DIR=/tmp/build-var \
        python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-var \
    && python -m compileall -q hub grdf_access smartoa flexready tic \
    && mkdir -p /app/var \
    && chown hub:hub /app/var \
    && chmod 0750 /app/var

USER hub
VOLUME ["/app/var"]
EXPOSE 8000
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "hub.wsgi"]
