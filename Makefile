# stepstream: every command a user needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PNPM_VERSION := 10.34.8
export TURBO_TELEMETRY_DISABLED := 1
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED := true
TF := terraform -chdir=infra
TF_PLUGIN_DIR := /opt/tf-plugins
TF_INIT_FLAGS := $(if $(wildcard $(TF_PLUGIN_DIR)),-plugin-dir=$(TF_PLUGIN_DIR),)
PACKAGES := packages/results-schema packages/steps packages/client apps/cli apps/local

.PHONY: help preflight install build pack test test-unit lint format demo local bench bench-quick deploy destroy outputs smoke clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

node_modules/.modules.yaml: package.json pnpm-lock.yaml pnpm-workspace.yaml $(wildcard packages/*/package.json apps/*/package.json infra/package.json bench/package.json)
	@command -v pnpm >/dev/null 2>&1 && pnpm --version | grep -qx '$(PNPM_VERSION)' || { echo "installing pnpm $(PNPM_VERSION) with npm"; npm install -g pnpm@$(PNPM_VERSION); }
	pnpm install --frozen-lockfile
	@touch $@

install: node_modules/.modules.yaml ## install dependencies (pnpm via npm if missing)

build: install ## build every package and the Lambda zips Terraform deploys; links .local/bin/stepstream
	pnpm exec turbo run build
	@mkdir -p .local/bin && ln -sfn ../../apps/cli/dist/main.js .local/bin/stepstream

preflight: ## check (or install) what make test needs besides Node: chromium, terraform
	@bash scripts/preflight.sh

pack: build ## the five installable packages as npm tarballs, in .local/packages/
	@rm -rf .local/packages && mkdir -p .local/packages
	@for p in $(PACKAGES); do (cd $$p && pnpm pack --pack-destination $(CURDIR)/.local/packages >/dev/null) || exit 1; done
	@ls -1 .local/packages/*.tgz

test: preflight install ## lint, unit, integration, contract and browser tests, and the offline Terraform checks
	pnpm exec biome check .
	pnpm exec turbo run typecheck test --concurrency=1
	bash infra/scripts/check.sh --terraform-only

lint: install ## Biome (format + lint) and TypeScript type checks
	pnpm exec biome check .
	pnpm exec turbo run typecheck

format: install ## format the code with Biome
	pnpm exec biome check --write .

demo: build ## start the local stack, run one workflow, stream it to the terminal, stop
	node scripts/demo.mjs

local: build ## run the local stack in the foreground (Ctrl-C stops it); ARGS="--definition my.asl.json --function MyStep=./my-step.mjs" runs yours
	node apps/local/dist/main.js $(ARGS)

bench: build ## benchmark ours vs the AWS sample's polling (writes bench/results)
	node bench/dist/main.js $(ARGS)

bench-quick: build ## the benchmark in under 2 minutes
	node bench/dist/main.js --quick $(ARGS)

deploy: build ## build, then terraform init + apply in infra/
	$(TF) init $(TF_INIT_FLAGS)
	$(TF) apply $(ARGS)

outputs: ## print the deployed stack's outputs
	$(TF) output

destroy: ## tear the deployed stack down
	$(TF) destroy $(ARGS)

smoke: ## what only AWS can show, on the deployed stack: every read mode, refused starts, a resume (needs AWS credentials)
	@node infra/scripts/smoke.mjs --check-credentials
	@$(MAKE) --no-print-directory build
	node infra/scripts/smoke.mjs

clean: ## remove build output and local data
	rm -rf .local node_modules/.cache packages/*/dist apps/*/dist bench/dist .turbo */*/.turbo
