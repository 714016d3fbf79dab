"""What a model file says about itself, and what other tools wrote beside it (no database)."""
