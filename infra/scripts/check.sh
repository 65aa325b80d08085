#!/usr/bin/env bash
# Offline proof of the Terraform in infra/ (called by `make test`):
#   1. terraform fmt -check -recursive
#   2. terraform init -backend=false + validate, on the root module, every module and every example
#   3. terraform test (tests/*.tftest.hcl, mock_provider "aws": no AWS account, no network)
#   4. the vitest contract tests (scanner rules, least privilege, ASL, artifacts) unless --terraform-only
#
# Usage: bash infra/scripts/check.sh [--terraform-only]
# Environment:
#   STEPSTREAM_SKIP_TERRAFORM=1  skip the Terraform steps when terraform is not installed (never silently)
#   TF_PLUGIN_DIR=<dir>          offline provider mirror (default: /opt/tf-plugins when it exists)
# Exits non-zero on the first failure. Leaves the tree as it found it (.terraform and lock files are
# created in a temporary data dir or removed again).
set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$INFRA_DIR"

TERRAFORM_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --terraform-only) TERRAFORM_ONLY=1 ;;
    -h | --help)
      sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "check.sh: unknown argument: $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

if [ -t 1 ]; then BOLD=$'\033[1m' RED=$'\033[31m' GREEN=$'\033[32m' YELLOW=$'\033[33m' RESET=$'\033[0m'; else BOLD="" RED="" GREEN="" YELLOW="" RESET=""; fi
step() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$RESET"; }
ok() { printf '%s    ok%s %s\n' "$GREEN" "$RESET" "$*"; }
fail() {
  printf '\n%sFAILED:%s %s\n' "$RED$BOLD" "$RESET" "$*" >&2
  exit 1
}

run_terraform=1
if ! command -v terraform >/dev/null 2>&1; then
  if [ "${STEPSTREAM_SKIP_TERRAFORM:-}" = "1" ]; then
    printf '%s%s\n' "$YELLOW$BOLD" "!!! terraform is not on PATH: SKIPPING fmt, validate and terraform test (STEPSTREAM_SKIP_TERRAFORM=1)$RESET"
    run_terraform=0
  else
    cat >&2 <<EOF
${RED}${BOLD}
!!! terraform is not on PATH.
!!! The Terraform checks (fmt, validate, terraform test) cannot run, so nothing proves infra/ deploys.
!!! Install Terraform >= 1.7: https://developer.hashicorp.com/terraform/install
!!! or, on a machine where you accept not checking it: STEPSTREAM_SKIP_TERRAFORM=1 bash infra/scripts/check.sh
${RESET}
EOF
    exit 1
  fi
fi

if [ "$run_terraform" = "1" ]; then
  # A CLI config path that does not exist only produces a warning on every command.
  if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then unset TF_CLI_CONFIG_FILE; fi
  export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

  PLUGIN_DIR="${TF_PLUGIN_DIR:-/opt/tf-plugins}"
  INIT_ARGS=(-backend=false -input=false -no-color)
  if [ -d "$PLUGIN_DIR" ]; then
    INIT_ARGS+=("-plugin-dir=$PLUGIN_DIR")
    provider_source="offline mirror $PLUGIN_DIR"
  else
    provider_source="the Terraform registry (network)"
  fi

  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/stepstream-tf-check.XXXXXX")"
  CREATED_LOCKS=()
  cleanup() {
    rm -rf "$WORK_DIR"
    for lock in "${CREATED_LOCKS[@]}"; do rm -f "$lock"; done
  }
  trap cleanup EXIT

  # Runs init in a module directory with a private data dir; remembers a lock file it creates.
  tf_init() {
    local dir="$1" data_dir="$2" log="$3"
    local lock="$dir/.terraform.lock.hcl"
    [ -f "$lock" ] || CREATED_LOCKS+=("$lock")
    TF_DATA_DIR="$data_dir" terraform -chdir="$dir" init "${INIT_ARGS[@]}" >"$log" 2>&1 || {
      cat "$log" >&2
      fail "terraform init in ${dir#"$INFRA_DIR"/}"
    }
  }

  step "terraform $(terraform version | head -n 1 | sed 's/^Terraform //'), providers from $provider_source"

  step "terraform fmt -check -recursive"
  if ! terraform fmt -check -recursive -no-color .; then
    fail "terraform fmt: the files above are not formatted (run: terraform -chdir=infra fmt -recursive)"
  fi
  ok "formatted"

  step "terraform init -backend=false && terraform validate (root, modules, examples)"
  module_dirs=(.)
  for d in modules/*/ examples/*/; do [ -d "$d" ] && module_dirs+=("${d%/}"); done
  for d in "${module_dirs[@]}"; do
    data_dir="$WORK_DIR/data/$(echo "$d" | tr '/.' '__')"
    tf_init "$INFRA_DIR/$d" "$data_dir" "$WORK_DIR/init.log"
    if ! TF_DATA_DIR="$data_dir" terraform -chdir="$INFRA_DIR/$d" validate -no-color; then
      fail "terraform validate in $d"
    fi
  done
  ok "${#module_dirs[@]} configurations valid"

  step "terraform test (mock_provider \"aws\", offline)"
  root_data="$WORK_DIR/data/_"
  # Re-init the root: test files may call modules (run { module { source = ... } }).
  tf_init "$INFRA_DIR" "$root_data" "$WORK_DIR/init.log"
  if ! TF_DATA_DIR="$root_data" terraform -chdir="$INFRA_DIR" test -no-color; then
    fail "terraform test"
  fi
fi

if [ "$TERRAFORM_ONLY" = "0" ]; then
  step "vitest contract tests (scanner rules, least privilege, ASL, artifacts)"
  if ! command -v pnpm >/dev/null 2>&1; then fail "pnpm is not on PATH (needed for the contract tests)"; fi
  if [ ! -d "$INFRA_DIR/node_modules" ]; then fail "infra/node_modules is missing: run pnpm install at the repository root"; fi
  if [ ! -f "$INFRA_DIR/../packages/steps/dist/steps.zip" ] || [ ! -f "$INFRA_DIR/../packages/streamer/dist/streamer.zip" ]; then
    printf '    the Lambda zips are not built: building the packages infra deploys (turbo)\n'
    (cd "$INFRA_DIR/.." && pnpm exec turbo run build --filter='@stepstream/infra^...' --output-logs=errors-only) ||
      fail "build of the Lambda zips (run make build)"
  fi
  if ! pnpm exec vitest run; then fail "vitest contract tests"; fi
fi

printf '\n%sinfra checks passed%s\n' "$GREEN$BOLD" "$RESET"
