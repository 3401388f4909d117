#!/bin/sh
# Installs the Debian 12 packages gosl-basics needs to build, test and
# benchmark, when any is missing. Needs root (or sudo) only then.
set -eu

PACKAGES="
  build-essential pkg-config
  libleveldb-dev libsnappy-dev
  libfcgi-dev
  libbz2-dev zlib1g-dev libedit-dev
  libncurses-dev libbsd-dev libmd-dev
  libboost-program-options-dev libboost-dev
  libspdlog-dev libfmt-dev
  catch2
  bzip2 curl procps time
  apache2 libapache2-mod-fcgid wrk
  clang libclang-rt-14-dev util-linux
  systemd lighttpd nginx-light spawn-fcgi
  chromium fonts-liberation tidy
"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
