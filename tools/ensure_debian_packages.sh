#!/usr/bin/env bash
# Install the named Debian packages that are missing (e.g. TeX Live for the PDF, Chromium for the
# browser test). Checks each with dpkg first, so a machine that has them runs no apt-get at all,
# and runs `apt-get update` only when a package is missing (a new machine has no package lists).
set -euo pipefail
missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: need root (or sudo) to install ${missing[*]}; install them with apt-get and rerun." >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists; a stale list can name files the mirror no longer has.
if ! $sudo apt-get install -y --no-install-recommends -q "${missing[@]}" >/tmp/dlbook-apt.log 2>&1; then
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y --no-install-recommends -q "${missing[@]}" >/tmp/dlbook-apt.log 2>&1 \
    || { tail -20 /tmp/dlbook-apt.log >&2; echo "error: apt-get could not install ${missing[*]} (log: /tmp/dlbook-apt.log)" >&2; exit 1; }
fi
echo "Installed: ${missing[*]}"
