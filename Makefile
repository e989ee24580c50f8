# Leverflow: `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/leverflow
# Fuzzing runs for a count of executions, not a duration: a duration races
# Go's fuzz coordinator at its deadline on a loaded machine (go.dev/issue/75804,
# fixed in Go 1.27) and fails with "context deadline exceeded" and no crasher.
FUZZTIME ?= 60000x

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/leverflow (the committed editor build web/dist is embedded)
	$(GO) build -o $(BIN) ./cmd/leverflow

# The editor (web/): npm installs from package-lock.json when it changed.
CHROMIUM ?= /usr/bin/chromium
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund

.PHONY: web-deps
web-deps: web/node_modules/.package-lock.json ## Install the editor's npm packages (npm ci)

.PHONY: web
web: web-deps ## Type-check and build the editor into web/dist (commit the result)
	cd web && npm run build

.PHONY: web-check
web-check: web ## Fail when the committed web/dist is not the build of web/ (CI runs it)
	@if [ -n "$$(git status --porcelain -- web/dist)" ]; then \
	  echo "web/dist is stale: run 'make web' and commit web/dist"; git status --short -- web/dist; exit 1; fi

.PHONY: test-web
test-web: web-deps ## Editor unit tests (Vitest)
	cd web && npx vitest run

.PHONY: test-e2e
test-e2e: $(if $(CI),web-check,web) build ## Browser end-to-end tests in headless Chromium (screenshots in web/e2e-output/)
	@test -x $(CHROMIUM) || { echo "test-e2e needs Chromium at $(CHROMIUM): apt-get install -y chromium (or set CHROMIUM=)"; exit 1; }
	cd web && CHROMIUM=$(CHROMIUM) npx playwright test

.PHONY: run
run: build ## Build and start the server (API, Lever webhooks, the built-in Lever sandbox, example workflows) on 127.0.0.1:8080, data in ./data
	$(BIN) serve

.PHONY: test
test: lint test-go test-fuzz test-workflows test-web test-e2e ## Every test: lint, Go tests with the race detector, fuzzing, workflow tests, editor unit and browser tests

.PHONY: lint
lint: ## gofmt, go vet, a tidy go.mod and the dependency-direction check
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would rewrite:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff
	./scripts/depcheck.sh

.PHONY: test-go
test-go: ## Go tests with the race detector
	$(GO) test -race -count=1 ./...

.PHONY: test-fuzz
test-fuzz: ## Run each fuzz target for FUZZTIME executions (default 60000x, a few seconds each)
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./templating/
	$(GO) test -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME) ./templating/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./engine/workflow/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeInput$$' -fuzztime $(FUZZTIME) ./steps/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeScalars$$' -fuzztime $(FUZZTIME) ./steps/lever/client/
	$(GO) test -run '^$$' -fuzz '^FuzzParseRetryAfter$$' -fuzztime $(FUZZTIME) ./steps/lever/client/
	$(GO) test -run '^$$' -fuzz '^FuzzParseKey$$' -fuzztime $(FUZZTIME) ./connections/
	$(GO) test -run '^$$' -fuzz '^FuzzReadClaims$$' -fuzztime $(FUZZTIME) ./connections/
	$(GO) test -run '^$$' -fuzz '^FuzzParseLeverWebhook$$' -fuzztime $(FUZZTIME) ./triggers/

.PHONY: test-workflows
test-workflows: build ## Validate and test the example workflows with the CLI
	$(BIN) validate $$(ls examples/*.json | grep -v -e '\.test\.json$$' -e '\.trigger\.json$$')
	$(BIN) test -v examples/*.test.json

.PHONY: bench
bench: ## Benchmarks of the hot paths (render, engine, store, Lever client, connections)
	$(GO) test -run '^$$' -bench . -benchmem ./templating/ ./engine/ ./engine/store/gormstore/ ./steps/lever/client/ ./connections/

.PHONY: bench-server
bench-server: ## Load the server's API trigger on 127.0.0.1 (the side-by-side of ../shared/bench/n8n-peer.sh)
	./scripts/bench-server.sh

.PHONY: bench-web
bench-web: web build ## Editor load figures in headless Chromium (the real binary; nothing asserted)
	@test -x $(CHROMIUM) || { echo "bench-web needs Chromium at $(CHROMIUM): apt-get install -y chromium"; exit 1; }
	cd web && CHROMIUM=$(CHROMIUM) npx playwright test -c bench/playwright.config.ts --reporter=list

.PHONY: cover
cover: ## Test coverage per package
	$(GO) test -count=1 -cover ./...

.PHONY: cover-web
cover-web: web-deps ## The editor's unit-test coverage per file (Vitest, v8)
	cd web && npx vitest run --coverage

.PHONY: clean
clean: ## Remove build output (not the committed web/dist)
	rm -rf bin web/e2e-output web/test-results
