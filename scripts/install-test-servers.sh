#!/usr/bin/env bash
# Installs the servers the test suite starts on free ports: redis-server
# (Debian package) and moto_server (Python package moto[server]). Does nothing
# for what is already installed. Needs root (or sudo) for apt-get.
set -euo pipefail

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "install-test-servers: need root or sudo to run: $*" >&2; return 1
  fi
}

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  echo "install-test-servers: installing redis-server (apt-get)" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server >/dev/null
fi

if ! command -v moto_server >/dev/null; then
  echo "install-test-servers: installing moto[server] (pip)" >&2
  python3 -m pip install --quiet 'moto[server]' || pip install --quiet 'moto[server]'
  hash -r
fi

if ! command -v openssl >/dev/null; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq openssl >/dev/null
fi

echo "install-test-servers: $(redis-server --version | cut -d' ' -f1-3); moto_server at $(command -v moto_server)" >&2
