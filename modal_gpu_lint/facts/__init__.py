"""Facts about Modal and models: the GPU catalog, model sizes, Modal's API table, the spec grammar."""
