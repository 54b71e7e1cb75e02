# Two commands on a fresh machine: `make demo` (a real backup and restore on a local folder)
# and `make test` (the whole suite, against a real Ceph RGW). Both install what they need.
.PHONY: install build demo test bench clean

install: node_modules/.install-stamp
node_modules/.install-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

build: install
	npx tsc -b

demo: build
	npx bash examples/demo.sh

test: build
	scripts/install-system.sh
	npx bash scripts/test.sh

bench: build
	scripts/install-system.sh
	npx bash bench/run.sh

clean:
	rm -rf packages/*/dist packages/*/tsconfig.tsbuildinfo test-results
