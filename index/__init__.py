"""The indexer, by concern: `sources` reads articles, `analysis` turns Vietnamese text into terms,
`locality` finds where an article happened, `store` owns the index on disk (Whoosh and the posting
files); `writer` runs an indexing pass through them."""
