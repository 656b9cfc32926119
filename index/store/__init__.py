"""The index on disk: the schema, opening and committing an index, writing segments, the posting files."""
