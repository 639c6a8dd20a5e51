# The two commands that matter: `make run` and `make test`. Everything is
# built by CMake + Ninja (see CMakePresets.json); this file is the front door.

PREFIX ?= /usr/local
DB     ?= linli.db
LISTEN ?= 127.0.0.1:8080

.PHONY: all deps deps-extra build run test install format bench tsan fuzz clean

all: build

deps:
	@./scripts/install-deps.sh
	@./scripts/web-deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release

run: build
	@DB="$(DB)" LISTEN="$(LISTEN)" ./scripts/run.sh

test: deps
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev
	@ctest --preset dev

install: build
	@cmake --install build/release --prefix "$(PREFIX)"

deps-extra:
	@./scripts/install-deps.sh deps/debian.txt deps/debian-extra.txt

format: deps-extra
	@clang-format -i $$(find src tests fuzz bench -name '*.[ch]')

bench: build deps-extra
	@./bench/run.sh

tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan
	@ctest --preset tsan

fuzz: deps-extra
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz
	@./fuzz/run.sh

clean:
	@rm -rf build
