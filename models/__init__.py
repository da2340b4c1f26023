"""Pixels to vectors: safe image loading, embedders (content, style, perceptual hash) and the
model registry. Knows nothing of creators, databases or HTTP."""
