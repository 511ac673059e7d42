#!/bin/sh
# One image, one role per container: web | worker <queues> | beat | ai | migrate
set -eu
role="${1:-web}"; shift || true
case "$role" in
  web)
    python manage.py check --deploy --fail-level ERROR
    exec gunicorn cvengine.wsgi --bind 0.0.0.0:8000 --workers "${WEB_WORKERS:-3}" --threads "${WEB_THREADS:-4}" \
         --timeout 120 --access-logfile - --logger-class cvengine.accesslog.PrivacyLogger \
         --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" ;;
  worker)
    queues="${1:-default}"
    exec celery -A cvengine worker -Q "$queues" --concurrency "${WORKER_CONCURRENCY:-2}" \
         --hostname "$queues@%h" --loglevel INFO ;;
  beat)
    exec celery -A cvengine beat --loglevel INFO --schedule /app/var/celerybeat-schedule ;;
  ai)
    exec uvicorn ai_service.app:app --host 0.0.0.0 --port 8001 --proxy-headers ;;
  migrate)
    python manage.py migrate --noinput
    python manage.py ensure_bucket
    exec python manage.py ensure_admin ;;
  *)
    exec "$role" "$@" ;;
esac
