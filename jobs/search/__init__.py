"""Publication into Elasticsearch: the documents gold may show (published cells, data health, quarantine
counts), their index templates, the atomic alias swap of each publication, and the analysts' queries."""
