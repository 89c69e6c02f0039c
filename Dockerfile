# The application image: web (gunicorn), worker and beat (Celery) and the migrate job all run it (compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint (the assessment PDF report) needs pango, and the report embeds a Chinese font (as .ci/run installs).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# A user of its own; the shared file volumes (UPLOAD_DIR, EXPORT_DIR) and the checkpoint sink start out owned by it.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin veterans \
    && mkdir -p instance /srv/veterans/files/uploads /srv/veterans/files/exports /srv/veterans/audit \
    && chown -R veterans instance /srv/veterans
USER veterans

EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.py", "wsgi:application"]
