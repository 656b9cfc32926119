"""Reading articles: raw page text, folders of it and JSON lines records, and the dates news sites write."""
