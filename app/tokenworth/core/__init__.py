"""Domain layer: models, database, pricing, analytics. Never imports Qt."""
