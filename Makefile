# LatentLens — two commands for a newcomer: `make demo` and `make test`.
SWIFT       ?= swift
LENS        := .build/release/lens
APT_PACKAGES := libhdf5-dev libopenblas-dev hdf5-tools pkg-config
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
VENV        := .venv

.PHONY: all deps build test demo bench fuzz screenshot clean

all: build

# Installs the C libraries (HDF5, OpenBLAS) and h5dump when missing. On a system without
# apt-get, install HDF5 1.10+ development files, OpenBLAS and pkg-config by hand.
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
	$(VENV)/bin/pip install -q torch numpy h5py

bench: build $(VENV)/bin/python
	$(LENS) bench --python $(VENV)/bin/python $(BENCH_ARGS)

clean:
	rm -rf .build
