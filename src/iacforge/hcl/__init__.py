"""HCL handling: extract code from LLM text, parse it, normalise it for offline runs."""
