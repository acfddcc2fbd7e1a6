"""Step 1 of the flow: read a file, profile its columns, turn it into model arrays and splits."""
