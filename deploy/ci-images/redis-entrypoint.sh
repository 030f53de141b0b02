#!/bin/sh
# Debian's redis-server, started without a configuration file, listens everywhere but in protected
# mode, refusing other containers; the official image turns protected mode off in the same way, and
# the network it serves is the Compose project's own.
set -eu
if [ "${1:-}" = "redis-server" ]; then
  shift
  exec redis-server --protected-mode no "$@"
fi
exec "$@"
