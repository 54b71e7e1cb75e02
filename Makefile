# Two commands on a fresh machine: `make demo` (a real backup and restore on a local folder)
# and `make test` (the whole suite, against a real Ceph RGW). Both install what they need.
.PHONY: install build demo test bench clean

# Node 24 from the `node` devDependency and the cairn bins come first, as under `npm run`.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

install: node_modules/.install-stamp
node_modules/.install-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

build: install
	tsc -b

demo: build
	bash examples/demo.sh

test: build
	scripts/install-system.sh
	bash scripts/test.sh

bench: build
	scripts/install-system.sh
	bash bench/run.sh

clean:
	rm -rf packages/*/dist packages/*/tsconfig.tsbuildinfo test-results
