# LatentLens — two commands for a newcomer: `make demo` and `make test`.
SWIFT       ?= swift
LENS        := .build/release/lens
APT_PACKAGES := libhdf5-dev libopenblas-dev hdf5-tools pkg-config python3-h5py
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
VENV        := .venv

.PHONY: all deps build test demo bench fuzz screenshot clean

all: build

# Installs the C libraries (HDF5, OpenBLAS), h5dump and h5py (the interop tests read our files
# with it) when missing. On a system without apt-get, install HDF5 1.10+ development files,
# OpenBLAS and pkg-config by hand.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then \
	    echo "missing:$$missing — install HDF5 (dev files, pkg-config name hdf5-serial), OpenBLAS and pkg-config with your package manager"; exit 1; fi; \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build -c release --product lens

test: deps
	$(SWIFT) test --parallel --num-workers 2

demo: build
	$(LENS) demo

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	@# A CPU-only torch wheel is much smaller than PyPI's default (CUDA) build; use one if the machine has it.
	if ls /opt/wheels/torch-*cpu*.whl >/dev/null 2>&1; then $(VENV)/bin/pip install -q /opt/wheels/torch-*cpu*.whl; else $(VENV)/bin/pip install -q torch; fi
	$(VENV)/bin/pip install -q numpy h5py

bench: build $(VENV)/bin/python
	$(LENS) bench --python $(VENV)/bin/python $(BENCH_ARGS)

# Renders reports/demo/index.html (run `make demo` first) to reports/demo/screenshot.png with
# headless Chromium, so the report can be looked at without a desktop.
REPORT ?= reports/demo/index.html
screenshot:
	@command -v chromium >/dev/null || { echo "installing chromium"; $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@test -f $(REPORT) || { echo "no report at $(REPORT); run make demo first"; exit 1; }
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,6000 \
	  --screenshot=$(dir $(REPORT))screenshot.png file://$(abspath $(REPORT)) 2>/dev/null
	@echo "screenshot: $(dir $(REPORT))screenshot.png"

# A longer fuzz run than the test suite's (FUZZ_CASES mutated probe files and programs, and
# FILE_FUZZ_CASES byte-mutated checkpoints and activation files, each loaded by a child lens).
FUZZ_CASES ?= 200000
FILE_FUZZ_CASES ?= 1000
fuzz: deps
	LATENTLENS_FUZZ_CASES=$(FUZZ_CASES) LATENTLENS_FILE_FUZZ_CASES=$(FILE_FUZZ_CASES) $(SWIFT) test --filter Fuzz

clean:
	rm -rf .build
