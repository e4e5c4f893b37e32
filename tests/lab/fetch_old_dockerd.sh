#!/usr/bin/env bash
# Fetch a second, older dockerd for the swarm version-skew test (tests/test_version_skew.py):
# Debian 11 "bullseye"'s docker.io (dockerd 20.10.5), which runs on Debian 12 beside the installed
# docker.io (20.10.24). Nothing is installed: apt downloads the one .deb with its own sources list,
# lists and cache (the machine's apt state is untouched), and `dpkg-deb -x` unpacks it into
# DEST (default /var/cache/dockyard-tests/dockerd-bullseye); the test runs DEST/usr/sbin/dockerd.
#
# Idempotent: exits at once when DEST already holds a dockerd that runs. Called by .ci/run after the
# Debian packages, and by the test itself when DEST is empty. The archive is the machine's own Debian
# mirror (the one its bookworm sources name), signature-checked with debian-archive-keyring, which
# holds bullseye's keys.
set -euo pipefail

DEST=${DOCKYARD_OLD_DOCKERD_DIR:-/var/cache/dockyard-tests/dockerd-bullseye}
SUITE=bullseye
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

if "$DEST/usr/sbin/dockerd" --version >/dev/null 2>&1; then
    echo "fetch_old_dockerd: present: $("$DEST/usr/sbin/dockerd" --version) ($DEST)"
    exit 0
fi

# The mirror the machine's own Debian main sources use (apt-get indextargets reads the sources, no
# network), not its -security or -updates suites; bullseye lives in the same archive.
MIRROR=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT) $(IDENTIFIER)' 2>/dev/null \
         | awk '$2 !~ /-/ && $3 == "main" && $4 == "Packages" {print $1; exit}')
if [ -z "$MIRROR" ]; then
    echo "fetch_old_dockerd: no Debian main source in this machine's apt sources" >&2
    exit 1
fi
[ -r "$KEYRING" ] || { echo "fetch_old_dockerd: $KEYRING missing (package debian-archive-keyring)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/fetch-old-dockerd.XXXXXX)  # not /tmp/dy*: that is where lab roots live
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/deb"
echo "deb [signed-by=$KEYRING] $MIRROR $SUITE main" > "$WORK/sources.list"
APT_OPTS=(-o "Dir::Etc::SourceList=$WORK/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$WORK/lists" -o "Dir::Cache=$WORK/cache" -o Dir::State::status=/dev/null
          -o APT::Sandbox::User=root -o Debug::NoLocking=1 -q)
apt-get "${APT_OPTS[@]}" update >"$WORK/update.log" 2>&1 \
    || { cat "$WORK/update.log" >&2; echo "fetch_old_dockerd: apt-get update of $SUITE failed" >&2; exit 1; }
(cd "$WORK/deb" && apt-get "${APT_OPTS[@]}" download docker.io) \
    || { echo "fetch_old_dockerd: downloading $SUITE's docker.io failed" >&2; exit 1; }

mkdir -p "$(dirname "$DEST")"
STAGE=$(mktemp -d "$(dirname "$DEST")/.stage.XXXXXX")
dpkg-deb -x "$WORK"/deb/docker.io_*.deb "$STAGE"
"$STAGE/usr/sbin/dockerd" --version >/dev/null \
    || { rm -rf "$STAGE"; echo "fetch_old_dockerd: $SUITE's dockerd does not run here" >&2; exit 1; }
rm -rf "$DEST"  # a DEST whose dockerd does not run (checked above)
if ! mv -T "$STAGE" "$DEST" 2>/dev/null; then
    rm -rf "$STAGE"  # another run (a second lab) unpacked it meanwhile: use theirs
    "$DEST/usr/sbin/dockerd" --version >/dev/null || { echo "fetch_old_dockerd: $DEST is unusable" >&2; exit 1; }
fi
echo "fetch_old_dockerd: $("$DEST/usr/sbin/dockerd" --version) in $DEST"
