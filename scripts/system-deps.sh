#!/usr/bin/env bash
# Debian packages the tests need: WeasyPrint's libraries and fonts (libharfbuzz-subset0 halves render time),
# OCR, poppler (pdftoppm for PDF checks), docker-compose (to validate deploy/docker-compose.yml) and redis-server
# (the fault suite crashes and restarts a Redis of its own, even where the shared one runs elsewhere).
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-noto-core
          tesseract-ocr tesseract-ocr-eng poppler-utils docker-compose redis-server)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Missing Debian packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "Installed: ${missing[*]}"
