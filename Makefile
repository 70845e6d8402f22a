# SPDX-License-Identifier: GPL-3.0-or-later
# Build, install and package cockpit-virtnbdbackup. `make` builds dist/ (UI + helper + native modules).
PREFIX ?= /usr/local
PLUGINDIR = $(DESTDIR)$(PREFIX)/share/cockpit/virtnbdbackup
HELPERDIR = $(DESTDIR)$(PREFIX)/lib/cockpit-virtnbdbackup
BINDIR = $(DESTDIR)$(PREFIX)/bin
MANDIR = $(DESTDIR)$(PREFIX)/share/man/man1
METAINFODIR = $(DESTDIR)$(PREFIX)/share/metainfo
METAINFO = org.cockpit_project.virtnbdbackup.metainfo.xml
CRON_FILE ?= /etc/cron.d/cockpit-virtnbdbackup
# The CLIs are installed as cockpit-<tool>: Debian's virtnbdbackup package owns /usr/bin/virtnbdbackup (and virtnbdmap);
# virtnbdprune has no Python twin, but is named alike so that the four are found together.
CLIS = virtnbdbackup virtnbdrestore virtnbdmap virtnbdprune
# What the native packages in dist/helper/node_modules need only to build (node-gyp's files, types, docs).
BUILD_ONLY = -name '*.mk' -o -name Makefile -o -name config.gypi -o -name binding.gyp -o -name tsconfig.json \
	-o -name '*.Makefile' -o -name '*.d.ts' -o -name README.md -o -name rebuild.js

all: dist/manifest.json

dist/manifest.json: $(shell find src helper po libnbd-node/src codec-node/src fileio-node/src nbdkit-plugin/src addon-tools -type f 2>/dev/null) manifest.json package.json build.mjs
	npm run build

# The npm dependencies, exactly as the committed lock file says (needs the npm registry once).
node_modules:
	npm ci --no-audit --no-fund

man/cockpit-%.1: dist/manifest.json tools/man-page.sh
	mkdir -p man
	bash tools/man-page.sh $* $@

man: $(CLIS:%=man/cockpit-%.1)

# The product only: the plugin under $(PREFIX)/share/cockpit, the helper with its native addons under
# $(PREFIX)/lib/cockpit-virtnbdbackup (the UI finds it there, beside the share/ Cockpit serves the plugin
# from), the CLIs as $(PREFIX)/bin/cockpit-virtnbdbackup|cockpit-virtnbdrestore, their man pages and the
# AppStream metainfo. No source maps. Installs nothing else on the host (tools/prepare.sh is for tests).
install: node_modules all man
	rm -rf $(PLUGINDIR) $(HELPERDIR)
	mkdir -p $(PLUGINDIR) $(HELPERDIR) $(BINDIR) $(MANDIR) $(METAINFODIR)
	cp -r dist/. $(PLUGINDIR)/
	rm -rf $(PLUGINDIR)/helper
	cp -r dist/helper/. $(HELPERDIR)/
	find $(PLUGINDIR) $(HELPERDIR) -name '*.map' -delete
	find $(HELPERDIR)/node_modules -type f \( $(BUILD_ONLY) \) -delete
	set -e; for tool in $(CLIS); do \
	    ln -sfn ../lib/cockpit-virtnbdbackup/$$tool.js $(BINDIR)/cockpit-$$tool; \
	    install -m 644 man/cockpit-$$tool.1 $(MANDIR)/; \
	    if [ "$$(readlink $(BINDIR)/$$tool)" = ../share/cockpit/virtnbdbackup/helper/$$tool.js ]; then \
	        ln -sfn cockpit-$$tool $(BINDIR)/$$tool; \
	        echo "$(BINDIR)/$$tool (an older make install) now points to cockpit-$$tool"; \
	    fi; \
	done
	install -m 644 $(METAINFO) $(METAINFODIR)/
	@# Schedules made with an older make install start the helper from the page's folder, where it is no more.
	if [ -z "$(DESTDIR)" ] && [ -f $(CRON_FILE) ] && grep -q ' $(PREFIX)/share/cockpit/virtnbdbackup/helper/helper.js ' $(CRON_FILE); then \
	    sed -i 's# $(PREFIX)/share/cockpit/virtnbdbackup/helper/helper.js # $(PREFIX)/lib/cockpit-virtnbdbackup/helper.js #' $(CRON_FILE); \
	    echo "$(CRON_FILE): the schedules now start $(PREFIX)/lib/cockpit-virtnbdbackup/helper.js"; \
	fi

uninstall:
	rm -rf $(PLUGINDIR) $(HELPERDIR) $(METAINFODIR)/$(METAINFO)
	for tool in $(CLIS); do \
	    rm -f $(BINDIR)/cockpit-$$tool $(MANDIR)/cockpit-$$tool.1; \
	    case "$$(readlink $(BINDIR)/$$tool)" in cockpit-$$tool|*/cockpit-$$tool|../share/cockpit/virtnbdbackup/helper/*) rm -f $(BINDIR)/$$tool;; esac; \
	done

# The Debian package, built offline from the working tree and its node_modules (run `npm ci` first);
# the .deb, .buildinfo and .changes land here, not in the parent folder.
deb: node_modules
	dpkg-buildpackage -b -us -uc
	set -e; v=$$(dpkg-parsechangelog -S Version); a=$$(dpkg-architecture -q DEB_HOST_ARCH); \
	for f in cockpit-virtnbdbackup_$${v}_$$a.deb cockpit-virtnbdbackup_$${v}_$$a.buildinfo cockpit-virtnbdbackup_$${v}_$$a.changes; do \
	    mv ../$$f .; \
	done

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
	rm -rf dist man libnbd-node/build codec-node/build fileio-node/build nbdkit-plugin/build

.PHONY: all man install uninstall deb devel-install devel-uninstall check pot clean
