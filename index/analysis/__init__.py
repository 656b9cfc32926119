"""Vietnamese text into index terms: normalizing, pyvi's segmentation (its CRF in numpy), the Whoosh
analyzers, and the same terms as numbered arrays for fast indexing."""
