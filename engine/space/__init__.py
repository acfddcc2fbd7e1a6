"""Step 2: what may vary — the spec, the layer registry, shape inference, templates, code generation."""
