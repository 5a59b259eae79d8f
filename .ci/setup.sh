#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs every Debian package Concierge needs to build, test, demo and benchmark.
# Idempotent: packages already present are not touched and apt is not asked at all.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  libstrophe-dev libical-dev libicu-dev libsqlite3-dev libssl-dev libexpat1-dev
  libcurl4-openssl-dev libtomlplusplus-dev libgtest-dev libgmock-dev libsystemd-dev
  libmicrohttpd-dev systemd
  prosody prosody-modules lua-unbound ejabberd
  erlang-base erlang-p1-xmpp   # erlc and the headers mod_concierge is built with (ejabberdctl module_install)
  python3-slixmpp python3-yaml
  libpq-dev postgresql
  procps util-linux
  debhelper dpkg-dev lintian
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=120 update -qq
  "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts nothing in containers, but be sure the system services do not hold our test ports.
for svc in prosody ejabberd postgresql; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
exit 0
