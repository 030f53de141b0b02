"""The portal's benchmarks: `make bench`, `make bench-capacity`, `make bench-sandbox`, `make bench-slow-clients`.

One module per job (BENCHMARKS.md lists them); the portal's own code is reached only through
`bench.portal_api`, so a reorganisation of `journeys/` is followed in one file.
"""
