"""Our own TFX components: the data gate, the curated-schema importer and the blessed-only pusher."""
