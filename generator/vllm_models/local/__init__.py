"""Run a rendered release on this machine: the routers the chart renders, each in front of one simulated
engine per model, on loopback. The e2e tier and the quickstart's local endpoint both use it."""
