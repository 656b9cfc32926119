"""What can be wrong with an index directory, said so that the user knows what to do."""


class IndexUnavailable(Exception):
    """The index cannot be written or read; the message says which and why."""


class RebuildNeeded(IndexUnavailable):
    """This version cannot read the whole index (made by another version, or segments merged by another
    program): `--rebuild` replaces it."""


class IndexDamaged(IndexUnavailable):
    """A file of the index is not what vnsearch wrote (truncated, overwritten, missing): `--rebuild`
    makes the index anew from the articles."""

    def __init__(self, path, why):
        super().__init__(f"{path} is damaged ({why}); run `vnsearch index --rebuild` to make the index anew")
        self.path = str(path)
