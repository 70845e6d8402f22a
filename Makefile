# Build, install and test cockpit-virtnbdbackup. `make` builds dist/ (UI + helper + native modules).
PREFIX ?= /usr/local
PKGDIR = $(DESTDIR)$(PREFIX)/share/cockpit/virtnbdbackup

all: dist/manifest.json

dist/manifest.json: $(shell find src helper po libnbd-node/src codec-node/src fileio-node/src addon-tools -type f 2>/dev/null) manifest.json package.json build.mjs
	npm run build

node_modules:
	bash tools/prepare.sh

# System-wide: the plugin (with its helper) under $(PREFIX)/share/cockpit, the CLIs in $(PREFIX)/bin.
install: node_modules all
	rm -rf $(PKGDIR)
	mkdir -p $(PKGDIR)
	cp -r dist/. $(PKGDIR)/
	find $(PKGDIR) -name '*.map' -delete
	mkdir -p $(DESTDIR)$(PREFIX)/bin
	ln -sf ../share/cockpit/virtnbdbackup/helper/virtnbdbackup.js $(DESTDIR)$(PREFIX)/bin/virtnbdbackup
	ln -sf ../share/cockpit/virtnbdbackup/helper/virtnbdrestore.js $(DESTDIR)$(PREFIX)/bin/virtnbdrestore

uninstall:
	rm -rf $(PKGDIR) $(DESTDIR)$(PREFIX)/bin/virtnbdbackup $(DESTDIR)$(PREFIX)/bin/virtnbdrestore

# For development: Cockpit serves the working tree's dist/ for the current user.
devel-install: node_modules all
	mkdir -p ~/.local/share/cockpit
	ln -sfn $(CURDIR)/dist ~/.local/share/cockpit/virtnbdbackup

devel-uninstall:
	rm -f ~/.local/share/cockpit/virtnbdbackup

check:
	npm test

pot:
	npm run pot

clean:
	rm -rf dist libnbd-node/build codec-node/build fileio-node/build

.PHONY: all install uninstall devel-install devel-uninstall check pot clean
