#!/usr/bin/env bash
# System packages tempocoach needs: espeak-ng (speech), ALSA headers + gcc (simpleaudio builds from
# source), alsa-utils (aplay, used by the ALSA file-sink tests), python3-venv. Installs them with apt
# when run as root; otherwise prints the exact line to run.
set -euo pipefail
pkgs=(espeak-ng libespeak-ng1 libasound2-dev alsa-utils gcc python3-dev python3-venv)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "tempocoach needs these system packages; run:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
