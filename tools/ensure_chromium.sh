#!/usr/bin/env bash
# The browser test drives Debian's Chromium through Playwright (no browser download).
# Install it when missing and we may (root with apt-get); otherwise say what to do.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser test…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  exit 0
fi
echo "The browser test needs Chromium at /usr/bin/chromium: run 'sudo apt-get install chromium'" >&2
echo "(or skip that layer with 'make unit notebooks')." >&2
exit 1
