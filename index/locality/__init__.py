"""Where an article happened: the gazetteer of provinces and districts, and finding them in a text."""
