#!/usr/bin/env bash
# Installs the Debian packages the platform needs, when run as root and they are missing;
# otherwise names them in one message. Needed:
#   fonts-noto-cjk        Chinese glyphs embedded in certificate PDFs
#   libharfbuzz-subset0   font subsetting for WeasyPrint (without it a page takes ~14 s)
#   chromium              the browser the end-to-end tests drive (tests only)
set -euo pipefail

missing=()
fc-list :lang=zh 2>/dev/null | grep -qi "noto\|wqy" || missing+=(fonts-noto-cjk)
ldconfig -p 2>/dev/null | grep -q "libharfbuzz-subset.so.0" || missing+=(libharfbuzz-subset0)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v fc-list >/dev/null || missing+=(fontconfig)

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "缺少系统软件包 / Missing system packages: ${missing[*]}"
echo "请以 root 身份运行 / Install them as root:  apt-get install ${missing[*]}"
echo "(PDF certificates need the font and libharfbuzz-subset0; browser tests need chromium.)"
exit 1
