"""Running the checks on files: configuration, discovery, the lint and fix pipelines, cache, workers."""
