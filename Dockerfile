# The production image: one image, three roles (web, worker, beat) chosen by command.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# Service-review PDFs (WeasyPrint, issue #21) need pango and a font. Debian bookworm's
# versions, pinned so the image stays repeatable.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libpango-1.0-0=1.50.12+ds-1 libpangoft2-1.0-0=1.50.12+ds-1 fonts-dejavu-core=2.37-6 \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
# The image's own pip (no unpinned upgrade: the build stays repeatable).
RUN pip install .
COPY . .
# A numeric user, so the host and orchestrators resolve it (and runAsNonRoot can check it).
RUN useradd --system --uid 10001 --home /app portal && mkdir -p /app/var && chown -R 10001 /app/var
USER 10001
# collectstatic needs no database or secrets.
RUN SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
