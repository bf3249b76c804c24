#!/usr/bin/env bash
# Install everything nianbao needs on a fresh Debian machine: system tools (LibreOffice for DOC/WPS,
# Tesseract with the Simplified Chinese model for scans, poppler, Chromium for the browser test, CJK fonts
# for rendering, redis-server for queue mode's tests, which start their own on a loopback port), then the
# Python package with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libreoffice-writer-nogui libreoffice-calc-nogui
  tesseract-ocr tesseract-ocr-chi-sim
  poppler-utils
  chromium chromium-driver
  fonts-noto-cjk
  redis-server
)

if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

python3 -m pip install --disable-pip-version-check -q -e ".[test]"

# pywb (the Webrecorder replay tool) in a venv of its own, outside the project: it pins its own warcio and
# gevent. tests/test_warc.py replays a 304 capture with it; NIANBAO_PYWB_BIN overrides the place.
PYWB_VENV="${NIANBAO_PYWB_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/nianbao/pywb-venv}"
if [ ! -x "$PYWB_VENV/bin/wayback" ]; then
  python3 -m venv "$PYWB_VENV"
  "$PYWB_VENV/bin/pip" install --disable-pip-version-check -q pywb
fi
