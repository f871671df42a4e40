# make run    set up, build and run bpfsyscalldist on its default profile (Ctrl-C prints)
# make test   set up, build and run every test (as root: the kernel tests load real programs)
PREFIX ?= /usr/local
DESTDIR ?=
ARGS ?=
CONFIG ?= release

.PHONY: setup build run test install clean

setup:
	@scripts/setup.sh

build: setup
	swift build -c $(CONFIG) --product bpfsyscalldist

run: build
	.build/$(CONFIG)/bpfsyscalldist $(ARGS)

test: setup
	swift build --build-tests
	swift test --skip-build --disable-swift-testing

clean:
	swift package clean
