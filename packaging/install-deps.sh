#!/bin/sh
# Installs the Debian packages evident needs to build, test and run its
# simulator. Idempotent: packages already present are left alone, and apt is
# only touched when something is missing, so repeated runs are fast.
set -eu

PACKAGES="
  build-essential cmake pkg-config ca-certificates
  libcurl4-openssl-dev libssl-dev libjansson-dev libexpat1-dev libinih-dev
  libcmocka-dev zlib1g-dev
  clang libclang-rt-14-dev clang-format
  python3 python3-botocore python3-boto3 awscli
  openssl procps
  chromium
  systemd dpkg-dev file man-db groff-base
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  exit 0
fi

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
