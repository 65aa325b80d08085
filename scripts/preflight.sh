#!/usr/bin/env bash
# What `make test` needs beyond Node and pnpm, checked before anything runs (seconds, not minutes in):
#   - chromium, for the browser test (apps/web/tests/browser.test.ts, playwright-core, no download):
#     $STEPSTREAM_CHROMIUM if set (it must be an executable), else `chromium` or `chromium-browser`
#     on PATH; when neither is there and this runs as root with apt-get, Debian's chromium is
#     installed (`apt-get install -y chromium`).
#   - terraform, for the offline Terraform checks (infra/scripts/check.sh): `terraform` on PATH.
#     Without it `make test` stops here, unless STEPSTREAM_SKIP_TERRAFORM=1 says to skip those checks
#     (check.sh then prints that it skips them).
# On success prints nothing but what it installed. On failure prints ONE line naming the one command
# to run, and exits 1.
set -uo pipefail

die() {
  echo "make test: $*" >&2
  exit 1
}

find_chromium() {
  if [ -n "${STEPSTREAM_CHROMIUM:-}" ]; then
    [ -f "$STEPSTREAM_CHROMIUM" ] && [ -x "$STEPSTREAM_CHROMIUM" ] && echo "$STEPSTREAM_CHROMIUM"
    return
  fi
  command -v chromium || command -v chromium-browser
}

if [ -n "${STEPSTREAM_CHROMIUM:-}" ]; then
  find_chromium >/dev/null ||
    die "STEPSTREAM_CHROMIUM=$STEPSTREAM_CHROMIUM is not an executable file; point it at a chromium binary, or unset it to use chromium from PATH"
elif ! find_chromium >/dev/null; then
  if [ "${EUID:-$(id -u)}" = "0" ] && command -v apt-get >/dev/null; then
    log="${TMPDIR:-/tmp}/stepstream-apt-chromium.log"
    echo "make test: chromium not found; installing Debian's chromium with apt-get (log: $log)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$log" 2>&1; then
      die "installing chromium with apt-get failed (see $log); run: apt-get install -y chromium (or set STEPSTREAM_CHROMIUM=/path/to/chromium)"
    fi
    find_chromium >/dev/null ||
      die "apt-get installed chromium but it is not on PATH; run: apt-get install -y chromium (or set STEPSTREAM_CHROMIUM=/path/to/chromium)"
  elif command -v apt-get >/dev/null; then
    die "chromium not found (the browser test needs it); run: sudo apt-get install -y chromium (or set STEPSTREAM_CHROMIUM=/path/to/chromium)"
  else
    die "chromium not found (the browser test needs it) and there is no apt-get; install chromium and run: STEPSTREAM_CHROMIUM=/path/to/chromium make test"
  fi
fi

if ! command -v terraform >/dev/null && [ "${STEPSTREAM_SKIP_TERRAFORM:-}" != "1" ]; then
  die "terraform not found on PATH (the offline Terraform checks need it); install Terraform >= 1.7 (https://developer.hashicorp.com/terraform/install), or run: STEPSTREAM_SKIP_TERRAFORM=1 make test"
fi
exit 0
