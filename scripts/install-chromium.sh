#!/usr/bin/env bash
# Makes Debian's Chromium available for the browser tests (tests/browser/).
#
# Idempotent: does nothing when /usr/bin/chromium is already there. As root it installs the
# `chromium` package with apt-get (printing each step); as another user it prints a loud notice
# and exits 0, and the browser tests then skip with that reason.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "install-chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium) already installed"
  exit 0
fi

if [ "$(id -u)" != "0" ]; then
  cat >&2 <<'MSG'
######################################################################################
install-chromium: Chromium is NOT installed and this user cannot install it.
  The browser tests (pytest -m browser) will be SKIPPED.
  To run them: sudo apt-get install chromium   (Debian's package; headless use only)
######################################################################################
MSG
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-chromium: apt-get update"
apt-get update -qq
echo "install-chromium: apt-get install chromium"
apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
echo "install-chromium: $("$CHROMIUM" --version 2>/dev/null || echo 'chromium installed')"
