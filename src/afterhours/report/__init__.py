"""`afterhours report`: what happened after hours, from the state store, as one
self-contained HTML file, CSV or JSON (build: the pure figures; gather: the state's reads;
html and tabular: the renderings; command: the CLI)."""
