# The production image: one image, three roles (web, worker, beat) chosen by command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --upgrade pip && pip install .
COPY . .
RUN useradd --system --home /app portal && mkdir -p /app/var && chown -R portal /app/var
USER portal
# collectstatic needs no database or secrets.
RUN SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
