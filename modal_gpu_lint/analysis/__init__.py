"""Reading a file: parse, scopes and values, Modal call sites, function bodies, GPU requests."""
