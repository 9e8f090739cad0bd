# Top-level driver around CMake.  `make` builds everything into build/bin/,
# `make check` runs the tests, `make check-asan` runs them under ASan+UBSan.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all deps configure check check-asan bench demo fuzz clean

all: configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null

check: all
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

check-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DSIGNER_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(BUILD_ASAN) --output-on-failure -j $(JOBS)

bench: all
	$(BUILD)/bin/signer-bench

demo: all
	scripts/local-stack.sh $(BUILD)/bin

fuzz: deps
	@cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	  -DSIGNER_FUZZ=ON -DSIGNER_TESTS=OFF $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD_FUZZ) -j $(JOBS)
	scripts/run-fuzzers.sh $(BUILD_FUZZ)/bin $${FUZZ_SECONDS:-30}

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
