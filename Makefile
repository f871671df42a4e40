# make run      set up, build and run bpfsyscalldist on its default profile (Ctrl-C prints)
# make test     set up, build and run every test (as root: the kernel tests load real programs),
#               with 20 s of fuzzing the profile loader first and the Debian package installed
#               and run on a clean Debian 12 last
# make test-kernels  the real-kernel tests again inside Debian's 5.10, 6.1 and 6.12 kernels (qemu),
#               one line per kernel; KERNELS="6.1" picks some
# make deb      a Debian package; make dist, a tarball of the same files; make oci, an OCI image
#               archive of them (podman load, ctr images import; contrib/daemonset.yaml runs it)
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
# Where the systemd unit finds the binary and serve's config once installed (the tarball is staged
# under an empty prefix and unpacked into /usr/local).
UNIT_BINDIR ?= $(PREFIX)/bin
UNIT_SYSCONFDIR ?= $(SYSCONFDIR)
DESTDIR ?=
ARGS ?=
CONFIG ?= release
# The release binary needs only glibc (2.34 or later), libstdc++ and libgcc_s: the Swift runtime,
# libbpf, libelf, zlib and libyaml are linked into it (scripts/static-libs.sh).
STATIC_LIBS := $(CURDIR)/.build-static-libs
RELEASE_FLAGS := --static-swift-stdlib -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now
DIST := .build/dist

.PHONY: setup build run test test-kernels test-package test-oci deb dist oci install install-files clean

setup:
	@scripts/setup.sh

build: setup
ifeq ($(CONFIG),release)
	@scripts/static-libs.sh $(STATIC_LIBS)
	PKG_CONFIG_PATH=$(STATIC_LIBS)/pkgconfig swift build -c release $(RELEASE_FLAGS) --product bpfsyscalldist
	PKG_CONFIG_PATH=$(STATIC_LIBS)/pkgconfig swift build -c release $(RELEASE_FLAGS) --product bpfsyscalldist-serve
else
	swift build -c $(CONFIG) --product bpfsyscalldist
	swift build -c $(CONFIG) --product bpfsyscalldist-serve
endif

run: build
	.build/$(CONFIG)/bpfsyscalldist $(ARGS)

test: setup
	swift build --build-tests
	scripts/fuzz.sh 20
	swift test --skip-build --disable-swift-testing
	$(MAKE) test-package
	$(MAKE) test-oci

# The real-kernel suite inside other kernels (scripts/test-kernels.sh says how): about 20 min.
KERNELS ?=
test-kernels: setup
	scripts/test-kernels.sh $(KERNELS)

# The Debian package on a clean Debian 12 root file system: installs, runs, traces, removes; then
# the tarball, unpacked into its /usr/local.
test-package: deb dist
	scripts/test-package.sh $(DIST)/*.deb $(DIST)/*.tar.gz

deb: build
	scripts/make-deb.sh .build/release $(DIST)

dist: build
	scripts/make-dist.sh .build/release $(DIST)

oci: build
	scripts/make-oci.sh .build/release $(DIST)

# The image, run by podman: privileged and with the DaemonSet's privileges (scripts/test-oci.sh).
test-oci: oci
	scripts/test-oci.sh $(DIST)/*-oci.tar

clean:
	swift package clean

# Installs the binaries, the syscalldist link, man pages, profiles, shell completions, the systemd
# unit for `serve` with its config (kept if one is there) and a Grafana dashboard.
install: build install-files

# The install step alone, for an already built binary (the tests use it: they cannot build).
install-files:
	install -Dm755 .build/$(CONFIG)/bpfsyscalldist $(DESTDIR)$(PREFIX)/bin/bpfsyscalldist
	install -Dm755 .build/$(CONFIG)/bpfsyscalldist-serve $(DESTDIR)$(PREFIX)/bin/bpfsyscalldist-serve
	ln -sf bpfsyscalldist $(DESTDIR)$(PREFIX)/bin/syscalldist
	install -Dm644 man/bpfsyscalldist.8 $(DESTDIR)$(PREFIX)/share/man/man8/bpfsyscalldist.8
	ln -sf bpfsyscalldist.8 $(DESTDIR)$(PREFIX)/share/man/man8/syscalldist.8
	ln -sf bpfsyscalldist.8 $(DESTDIR)$(PREFIX)/share/man/man8/bpfsyscalldist-serve.8
	install -Dm644 man/bpfsyscalldist-profile.5 $(DESTDIR)$(PREFIX)/share/man/man5/bpfsyscalldist-profile.5
	install -d $(DESTDIR)$(PREFIX)/share/bpfsyscalldist/profiles
	install -m644 profiles/*.yaml $(DESTDIR)$(PREFIX)/share/bpfsyscalldist/profiles/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	.build/$(CONFIG)/bpfsyscalldist --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/bpfsyscalldist
	.build/$(CONFIG)/bpfsyscalldist --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_bpfsyscalldist
	.build/$(CONFIG)/bpfsyscalldist --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/bpfsyscalldist.fish
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(SYSCONFDIR)/bpfsyscalldist
	sed -e 's|@BINDIR@|$(UNIT_BINDIR)|' -e 's|@SYSCONFDIR@|$(UNIT_SYSCONFDIR)|' contrib/bpfsyscalldist.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/bpfsyscalldist.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/bpfsyscalldist/serve.yaml ] || install -m644 contrib/serve.yaml $(DESTDIR)$(SYSCONFDIR)/bpfsyscalldist/serve.yaml
	install -Dm644 contrib/grafana-dashboard.json $(DESTDIR)$(PREFIX)/share/bpfsyscalldist/grafana-dashboard.json
