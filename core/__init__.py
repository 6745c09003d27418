"""The bottom layer: settings, metrics, logs, the request context, the fault throttle and the
library-shortcuts switch. It imports nothing of ours (docs/ARCHITECTURE.md, "Layers")."""
